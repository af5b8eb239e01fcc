#include "charts/compare_transfer_chart.h"

#include "charts/chart_style.h"
#include "charts/wrapped_legend.h"
#include "number_format.h"

#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>

namespace qs {

CompareTransferChart::CompareTransferChart(QWidget* parent)
    : ChartView(tr("Transfer functions"), parent), m_identity(new QLineSeries), m_x(new QValueAxis),
      m_y(new QValueAxis) {
    m_identity->setPen(QPen(referenceColor(), 1.0, Qt::DashLine));
    m_identity->setName(tr("y = x"));
    chart()->addSeries(m_identity);
    styleAxis(m_x, tr("input value"));
    styleAxis(m_y, tr("reconstructed value"));
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    m_identity->attachAxis(m_x);
    m_identity->attachAxis(m_y);
    for (int i = 0; i < kSlots; ++i) {
        auto* s = new QLineSeries;
        m_slots[static_cast<size_t>(i)].series = s;
        chart()->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        connect(s, &QLineSeries::hovered, this,
                [this, i](const QPointF& p, bool state) { onHovered(i, p, state); });
    }
    QLegend* legend = chart()->legend();
    QFont f = legend->font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    legend->setFont(f);
    m_legend = new WrappedLegend(chart()); // the names wrap where one row would cut them
    m_legend->setShown(m_identity, false);
    for (const Slot& s : m_slots)
        m_legend->setShown(s.series, false);
}

void CompareTransferChart::setRange(double lo, double hi) {
    chart()->zoomReset();
    m_lo = lo;
    m_hi = hi;
    m_identity->replace(QList<QPointF>{{lo, lo}, {hi, hi}});
    fitToData();
}

void CompareTransferChart::setSlot(int slot, const QString& spec, const QList<QPointF>& staircase,
                                   const QColor& colour, bool dashed) {
    if (slot < 0 || slot >= kSlots)
        return;
    Slot& s = m_slots[static_cast<size_t>(slot)];
    s.spec = spec;
    s.staircase = staircase;
    QPen pen(colour, staircase.size() > 128 ? 1.0 : 1.8);
    if (dashed)
        pen.setStyle(Qt::DashLine);
    s.series->setPen(pen);
    s.series->setName(spec);
    s.series->replace(staircase);
    m_legend->setShown(s.series, true);
    fitToData();
}

void CompareTransferChart::clearSlot(int slot) {
    if (slot < 0 || slot >= kSlots)
        return;
    Slot& s = m_slots[static_cast<size_t>(slot)];
    s.spec.clear();
    s.staircase.clear();
    s.series->clear();
    m_legend->setShown(s.series, false);
}

void CompareTransferChart::clear() {
    m_lo = m_hi = 0;
    m_identity->clear();
    for (int i = 0; i < kSlots; ++i)
        clearSlot(i);
}

int CompareTransferChart::stepCount(int slot) const {
    if (slot < 0 || slot >= kSlots)
        return 0;
    // A staircase has two points per riser plus its two ends.
    const auto n = m_slots[static_cast<size_t>(slot)].staircase.size();
    return n < 2 ? 0 : static_cast<int>(n / 2);
}

void CompareTransferChart::fitToData() {
    if (!(m_hi > m_lo))
        return;
    double lo = m_lo, hi = m_hi;
    for (const Slot& s : m_slots)
        for (const QPointF& p : s.staircase) {
            lo = std::min(lo, p.y());
            hi = std::max(hi, p.y());
        }
    const double pad = 0.03 * (hi - lo);
    setNiceRange(m_x, m_lo - pad, m_hi + pad, xTickBudget(6));
    setNiceRange(m_y, lo - pad, hi + pad, 6);
}

void CompareTransferChart::onHovered(int slot, const QPointF& point, bool state) {
    const Slot& s = m_slots[static_cast<size_t>(slot)];
    if (!state || s.staircase.isEmpty()) {
        hideHoverText();
        return;
    }
    // The step under x: the last point at or left of it.
    double y = s.staircase.front().y();
    for (const QPointF& p : s.staircase) {
        if (p.x() > point.x())
            break;
        y = p.y();
    }
    showHoverText(
        tr("%1: x = %2 → x̂ = %3").arg(s.spec, formatNumber(point.x()), formatNumber(y, 6)));
}

QString CompareTransferChart::csvData() const {
    QString csv;
    for (const Slot& s : m_slots) {
        if (s.staircase.isEmpty())
            continue;
        if (csv.isEmpty())
            csv = QStringLiteral("scheme,x,reconstruction\n");
        for (const QPointF& p : s.staircase)
            csv += QStringLiteral("%1,%2,%3\n")
                       .arg(s.spec)
                       .arg(p.x(), 0, 'g', 9)
                       .arg(p.y(), 0, 'g', 9);
    }
    return csv;
}

} // namespace qs
