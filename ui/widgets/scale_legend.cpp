#include "widgets/scale_legend.h"

#include "charts/sensitivity_heatmap.h"

#include <QLinearGradient>
#include <QPainter>

#include <algorithm>

namespace qs {

namespace {
constexpr int kBarWidth = 160;   // as wide as the room allows, up to this
constexpr int kMinBarWidth = 48; // and down to this (the maps' column of a 1280-pixel window)
constexpr int kSteps = 8;
} // namespace

ScaleLegend::ScaleLegend(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Maximum, QSizePolicy::Fixed);
}

void ScaleLegend::setScale(const QString& caption, const QString& low, const QString& high,
                           bool higherIsBetter) {
    m_caption = caption;
    m_low = low;
    m_high = high;
    m_higherIsBetter = higherIsBetter;
    updateGeometry();
    update();
}

int ScaleLegend::textWidth() const {
    const QFontMetrics fm = fontMetrics();
    return fm.horizontalAdvance(m_caption) + fm.horizontalAdvance(m_low) +
           fm.horizontalAdvance(m_high) + 26;
}

QSize ScaleLegend::sizeHint() const {
    return {textWidth() + kBarWidth, fontMetrics().height() + 8};
}

QSize ScaleLegend::minimumSizeHint() const {
    return {textWidth() + kMinBarWidth, fontMetrics().height() + 8};
}

void ScaleLegend::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QFontMetrics fm = fontMetrics();
    int x = 0;
    const QRect all = rect();
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(x, 0, fm.horizontalAdvance(m_caption) + 8, all.height()),
               Qt::AlignVCenter | Qt::AlignLeft, m_caption);
    x += fm.horizontalAdvance(m_caption) + 10;
    p.drawText(QRect(x, 0, fm.horizontalAdvance(m_low) + 4, all.height()),
               Qt::AlignVCenter | Qt::AlignLeft, m_low);
    x += fm.horizontalAdvance(m_low) + 6;
    const int bar = std::clamp(all.width() - textWidth(), kMinBarWidth, kBarWidth);
    QLinearGradient g(x, 0, x + bar, 0);
    for (int k = 0; k <= kSteps; ++k) {
        const double t = double(k) / kSteps;
        g.setColorAt(t, SensitivityHeatmap::scaleColour(m_higherIsBetter ? t : 1 - t));
    }
    p.fillRect(QRect(x, 4, bar, all.height() - 8), g);
    x += bar + 6;
    p.drawText(QRect(x, 0, fm.horizontalAdvance(m_high) + 4, all.height()),
               Qt::AlignVCenter | Qt::AlignLeft, m_high);
}

} // namespace qs
