#include "charts/methods_chart.h"

#include "charts/chart_style.h"
#include "number_format.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QFontMetrics>
#include <QLegend>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace qs {

MethodsChart::MethodsChart(const QString& title, const QString& valueTitle, QWidget* parent)
    : ChartView(title, parent), m_x(new QBarCategoryAxis), m_y(new QValueAxis) {
    setRubberBand(QChartView::NoRubberBand);
    styleAxis(m_x, QString());
    m_x->setTruncateLabels(false); // slanted where they do not fit (fitToData), never "Aut..."
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
            showHoverText(
                QStringLiteral("%1 · %2: %3")
                    .arg(m_categories[index], set->label(), formatNumber(set->at(index), 4)));
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
    // Names that do not fit their category's width are slanted rather than cut to "Aut...".
    const QFontMetrics fm(m_x->labelsFont());
    int widest = 0;
    for (const QString& c : m_categories)
        widest = std::max(widest, fm.horizontalAdvance(c));
    const int perCategory =
        m_categories.isEmpty() ? width() : (width() - 70) / static_cast<int>(m_categories.size());
    m_x->setLabelsAngle(widest + 8 > perCategory ? -90 : 0);
}

int MethodsChart::labelsAngle() const {
    return m_x->labelsAngle();
}

void MethodsChart::resizeEvent(QResizeEvent* event) {
    ChartView::resizeEvent(event);
    fitToData();
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
            csv += QLatin1Char(',') + (size_t(i) < b.values.size()
                                           ? QString::number(b.values[size_t(i)], 'g', 8)
                                           : QString());
        csv += QLatin1Char('\n');
    }
    return csv;
}

} // namespace qs
