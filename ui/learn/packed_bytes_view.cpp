#include "learn/packed_bytes_view.h"

#include <QFontDatabase>
#include <QMouseEvent>
#include <QPainter>

namespace qs {
namespace {

constexpr int kBoxW = 82;
constexpr int kBoxH = 66;
constexpr int kGap = 5;
constexpr int kMargin = 4;

} // namespace

PackedBytesView::PackedBytesView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("packedBytesView"));
    QSizePolicy policy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    setSizePolicy(policy);
    setToolTip(tr("The block's bytes as stored: hex, then the 8 bits as high nibble | low "
                  "nibble, then the element each nibble holds. Click a nibble to select it."));
    setFocusPolicy(Qt::ClickFocus);
}

QColor PackedBytesView::fieldColour(FieldKind kind) {
    switch (kind) {
    case FieldKind::Codes:
        return QColor(0x2E, 0x86, 0xAB, 70);
    case FieldKind::Scale:
    case FieldKind::SuperScale:
    case FieldKind::Absmax:
    case FieldKind::SharedExponent:
    case FieldKind::BlockScale:
    case FieldKind::TensorScale:
        return QColor(0xE0, 0x7A, 0x5F, 110);
    case FieldKind::ZeroPoint:
    case FieldKind::SuperMin:
        return QColor(0x3B, 0xA5, 0x5C, 100);
    case FieldKind::SubScales:
    case FieldKind::SubScale:
    case FieldKind::SubMin:
        return QColor(0xED, 0xAE, 0x49, 120);
    }
    return QColor(128, 128, 128, 60);
}

void PackedBytesView::setWalk(const BlockWalk& walk) {
    m_walk = walk;
    m_low.assign(walk.bytes.size(), -1);
    m_high.assign(walk.bytes.size(), -1);
    for (std::size_t i = 0; i < walk.elements.size(); ++i) {
        const ElementWalk& e = walk.elements[i];
        (e.highNibble ? m_high : m_low)[e.byte] = static_cast<int>(i);
    }
    if (m_selected >= static_cast<int>(walk.elements.size()))
        m_selected = -1;
    setMinimumHeight(heightForWidth(width()));
    updateGeometry();
    update();
}

void PackedBytesView::setSelectedElement(int element) {
    m_selected = element;
    update();
}

QString PackedBytesView::byteText(std::size_t i) const {
    return i < m_walk.bytes.size() ? QStringLiteral("0x%1")
                                         .arg(m_walk.bytes[i], 2, 16, QLatin1Char('0'))
                                         .toUpper()
                                         .replace(QLatin1String("0X"), QLatin1String("0x"))
                                   : QString();
}

int PackedBytesView::columns(int width) const {
    return std::max(1, (width - 2 * kMargin + kGap) / (kBoxW + kGap));
}

int PackedBytesView::heightForWidth(int width) const {
    const int n = static_cast<int>(m_walk.bytes.size());
    const int cols = columns(width);
    const int rows = (n + cols - 1) / cols;
    return 2 * kMargin + rows * (kBoxH + kGap);
}

QSize PackedBytesView::sizeHint() const {
    return {10 * (kBoxW + kGap), heightForWidth(10 * (kBoxW + kGap))};
}

QRect PackedBytesView::boxRect(std::size_t i, int cols) const {
    const int r = static_cast<int>(i) / cols, c = static_cast<int>(i) % cols;
    return {kMargin + c * (kBoxW + kGap), kMargin + r * (kBoxH + kGap), kBoxW, kBoxH};
}

FieldKind PackedBytesView::fieldOf(std::size_t byte) const {
    for (const ByteField& f : m_walk.fields)
        if (byte >= f.offset && byte < f.offset + f.size)
            return f.kind;
    return FieldKind::Codes;
}

void PackedBytesView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    setMinimumHeight(heightForWidth(width()));
}

void PackedBytesView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::Text);
    QColor dim = text;
    dim.setAlpha(150);
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    QFont big = mono;
    big.setBold(true);
    big.setPointSizeF(font().pointSizeF() * 1.15);
    const int cols = columns(width());
    for (std::size_t i = 0; i < m_walk.bytes.size(); ++i) {
        const QRect box = boxRect(i, cols);
        const bool codes = fieldOf(i) == FieldKind::Codes;
        p.setPen(QPen(dim, 1));
        p.setBrush(fieldColour(fieldOf(i)));
        p.drawRoundedRect(box.adjusted(0, 0, -1, -1), 4, 4);
        const std::uint8_t b = m_walk.bytes[i];
        p.setPen(dim);
        p.setFont(small);
        p.drawText(box.adjusted(4, 2, -4, 0), Qt::AlignLeft | Qt::AlignTop, tr("byte %1").arg(i));
        p.setPen(text);
        p.setFont(big);
        p.drawText(box.adjusted(0, 12, 0, 0), Qt::AlignHCenter | Qt::AlignTop, byteText(i));
        // Bits, high nibble left as they are written; each nibble in its own cell.
        p.setFont(mono);
        const int y = box.top() + 32;
        const QRect hi(box.left() + 3, y, kBoxW / 2 - 4, 16),
            lo(box.center().x() + 1, y, kBoxW / 2 - 4, 16);
        for (const auto& [rect, value, element] :
             {std::tuple{hi, b >> 4, m_high[i]}, std::tuple{lo, b & 0xF, m_low[i]}}) {
            if (codes && element >= 0 && element == m_selected) {
                p.setPen(QPen(QColor(0xD1, 0x49, 0x5B), 2));
                p.setBrush(Qt::NoBrush);
                p.drawRect(rect.adjusted(-1, -1, 1, 1));
            }
            p.setPen(text);
            p.drawText(rect, Qt::AlignCenter,
                       QStringLiteral("%1").arg(value, 4, 2, QLatin1Char('0')));
            p.setFont(small);
            p.setPen(dim);
            if (codes && element >= 0)
                p.drawText(rect.translated(0, 15), Qt::AlignCenter,
                           QStringLiteral("e%1").arg(element));
            p.setFont(mono);
        }
    }
}

void PackedBytesView::mousePressEvent(QMouseEvent* event) {
    const int cols = columns(width());
    for (std::size_t i = 0; i < m_walk.bytes.size(); ++i) {
        const QRect box = boxRect(i, cols);
        if (!box.contains(event->position().toPoint()))
            continue;
        const bool high = event->position().x() < box.center().x();
        const int element = (high ? m_high : m_low)[i];
        if (element >= 0) {
            setSelectedElement(element);
            Q_EMIT elementClicked(element);
        }
        return;
    }
}

} // namespace qs
