#include "widgets/table_columns.h"

#include <QHeaderView>
#include <QStyledItemDelegate>
#include <QTableView>

#include <algorithm>

namespace qs {
namespace {

// The names' column elides at the left, on one line (a wrapped name would break at a dot and show
// its first piece); the others keep the view's settings.
class LeftElide : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override {
        QStyledItemDelegate::initStyleOption(option, index);
        option->textElideMode = Qt::ElideLeft;
        option->features &= ~QStyleOptionViewItem::WrapText;
    }
};

} // namespace

void elideNamesAtLeft(QTableView* view, int namesColumn) {
    view->setItemDelegateForColumn(namesColumn, new LeftElide(view)); // layer, module, leaf
}

void fitColumnsToView(QTableView* view, int namesColumn, int minWidth) {
    view->resizeColumnsToContents();
    QHeaderView* header = view->horizontalHeader();
    int total = 0;
    for (int c = 0; c < header->count(); ++c)
        if (!header->isSectionHidden(c))
            total += header->sectionSize(c);
    const int available = view->viewport()->width();
    const int names = header->sectionSize(namesColumn);
    if (total <= available || names <= minWidth)
        return;
    header->resizeSection(namesColumn, std::max(minWidth, names - (total - available)));
}

} // namespace qs
