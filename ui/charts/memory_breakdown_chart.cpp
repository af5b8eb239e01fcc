#include "charts/memory_breakdown_chart.h"

#include "charts/chart_style.h"
#include "charts/wrapped_legend.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QHorizontalStackedBarSeries>
#include <QLegend>
#include <QValueAxis>

#include <algorithm>
#include <tuple>
#include <utility>

namespace qs {

namespace {
constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * kKiB;
constexpr double kGiB = 1024.0 * kMiB;

// The unit the axis counts in: GiB for models, MiB or KiB for small ones (a 10 MiB model's
// bars read 0.000-0.012 in GiB).
std::pair<double, QString> unitFor(double bytes) {
    if (bytes >= 0.5 * kGiB)
        return {kGiB, QStringLiteral("GiB")};
    if (bytes >= 0.5 * kMiB)
        return {kMiB, QStringLiteral("MiB")};
    return {kKiB, QStringLiteral("KiB")};
}
} // namespace

MemoryBreakdownChart::MemoryBreakdownChart(QWidget* parent)
    : ChartView(tr("Memory needed, part by part"), parent), m_category(new QBarCategoryAxis),
      m_value(new QValueAxis) {
    setRubberBand(QChartView::NoRubberBand);
    // The parts' names wrap under the bars: Qt's legend, beside or below bars about 270 pixels
    // wide in a 1280-pixel window, cut every name.
    m_legend = new WrappedLegend(chart());
    styleAxis(m_value, tr("memory (GiB)"));
    styleAxis(m_category, QString());
    chart()->addAxis(m_value, Qt::AlignBottom);
    chart()->addAxis(m_category, Qt::AlignLeft);
}

void MemoryBreakdownChart::setSegments(const std::vector<MemorySegment>& segments,
                                       const QString& setupLabel) {
    m_segments = segments;
    double a = 0, b = 0;
    for (const MemorySegment& s : m_segments) {
        a += s.bytes;
        b += s.referenceBytes;
    }
    std::tie(m_unitBytes, m_unitName) = unitFor(std::max(a, b));
    m_value->setTitleText(tr("memory (%1)").arg(m_unitName));
    chart()->removeAllSeries();
    quietAxesForNewSeries(chart());
    m_category->clear();
    m_category->append({tr("as stored"), setupLabel});
    auto* series = new QHorizontalStackedBarSeries;
    for (const MemorySegment& s : segments) {
        if (s.bytes <= 0 && s.referenceBytes <= 0)
            continue;
        auto* set = new QBarSet(s.name);
        set->append(s.referenceBytes / m_unitBytes);
        set->append(s.bytes / m_unitBytes);
        set->setColor(s.colour);
        set->setBorderColor(s.colour.darker(120));
        series->append(set);
    }
    series->setBarWidth(0.6);
    chart()->addSeries(series);
    series->attachAxis(m_category);
    series->attachAxis(m_value);
    m_legend->refresh(); // the new series' markers
    fitToData();
}

QString MemoryBreakdownChart::legendText() const {
    return m_legend->plainText();
}

void MemoryBreakdownChart::fitToData() {
    double a = 0, b = 0;
    for (const MemorySegment& s : m_segments) {
        a += s.bytes;
        b += s.referenceBytes;
    }
    setNiceRange(m_value, 0.0, std::max(std::max(a, b) / m_unitBytes * 1.05, 0.001),
                 xTickBudget(6));
}

QString MemoryBreakdownChart::csvData() const {
    if (m_segments.empty())
        return {};
    QString csv = QStringLiteral("part,bytes,bytes_weights_as_stored\n");
    for (const MemorySegment& s : m_segments)
        csv += QStringLiteral("\"%1\",%2,%3\n")
                   .arg(s.name)
                   .arg(s.bytes, 0, 'f', 0)
                   .arg(s.referenceBytes, 0, 'f', 0);
    return csv;
}

} // namespace qs
