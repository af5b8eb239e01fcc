#include "widgets/flow_layout.h"

#include <QSpacerItem>
#include <QWidget>

#include <algorithm>

namespace qs {
namespace {

// Hidden widgets take no room; a spacer (addSpacing) does, though Qt calls it empty.
bool takesRoom(QLayoutItem* item) {
    return !item->isEmpty() || item->spacerItem() != nullptr;
}

} // namespace

FlowLayout::FlowLayout(QWidget* parent, int hSpacing, int vSpacing)
    : QLayout(parent), m_hSpacing(hSpacing), m_vSpacing(vSpacing) {
    setContentsMargins(0, 0, 0, 0);
}

FlowLayout::~FlowLayout() {
    while (QLayoutItem* item = takeAt(0))
        delete item;
}

void FlowLayout::addItem(QLayoutItem* item) {
    m_items.append(item);
}

void FlowLayout::addSpacing(int size) {
    addItem(new QSpacerItem(size, 0, QSizePolicy::Fixed, QSizePolicy::Minimum));
}

int FlowLayout::count() const {
    return static_cast<int>(m_items.size());
}

QLayoutItem* FlowLayout::itemAt(int index) const {
    return index >= 0 && index < m_items.size() ? m_items.at(index) : nullptr;
}

QLayoutItem* FlowLayout::takeAt(int index) {
    return index >= 0 && index < m_items.size() ? m_items.takeAt(index) : nullptr;
}

Qt::Orientations FlowLayout::expandingDirections() const {
    return {};
}

bool FlowLayout::hasHeightForWidth() const {
    return true;
}

int FlowLayout::heightForWidth(int width) const {
    return arrange(QRect(0, 0, width, 0), false);
}

QSize FlowLayout::minimumSize() const {
    QSize size;
    for (const QLayoutItem* item : m_items)
        if (!item->isEmpty())
            size = size.expandedTo(item->minimumSize());
    const QMargins m = contentsMargins();
    return size + QSize(m.left() + m.right(), m.top() + m.bottom());
}

QSize FlowLayout::sizeHint() const {
    // One line: the width it would take unwrapped, the height of its tallest item.
    int width = 0, height = 0;
    for (QLayoutItem* item : m_items) {
        if (!takesRoom(item))
            continue;
        width += (width > 0 ? m_hSpacing : 0) + item->sizeHint().width();
        height = std::max(height, item->sizeHint().height());
    }
    const QMargins m = contentsMargins();
    return {width + m.left() + m.right(), height + m.top() + m.bottom()};
}

void FlowLayout::setGeometry(const QRect& rect) {
    QLayout::setGeometry(rect);
    arrange(rect, true);
}

int FlowLayout::arrange(const QRect& rect, bool apply) const {
    const QRect area = rect.marginsRemoved(contentsMargins());
    int x = area.x(), y = area.y(), lineHeight = 0;
    QList<QPair<QLayoutItem*, QPoint>> line; // the current line's items, placed when it ends
    auto endLine = [&] {
        if (apply)
            for (const auto& [item, at] : line) // centred vertically on the line
                item->setGeometry(
                    QRect(QPoint(at.x(), at.y() + (lineHeight - item->sizeHint().height()) / 2),
                          item->sizeHint()));
        line.clear();
    };
    for (QLayoutItem* item : m_items) {
        if (!takesRoom(item))
            continue;
        const QSize size = item->sizeHint();
        const bool spacer = item->spacerItem() != nullptr;
        if (x > area.x() && x + size.width() > area.right() + 1) {
            endLine();
            x = area.x();
            y += lineHeight + m_vSpacing;
            lineHeight = 0;
            if (spacer) // a gap at the start of a line is dropped
                continue;
        }
        line.append({item, QPoint(x, y)});
        x += size.width() + m_hSpacing;
        lineHeight = std::max(lineHeight, size.height());
    }
    endLine();
    const QMargins m = contentsMargins();
    return y + lineHeight - rect.y() + m.bottom();
}

} // namespace qs
