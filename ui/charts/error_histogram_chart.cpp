#include "charts/error_histogram_chart.h"

#include "charts/chart_style.h"

#include <QAreaSeries>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace qs {

ErrorHistogramChart::ErrorHistogramChart(QWidget* parent)
    : ChartView(tr("Quantization error w − ŵ"), parent), m_outline(new QLineSeries(this)),
      m_base(new QLineSeries(this)), m_x(new QValueAxis), m_y(new QValueAxis) {
    setRubberBand(QChartView::HorizontalRubberBand);
    m_area = new QAreaSeries(m_outline, m_base);
    m_area->setName(tr("error"));
    chart()->addSeries(m_area);
    styleAxis(m_x, tr("error (original − reconstructed)"));
    styleAxis(m_y, tr("count"));
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    m_area->attachAxis(m_x);
    m_area->attachAxis(m_y);
    connect(m_area, &QAreaSeries::hovered, this, &ErrorHistogramChart::onHovered);
}

void ErrorHistogramChart::setPlot(const HistogramPlot& errors, const QColor& schemeColour) {
    chart()->zoomReset();
    m_plot = errors;
    QColor fill = schemeColour;
    fill.setAlpha(150);
    m_area->setBrush(fill);
    m_area->setPen(QPen(schemeColour.darker(120), 1.0));
    m_outline->replace(m_plot.linear);
    if (m_plot.isEmpty())
        m_base->clear();
    else
        m_base->replace(QList<QPointF>{{m_plot.lo, 0.0}, {m_plot.hi, 0.0}});
    fitToData();
}

void ErrorHistogramChart::clear() {
    m_plot = HistogramPlot{};
    m_outline->clear();
    m_base->clear();
}

void ErrorHistogramChart::fitToData() {
    if (m_plot.isEmpty())
        return;
    const double half = std::max(std::abs(m_plot.lo), std::abs(m_plot.hi));
    setNiceRange(m_x, -half, half, xTickBudget(6));
    setNiceRange(m_y, 0, std::max(1.0, m_plot.maxCount) * 1.05, 5);
}

void ErrorHistogramChart::onHovered(const QPointF& point, bool state) {
    const int bin = m_plot.binAt(point.x());
    if (!state || bin < 0) {
        hideHoverText();
        return;
    }
    showHoverText(m_plot.binText(bin, tr("error in ")));
}

QString ErrorHistogramChart::csvData() const {
    if (m_plot.isEmpty())
        return {};
    QString csv = QStringLiteral("error_lo,error_hi,count\n");
    const double w = m_plot.binWidth();
    for (size_t i = 0; i < m_plot.counts.size(); ++i) {
        const double x0 = m_plot.lo + static_cast<double>(i) * w;
        csv += QStringLiteral("%1,%2,%3\n")
                   .arg(x0, 0, 'g', 9)
                   .arg(x0 + w, 0, 'g', 9)
                   .arg(m_plot.counts[i]);
    }
    return csv;
}

} // namespace qs
