#include "widgets/table_columns.h"

#include "widgets/tensor_names.h"

#include <QApplication>
#include <QHeaderView>
#include <QStyle>
#include <QStyledItemDelegate>
#include <QTableView>

#include <algorithm>
#include <optional>

namespace qs {
namespace {

// The names' column shows the names shortened to its width, all to one shortTensorLevel (so that
// they stay aligned; any still too wide elided in the middle), on one line (a wrapped name would
// break at a dot and show its first piece); the others keep the view's settings. The size hint
// stays the whole name's, so that the column is fitted to whole names where there is room.
class ShortNames : public QStyledItemDelegate {
public:
    ShortNames(QObject* parent, int deepest) : QStyledItemDelegate(parent), m_deepest(deepest) {}

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QStyle* style = opt.widget ? opt.widget->style() : QApplication::style();
        // The text's width less the margins the style takes before it elides.
        const int margin =
            style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, opt.widget) + 1;
        const int width =
            style->subElementRect(QStyle::SE_ItemViewItemText, &opt, opt.widget).width() -
            2 * margin - 2; // QTextLayout elides a pixel or two short of horizontalAdvance
        opt.text = opt.fontMetrics.elidedText(
            shortTensorName(opt.text, levelFor(index, opt.fontMetrics, width)), Qt::ElideMiddle,
            width);
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);
    }

protected:
    void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override {
        QStyledItemDelegate::initStyleOption(option, index);
        option->textElideMode = Qt::ElideMiddle;
        option->features &= ~QStyleOptionViewItem::WrapText;
    }

private:
    // The column's level for `width`, measured again when the width or the names change. Only
    // ".weight" to drop (a tree's names, relative to their block): each name on its own.
    int levelFor(const QModelIndex& index, const QFontMetrics& fm, int width) const {
        if (m_deepest <= 1)
            return shortTensorLevel({index.data().toString()}, fm, width, m_deepest);
        const QAbstractItemModel* model = index.model();
        if (model != m_model) {
            if (m_model)
                m_model->disconnect(this);
            m_model = model;
            m_width = -1;
            auto stale = [this] { m_width = -1; };
            connect(model, &QAbstractItemModel::modelReset, this, stale);
            connect(model, &QAbstractItemModel::layoutChanged, this, stale);
            // Rows arriving (a sweep's, one at a time): only theirs are measured; a name that
            // fits at a level fits at every deeper one.
            connect(
                model, &QAbstractItemModel::rowsInserted, this,
                [this, column = index.column()](const QModelIndex& parent, int first, int last) {
                    if (m_width < 0 || !m_fm || !m_model)
                        return;
                    QStringList names;
                    for (int r = first; r <= last; ++r)
                        names << m_model->index(r, column, parent).data().toString();
                    m_level = std::max(m_level, shortTensorLevel(names, *m_fm, m_width, m_deepest));
                });
            connect(model, &QAbstractItemModel::rowsRemoved, this, stale);
            connect(model, &QAbstractItemModel::destroyed, this, [this] { m_model = nullptr; });
            connect(model, &QAbstractItemModel::dataChanged, this,
                    [this, column = index.column()](const QModelIndex& a, const QModelIndex& b) {
                        if (a.column() <= column && column <= b.column())
                            m_width = -1;
                    });
        }
        if (width != m_width) {
            QStringList names;
            for (int r = 0; r < model->rowCount(index.parent()); ++r)
                names << model->index(r, index.column(), index.parent()).data().toString();
            m_level = shortTensorLevel(names, fm, width, m_deepest);
            m_width = width;
            m_fm = fm;
        }
        return m_level;
    }

    int m_deepest;
    mutable const QAbstractItemModel* m_model = nullptr;
    mutable int m_width = -1, m_level = 0;
    mutable std::optional<QFontMetrics> m_fm; // what m_level was measured with
};

} // namespace

void shortenNames(QAbstractItemView* view, int namesColumn, int deepest) {
    view->setItemDelegateForColumn(namesColumn, new ShortNames(view, deepest));
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
