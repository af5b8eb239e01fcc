#include "widgets/error_map_view.h"

#include "charts/sensitivity_heatmap.h"
#include "number_format.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace qs {

namespace {
constexpr int kTitleHeight = 20;
constexpr int kMarginal = 36; // width of the row bars, height of the column bars
constexpr int kGap = 4;
const QColor kBarColour(0x55, 0x55, 0x55);
} // namespace

ErrorMapView::ErrorMapView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
}

QSize ErrorMapView::minimumSizeHint() const {
    return {200, 150};
}

void ErrorMapView::setMap(const QString& spec, const QColor& colour, const ErrorMap& map) {
    m_spec = spec;
    m_colour = colour;
    m_map = map;
    update();
}

void ErrorMapView::clear() {
    m_spec.clear();
    m_map = ErrorMap{};
    update();
}

void ErrorMapView::setScaleMax(double rmse) {
    m_scaleMax = rmse;
    update();
}

QRect ErrorMapView::gridRect() const {
    const QRect area =
        rect().adjusted(2, kTitleHeight, -(kMarginal + kGap + 2), -(kMarginal + kGap + 2));
    if (m_map.gridRows <= 0 || m_map.gridCols <= 0 || area.width() <= 0 || area.height() <= 0)
        return {};
    // Square-ish tiles: keep the matrix's aspect within the area.
    const double cell =
        std::min(double(area.width()) / m_map.gridCols, double(area.height()) / m_map.gridRows);
    const int w = std::max(1, static_cast<int>(cell * m_map.gridCols));
    const int h = std::max(1, static_cast<int>(cell * m_map.gridRows));
    return {area.left(), area.top(), w, h};
}

namespace {
// RMS of rmse[band * width, (band + 1) * width) (the last band may be short).
double bandRms(const std::vector<double>& rmse, std::int64_t band, std::int64_t width) {
    const std::int64_t i0 = band * width;
    const std::int64_t i1 = std::min<std::int64_t>(std::int64_t(rmse.size()), i0 + width);
    double s = 0;
    for (std::int64_t i = i0; i < i1; ++i)
        s += rmse[size_t(i)] * rmse[size_t(i)];
    return i1 > i0 ? std::sqrt(s / double(i1 - i0)) : 0;
}
} // namespace

double ErrorMapView::rowBand(int gridRow) const {
    return bandRms(m_map.rowRmse, gridRow, m_map.tileRows);
}

double ErrorMapView::colBand(int gridCol) const {
    return bandRms(m_map.colRmse, gridCol, m_map.tileCols);
}

std::pair<int, int> ErrorMapView::tileAt(const QPoint& pos) const {
    const QRect g = gridRect();
    if (!g.isValid() || !g.contains(pos))
        return {-1, -1};
    const int gr = std::min(m_map.gridRows - 1, (pos.y() - g.top()) * m_map.gridRows / g.height());
    const int gc = std::min(m_map.gridCols - 1, (pos.x() - g.left()) * m_map.gridCols / g.width());
    return {gr, gc};
}

void ErrorMapView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setPen(m_colour.isValid() ? m_colour : palette().color(QPalette::Text));
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.drawText(QRect(2, 0, width() - 4, kTitleHeight), Qt::AlignLeft | Qt::AlignVCenter,
               m_spec.isEmpty() ? tr("no result") : m_spec);
    p.setFont(font());
    const QRect g = gridRect();
    if (!g.isValid() || m_map.tileRmse.empty())
        return;
    const double top = m_scaleMax > 0 ? m_scaleMax : m_map.maxTileRmse();
    const double tw = double(g.width()) / m_map.gridCols, th = double(g.height()) / m_map.gridRows;
    for (int r = 0; r < m_map.gridRows; ++r)
        for (int c = 0; c < m_map.gridCols; ++c) {
            const double v = m_map.tileRmse[size_t(r) * m_map.gridCols + c];
            const QRectF cell(g.left() + c * tw, g.top() + r * th, tw + 0.5, th + 0.5);
            p.fillRect(cell, SensitivityHeatmap::scaleColour(top > 0 ? v / top : 0));
        }
    double rowMax = 0, colMax = 0;
    for (int r = 0; r < m_map.gridRows; ++r)
        rowMax = std::max(rowMax, rowBand(r));
    for (int c = 0; c < m_map.gridCols; ++c)
        colMax = std::max(colMax, colBand(c));
    for (int r = 0; r < m_map.gridRows && rowMax > 0; ++r)
        p.fillRect(QRectF(g.right() + kGap, g.top() + r * th, kMarginal * rowBand(r) / rowMax,
                          std::max(1.0, th - 0.5)),
                   kBarColour);
    for (int c = 0; c < m_map.gridCols && colMax > 0; ++c) {
        const double h = kMarginal * colBand(c) / colMax;
        p.fillRect(QRectF(g.left() + c * tw, g.bottom() + kGap, std::max(1.0, tw - 0.5), h),
                   kBarColour);
    }
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(QRect(g.right() + kGap, g.bottom() + kGap, kMarginal + 40, kMarginal),
               Qt::AlignLeft | Qt::AlignTop, tr("row/col\nRMSE"));
}

bool ErrorMapView::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const auto [r, c] = tileAt(help->pos());
        if (r >= 0) {
            const std::int64_t r0 = r * m_map.tileRows, c0 = c * m_map.tileCols;
            const std::int64_t r1 = std::min(m_map.rows, r0 + m_map.tileRows) - 1;
            const std::int64_t c1 = std::min(m_map.cols, c0 + m_map.tileCols) - 1;
            QToolTip::showText(
                help->globalPos(),
                tr("%1\nrows %2–%3, columns %4–%5\nRMSE %6 (rows %7, columns %8)")
                    .arg(m_spec)
                    .arg(r0)
                    .arg(r1)
                    .arg(c0)
                    .arg(c1)
                    .arg(formatNumber(m_map.tileRmse[size_t(r) * m_map.gridCols + c]),
                         formatNumber(rowBand(r)), formatNumber(colBand(c))),
                this);
        } else {
            QToolTip::hideText();
        }
        return true;
    }
    return QWidget::event(event);
}

} // namespace qs
