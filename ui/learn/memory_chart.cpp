#include "learn/memory_chart.h"

#include "charts/chart_style.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QHorizontalStackedBarSeries>
#include <QLegend>
#include <QValueAxis>

#include <algorithm>

namespace qs {

MemoryChart::MemoryChart(QWidget* parent)
    : ChartView(tr("Memory, item by item"), parent), m_category(new QBarCategoryAxis),
      m_value(new QValueAxis) {
    setRubberBand(QChartView::NoRubberBand);
    chart()->legend()->setVisible(true);
    chart()->legend()->setAlignment(Qt::AlignBottom);
    styleAxis(m_value, tr("memory (GB, 10⁹ bytes)"));
    styleAxis(m_category, QString());
    m_category->append({tr("fp16 weights"), tr("this setup")});
    chart()->addAxis(m_value, Qt::AlignBottom);
    chart()->addAxis(m_category, Qt::AlignLeft);
    setMinimumHeight(300);
    setMaximumHeight(380);
}

QString MemoryChart::itemName(MemoryItem item) {
    switch (item) {
    case MemoryItem::Weights:
        return tr("weights");
    case MemoryItem::Scales:
        return tr("scales and zero-points");
    case MemoryItem::KvCache:
        return tr("KV cache");
    case MemoryItem::Gradients:
        return tr("gradients");
    case MemoryItem::OptimizerStates:
        return tr("Adam states");
    case MemoryItem::MasterWeights:
        return tr("fp32 master weights");
    }
    return {};
}

QColor MemoryChart::itemColour(MemoryItem item) {
    switch (item) {
    case MemoryItem::Weights:
        return QColor(0x2E86AB);
    case MemoryItem::Scales:
        return QColor(0xE07A5F);
    case MemoryItem::KvCache:
        return QColor(0x3BA55C);
    case MemoryItem::Gradients:
        return QColor(0x7B3FA0);
    case MemoryItem::OptimizerStates:
        return QColor(0xD1495B);
    case MemoryItem::MasterWeights:
        return QColor(0xEDAE49);
    }
    return Qt::gray;
}

void MemoryChart::setLines(const std::vector<MemoryLine>& lines, double referenceBytes) {
    m_lines = lines;
    m_reference = referenceBytes;
    chart()->removeAllSeries();
    quietAxesForNewSeries(chart());
    auto* series = new QHorizontalStackedBarSeries;
    for (const MemoryLine& l : lines) {
        auto* set = new QBarSet(itemName(l.item));
        set->append(l.item == MemoryItem::Weights ? referenceBytes / 1e9 : 0.0);
        set->append(l.bytes / 1e9);
        set->setColor(itemColour(l.item));
        set->setBorderColor(itemColour(l.item).darker(120));
        series->append(set);
    }
    series->setBarWidth(0.6);
    chart()->addSeries(series);
    series->attachAxis(m_category);
    series->attachAxis(m_value);
    fitToData();
}

void MemoryChart::fitToData() {
    const double total = std::max(totalBytes(m_lines), m_reference) / 1e9;
    setNiceRange(m_value, 0.0, std::max(total * 1.05, 1.0), 6);
}

QString MemoryChart::csvData() const {
    if (m_lines.empty())
        return {};
    QString csv = QStringLiteral("item,bytes\n");
    for (const MemoryLine& l : m_lines)
        csv += QStringLiteral("\"%1\",%2\n").arg(itemName(l.item)).arg(l.bytes, 0, 'f', 0);
    return csv;
}

} // namespace qs
