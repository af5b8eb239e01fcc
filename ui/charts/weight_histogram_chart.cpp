#include "charts/weight_histogram_chart.h"

#include "charts/chart_style.h"
#include "number_format.h"

#include <QAreaSeries>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMenu>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace qs {
namespace {
constexpr size_t kDenseLevels = 64;
constexpr double kDenseRugHeight = 0.04; // of the plot's height, along its top
} // namespace

WeightHistogramChart::WeightHistogramChart(QWidget* parent)
    : ChartView(tr("Weights and levels"), parent), m_outline(new QLineSeries(this)),
      m_base(new QLineSeries(this)), m_levelSeries(new QLineSeries), m_x(new QValueAxis),
      m_yLinear(new QValueAxis), m_yLog(new QLogValueAxis), m_yLevels(new QValueAxis) {
    setRubberBand(QChartView::HorizontalRubberBand);
    m_area = new QAreaSeries(m_outline, m_base);
    m_area->setName(tr("weights"));
    m_area->setBrush(dataFillColor());
    m_area->setPen(QPen(dataLineColor(), 1.0));
    chart()->addSeries(m_area);
    chart()->addSeries(m_levelSeries);

    styleAxis(m_x, tr("weight value"));
    styleAxis(m_yLinear, tr("count"));
    styleAxis(m_yLog, tr("count (log)"));
    m_yLog->setLabelFormat(QStringLiteral("%g"));
    m_yLog->setBase(10);
    m_yLog->setMinorTickCount(-1);
    m_yLevels->setRange(0, 1);
    m_yLevels->setVisible(false);
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_yLinear, Qt::AlignLeft);
    chart()->addAxis(m_yLevels, Qt::AlignRight);
    m_area->attachAxis(m_x);
    m_area->attachAxis(m_yLinear);
    m_levelSeries->attachAxis(m_x);
    m_levelSeries->attachAxis(m_yLevels);
    m_yLog->setParent(this); // owned here while detached from the chart

    connect(m_area, &QAreaSeries::hovered, this, &WeightHistogramChart::onBinHovered);
    connect(m_levelSeries, &QLineSeries::hovered, this, &WeightHistogramChart::onLevelHovered);
}

void WeightHistogramChart::setPlots(const HistogramPlot& weights, const std::vector<float>& levels,
                                    const QList<QPointF>& levelLines, const QColor& schemeColour) {
    chart()->zoomReset();
    m_plot = weights;
    m_levels = levels;
    // Dense grids (int8, fp8: 250 levels and more) become a rug of short ticks along the top:
    // as full-height translucent lines they took Qt's raster engine 0.3 s to draw (each line a
    // fill handed to its painting threads) and hid the histogram behind a tint anyway.
    const bool dense = levels.size() > kDenseLevels;
    QColor c = schemeColour;
    c.setAlpha(dense ? 160 : 200);
    m_levelSeries->setPen(QPen(c, dense ? 1.0 : 1.2));
    if (dense) {
        // Along the top, in the counts axis' headroom (the peak reaches 1/1.05 of it): along
        // the bottom, 255 ticks a pixel apart merged into a band that hid the tails.
        QList<QPointF> rug = levelLines;
        for (QPointF& p : rug)
            p.setY(1.0 - kDenseRugHeight + std::min(p.y(), 1.0) * kDenseRugHeight);
        m_levelSeries->replace(rug);
    } else {
        m_levelSeries->replace(levelLines);
    }
    applyOutline();
    fitToData();
}

double WeightHistogramChart::levelsBottom() const {
    double bottom = 1.0;
    for (const QPointF& p : m_levelSeries->points())
        bottom = std::min(bottom, p.y());
    return bottom;
}

void WeightHistogramChart::clear() {
    m_plot = HistogramPlot{};
    m_levels.clear();
    m_levelSeries->clear();
    m_outline->clear();
    m_base->clear();
}

void WeightHistogramChart::setLogScale(bool on) {
    if (on == m_logScale)
        return;
    m_logScale = on;
    QAbstractAxis* from = on ? static_cast<QAbstractAxis*>(m_yLinear) : m_yLog;
    QAbstractAxis* to = on ? static_cast<QAbstractAxis*>(m_yLog) : m_yLinear;
    m_area->detachAxis(from);
    chart()->removeAxis(from);
    from->setParent(this);
    chart()->addAxis(to, Qt::AlignLeft);
    m_area->attachAxis(to);
    applyOutline();
    fitToData();
    Q_EMIT logScaleChanged(on);
}

void WeightHistogramChart::applyOutline() {
    const double floor = m_logScale ? HistogramPlot::kLogFloor : 0.0;
    m_outline->replace(m_logScale ? m_plot.log : m_plot.linear);
    if (m_plot.isEmpty())
        m_base->clear();
    else
        m_base->replace(QList<QPointF>{{m_plot.lo, floor}, {m_plot.hi, floor}});
}

void WeightHistogramChart::fitToData() {
    if (m_plot.isEmpty())
        return;
    const auto [lo, hi] = spanWithLevels(m_plot.lo, m_plot.hi, m_levels);
    const double pad = 0.02 * (hi - lo);
    setNiceRange(m_x, lo - pad, hi + pad, xTickBudget(8));
    const double top = std::max(1.0, m_plot.maxCount);
    setNiceRange(m_yLinear, 0, top * 1.05, 5);
    m_yLog->setRange(HistogramPlot::kLogFloor, std::pow(10.0, std::ceil(std::log10(top * 1.5))));
}

void WeightHistogramChart::addContextActions(QMenu* menu) {
    QAction* log = menu->addAction(tr("Log scale"));
    log->setCheckable(true);
    log->setChecked(m_logScale);
    connect(log, &QAction::toggled, this, &WeightHistogramChart::setLogScale);
}

void WeightHistogramChart::onBinHovered(const QPointF& point, bool state) {
    const int bin = m_plot.binAt(point.x());
    if (!state || bin < 0) {
        hideHoverText();
        return;
    }
    showHoverText(m_plot.binText(bin));
}

void WeightHistogramChart::onLevelHovered(const QPointF& point, bool state) {
    if (!state || m_levels.empty()) {
        hideHoverText();
        return;
    }
    const auto it = std::min_element(m_levels.begin(), m_levels.end(), [&](float a, float b) {
        return std::abs(a - point.x()) < std::abs(b - point.x());
    });
    showHoverText(tr("level %1 of %2: %3")
                      .arg(it - m_levels.begin())
                      .arg(m_levels.size())
                      .arg(formatNumber(*it, 6)));
}

QString WeightHistogramChart::csvData() const {
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
    if (!m_levels.empty()) {
        csv += QStringLiteral("\nlevel_index,level\n");
        for (size_t i = 0; i < m_levels.size(); ++i)
            csv +=
                QStringLiteral("%1,%2\n").arg(i).arg(static_cast<double>(m_levels[i]), 0, 'g', 9);
    }
    return csv;
}

} // namespace qs
