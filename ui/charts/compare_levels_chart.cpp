#include "charts/compare_levels_chart.h"

#include "charts/chart_style.h"
#include "number_format.h"

#include <QAreaSeries>
#include <QLineSeries>
#include <QValueAxis>

#include <tuple>

#include <algorithm>
#include <cmath>

namespace qs {
namespace {
constexpr size_t kDenseLevels = 64;
// Head room above the tallest bin for the lanes (the lanes sit in the top ~22% of the plot).
constexpr double kHeadRoom = 1.38;
} // namespace

CompareLevelsChart::CompareLevelsChart(QWidget* parent)
    : ChartView(tr("Level placement over the weights"), parent), m_outline(new QLineSeries(this)),
      m_base(new QLineSeries(this)), m_x(new QValueAxis), m_y(new QValueAxis),
      m_yLevels(new QValueAxis) {
    setRubberBand(QChartView::HorizontalRubberBand);
    m_area = new QAreaSeries(m_outline, m_base);
    m_area->setName(tr("weights"));
    m_area->setBrush(dataFillColor());
    m_area->setPen(QPen(dataLineColor(), 1.0));
    chart()->addSeries(m_area);
    styleAxis(m_x, tr("weight value"));
    styleAxis(m_y, tr("count"));
    m_yLevels->setRange(0, 1);
    m_yLevels->setVisible(false);
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    chart()->addAxis(m_yLevels, Qt::AlignRight);
    m_area->attachAxis(m_x);
    m_area->attachAxis(m_y);
    for (int i = 0; i < kSlots; ++i) {
        Slot& s = m_slots[static_cast<size_t>(i)];
        s.lines = new QLineSeries;
        s.rug = new QLineSeries;
        for (QLineSeries* series : {s.lines, s.rug}) {
            chart()->addSeries(series);
            series->attachAxis(m_x);
            series->attachAxis(m_yLevels);
            connect(series, &QLineSeries::hovered, this,
                    [this, i](const QPointF& p, bool state) { onLevelHovered(i, p, state); });
        }
    }
}

void CompareLevelsChart::setWeights(const HistogramPlot& weights) {
    chart()->zoomReset();
    m_plot = weights;
    m_outline->replace(m_plot.linear);
    if (m_plot.isEmpty())
        m_base->clear();
    else
        m_base->replace(QList<QPointF>{{m_plot.lo, 0.0}, {m_plot.hi, 0.0}});
    fitToData();
}

void CompareLevelsChart::setSlot(int slot, const QString& spec, const std::vector<float>& levels,
                                 const QList<QPointF>& lines, const QList<QPointF>& rug,
                                 const QColor& colour, bool dashed) {
    if (slot < 0 || slot >= kSlots)
        return;
    Slot& s = m_slots[static_cast<size_t>(slot)];
    s.spec = spec;
    s.levels = levels;
    const bool dense = levels.size() > kDenseLevels;
    QColor faint = colour;
    faint.setAlpha(dense ? 25 : 95);
    QPen linePen(faint, dense ? 0.6 : 1.0);
    QPen rugPen(colour, dense ? 0.8 : 2.0);
    if (dashed) {
        linePen.setStyle(Qt::DashLine);
        rugPen.setWidthF(rugPen.widthF() * 0.6);
    }
    s.lines->setPen(linePen);
    s.rug->setPen(rugPen);
    s.lines->setName(spec);
    s.rug->setName(spec);
    s.lines->replace(lines);
    s.rug->replace(rug);
    fitToData(); // the view takes in the levels too
}

void CompareLevelsChart::clearSlot(int slot) {
    if (slot < 0 || slot >= kSlots)
        return;
    Slot& s = m_slots[static_cast<size_t>(slot)];
    s.spec.clear();
    s.levels.clear();
    s.lines->clear();
    s.rug->clear();
}

void CompareLevelsChart::clear() {
    m_plot = HistogramPlot{};
    m_outline->clear();
    m_base->clear();
    for (int i = 0; i < kSlots; ++i)
        clearSlot(i);
}

int CompareLevelsChart::levelCount(int slot) const {
    return slot >= 0 && slot < kSlots
               ? static_cast<int>(m_slots[static_cast<size_t>(slot)].levels.size())
               : 0;
}

void CompareLevelsChart::fitToData() {
    if (m_plot.isEmpty())
        return;
    double lo = m_plot.lo, hi = m_plot.hi;
    for (const Slot& s : m_slots)
        std::tie(lo, hi) = spanWithLevels(lo, hi, s.levels);
    const double pad = 0.02 * (hi - lo);
    setNiceRange(m_x, lo - pad, hi + pad, xTickBudget(8));
    setNiceRange(m_y, 0, std::max(1.0, m_plot.maxCount) * kHeadRoom, 5);
}

void CompareLevelsChart::onLevelHovered(int slot, const QPointF& point, bool state) {
    const Slot& s = m_slots[static_cast<size_t>(slot)];
    if (!state || s.levels.empty()) {
        hideHoverText();
        return;
    }
    const auto it = std::min_element(s.levels.begin(), s.levels.end(), [&](float a, float b) {
        return std::abs(a - point.x()) < std::abs(b - point.x());
    });
    showHoverText(tr("%1 — level %2 of %3: %4")
                      .arg(s.spec)
                      .arg(it - s.levels.begin())
                      .arg(s.levels.size())
                      .arg(formatNumber(*it, 6)));
}

QString CompareLevelsChart::csvData() const {
    if (m_plot.isEmpty())
        return {};
    QString csv = QStringLiteral("bin_lo,bin_hi,count\n");
    const double w = m_plot.binWidth();
    for (size_t i = 0; i < m_plot.counts.size(); ++i) {
        const double x0 = m_plot.lo + static_cast<double>(i) * w;
        csv += QStringLiteral("%1,%2,%3\n")
                   .arg(x0, 0, 'g', 9)
                   .arg(x0 + w, 0, 'g', 9)
                   .arg(m_plot.counts[i]);
    }
    for (const Slot& s : m_slots) {
        if (s.levels.empty())
            continue;
        csv += QStringLiteral("\nscheme,level_index,level\n");
        for (size_t i = 0; i < s.levels.size(); ++i)
            csv += QStringLiteral("%1,%2,%3\n")
                       .arg(s.spec)
                       .arg(i)
                       .arg(static_cast<double>(s.levels[i]), 0, 'g', 9);
    }
    return csv;
}

} // namespace qs
