#include "charts/methods_chart.h"

#include "charts/chart_style.h"
#include "number_format.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QLegend>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace qs {

MethodsChart::MethodsChart(const QString& title, const QString& valueTitle, QWidget* parent)
    : ChartView(title, parent), m_x(new QBarCategoryAxis), m_y(new QValueAxis) {
    setRubberBand(QChartView::NoRubberBand);
    styleAxis(m_x, QString());
    styleAxis(m_y, valueTitle);
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    chart()->legend()->setVisible(true);
    chart()->legend()->setAlignment(Qt::AlignBottom);
}

void MethodsChart::setBars(const QStringList& categories, const std::vector<MethodsBars>& sets) {
    m_categories = categories;
    m_sets = sets;
    chart()->removeAllSeries();
    quietAxesForNewSeries(chart());
    m_x->clear();
    m_x->append(categories);
    auto* series = new QBarSeries;
    for (const MethodsBars& b : sets) {
        auto* set = new QBarSet(b.name);
        for (double v : b.values)
            set->append(std::isfinite(v) ? v : 0.0);
        set->setColor(b.colour);
        set->setBorderColor(b.colour.darker(120));
        series->append(set);
        connect(set, &QBarSet::hovered, this, [this, set](bool state, int index) {
            if (!state || index < 0 || index >= m_categories.size())
                return hideHoverText();
            showHoverText(QStringLiteral("%1 · %2: %3")
                              .arg(m_categories[index], set->label(),
                                   formatNumber(set->at(index), 4)));
        });
    }
    chart()->addSeries(series);
    series->attachAxis(m_x);
    series->attachAxis(m_y);
    fitToData();
}

void MethodsChart::fitToData() {
    double hi = 0;
    for (const MethodsBars& b : m_sets)
        for (double v : b.values)
            if (std::isfinite(v))
                hi = std::max(hi, v);
    setNiceRange(m_y, 0.0, hi > 0 ? hi * 1.1 : 1.0, 5);
}

QString MethodsChart::csvData() const {
    if (m_categories.isEmpty())
        return {};
    QString csv = QStringLiteral("scheme");
    for (const MethodsBars& b : m_sets)
        csv += QLatin1Char(',') + b.name;
    csv += QLatin1Char('\n');
    for (int i = 0; i < m_categories.size(); ++i) {
        csv += m_categories[i];
        for (const MethodsBars& b : m_sets)
            csv += QLatin1Char(',') +
                   (size_t(i) < b.values.size() ? QString::number(b.values[size_t(i)], 'g', 8)
                                                : QString());
        csv += QLatin1Char('\n');
    }
    return csv;
}

} // namespace qs
