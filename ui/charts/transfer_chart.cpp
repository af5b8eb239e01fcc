#include "charts/transfer_chart.h"

#include "charts/chart_style.h"
#include "number_format.h"

#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace qs {

TransferChart::TransferChart(QWidget* parent)
    : ChartView(tr("Transfer function (widest group)"), parent), m_identity(new QLineSeries),
      m_stairs(new QLineSeries), m_x(new QValueAxis), m_y(new QValueAxis) {
    QPen ref(referenceColor(), 1.0, Qt::DashLine);
    m_identity->setPen(ref);
    m_identity->setName(tr("y = x"));
    chart()->addSeries(m_identity);
    chart()->addSeries(m_stairs);
    styleAxis(m_x, tr("input value"));
    styleAxis(m_y, tr("reconstructed value"));
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    for (QLineSeries* s : {m_identity, m_stairs}) {
        s->attachAxis(m_x);
        s->attachAxis(m_y);
    }
    connect(m_stairs, &QLineSeries::hovered, this, &TransferChart::onHovered);
}

void TransferChart::setPlot(const AnalysisPlots& plots, const QColor& schemeColour) {
    chart()->zoomReset();
    m_levels = plots.levels;
    m_staircase = plots.staircase;
    m_lo = plots.weights.lo;
    m_hi = plots.weights.hi;
    m_stairs->setPen(QPen(schemeColour, plots.levels.size() > 64 ? 1.0 : 1.8));
    m_stairs->replace(m_staircase);
    m_identity->replace(plots.identity);
    fitToData();
}

void TransferChart::clear() {
    m_levels.clear();
    m_staircase.clear();
    m_stairs->clear();
    m_identity->clear();
}

void TransferChart::fitToData() {
    if (!(m_hi > m_lo))
        return;
    double lo = m_lo, hi = m_hi;
    for (const QPointF& p : m_staircase) {
        lo = std::min(lo, p.y());
        hi = std::max(hi, p.y());
    }
    const double pad = 0.03 * (hi - lo);
    setNiceRange(m_x, m_lo - pad, m_hi + pad, xTickBudget(6));
    setNiceRange(m_y, lo - pad, hi + pad, 6);
}

void TransferChart::onHovered(const QPointF& point, bool state) {
    if (!state || m_levels.empty()) {
        hideHoverText();
        return;
    }
    const auto it = std::min_element(m_levels.begin(), m_levels.end(), [&](float a, float b) {
        return std::abs(a - point.x()) < std::abs(b - point.x());
    });
    showHoverText(tr("x = %1 → x̂ = %2").arg(formatNumber(point.x()), formatNumber(*it, 6)));
}

QString TransferChart::csvData() const {
    if (m_staircase.isEmpty())
        return {};
    QString csv = QStringLiteral("x,reconstruction\n");
    for (const QPointF& p : m_staircase)
        csv += QStringLiteral("%1,%2\n").arg(p.x(), 0, 'g', 9).arg(p.y(), 0, 'g', 9);
    return csv;
}

} // namespace qs
