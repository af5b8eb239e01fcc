#include "charts/memory_breakdown_chart.h"

#include "charts/chart_style.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QHorizontalStackedBarSeries>
#include <QLegend>
#include <QValueAxis>

#include <algorithm>

namespace qs {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
}

MemoryBreakdownChart::MemoryBreakdownChart(QWidget* parent)
    : ChartView(tr("Memory needed, part by part"), parent), m_category(new QBarCategoryAxis),
      m_value(new QValueAxis) {
    setRubberBand(QChartView::NoRubberBand);
    chart()->legend()->setVisible(true);
    chart()->legend()->setAlignment(Qt::AlignRight);
    styleAxis(m_value, tr("memory (GiB)"));
    styleAxis(m_category, QString());
    chart()->addAxis(m_value, Qt::AlignBottom);
    chart()->addAxis(m_category, Qt::AlignLeft);
}

void MemoryBreakdownChart::setSegments(const std::vector<MemorySegment>& segments,
                                       const QString& setupLabel) {
    m_segments = segments;
    chart()->removeAllSeries();
    quietAxesForNewSeries(chart());
    m_category->clear();
    m_category->append({tr("weights as stored"), setupLabel});
    auto* series = new QHorizontalStackedBarSeries;
    for (const MemorySegment& s : segments) {
        if (s.bytes <= 0 && s.referenceBytes <= 0)
            continue;
        auto* set = new QBarSet(s.name);
        set->append(s.referenceBytes / kGiB);
        set->append(s.bytes / kGiB);
        set->setColor(s.colour);
        set->setBorderColor(s.colour.darker(120));
        series->append(set);
    }
    series->setBarWidth(0.6);
    chart()->addSeries(series);
    series->attachAxis(m_category);
    series->attachAxis(m_value);
    fitToData();
}

void MemoryBreakdownChart::fitToData() {
    double a = 0, b = 0;
    for (const MemorySegment& s : m_segments) {
        a += s.bytes;
        b += s.referenceBytes;
    }
    setNiceRange(m_value, 0.0, std::max(std::max(a, b) / kGiB * 1.05, 0.001), 6);
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
