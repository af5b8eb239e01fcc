#include "charts/compare_scatter_chart.h"

#include "charts/chart_style.h"
#include "charts/wrapped_legend.h"
#include "number_format.h"

#include <QLegend>
#include <QLegendMarker>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace qs {

CompareScatterChart::CompareScatterChart(QWidget* parent)
    : ChartView(tr("Signed error vs value"), parent), m_x(new QValueAxis), m_y(new QValueAxis) {
    styleAxis(m_x, tr("weight value w"));
    styleAxis(m_y, tr("error w − ŵ"));
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    for (int i = 0; i < kSlots; ++i) {
        auto* s = new QScatterSeries;
        s->setMarkerSize(4);
        s->setBorderColor(Qt::transparent);
        s->setUseOpenGL(false);
        chart()->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        connect(s, &QXYSeries::hovered, this, [this](const QPointF& p, bool state) {
            if (state)
                showHoverText(
                    tr("w = %1, error = %2").arg(formatNumber(p.x()), formatNumber(p.y())));
            else
                hideHoverText();
        });
        m_series[size_t(i)] = s;
    }
    m_legend = new WrappedLegend(chart()); // the names wrap where one row would cut them
    clear();
}

void CompareScatterChart::setSlot(int slot, const QString& spec, const QList<QPointF>& points,
                                  const QColor& colour) {
    if (slot < 0 || slot >= kSlots)
        return;
    QScatterSeries* s = m_series[size_t(slot)];
    QColor c = colour;
    c.setAlpha(150);
    s->setColor(c);
    s->setName(spec);
    s->replace(points);
    m_legend->setShown(s, true);
    fitToData();
}

void CompareScatterChart::clearSlot(int slot) {
    if (slot < 0 || slot >= kSlots)
        return;
    m_series[size_t(slot)]->clear();
    m_legend->setShown(m_series[size_t(slot)], false);
}

void CompareScatterChart::clear() {
    for (int i = 0; i < kSlots; ++i)
        clearSlot(i);
}

int CompareScatterChart::pointCount(int slot) const {
    return slot >= 0 && slot < kSlots ? m_series[size_t(slot)]->count() : 0;
}

void CompareScatterChart::fitToData() {
    double x0 = 0, x1 = 0, e = 0;
    bool any = false;
    for (QScatterSeries* s : m_series)
        for (const QPointF& p : s->points()) {
            x0 = any ? std::min(x0, p.x()) : p.x();
            x1 = any ? std::max(x1, p.x()) : p.x();
            e = std::max(e, std::abs(p.y()));
            any = true;
        }
    if (!any || x1 <= x0) {
        x0 = -1, x1 = 1;
    }
    if (!(e > 0))
        e = 1;
    setNiceRange(m_x, x0, x1, xTickBudget(7));
    setNiceRange(m_y, -e * 1.05, e * 1.05, 6);
}

QString CompareScatterChart::csvData() const {
    QString csv = QStringLiteral("scheme,value,error\n");
    bool any = false;
    for (QScatterSeries* s : m_series)
        for (const QPointF& p : s->points()) {
            csv += QStringLiteral("%1,%2,%3\n")
                       .arg(s->name())
                       .arg(p.x(), 0, 'g', 9)
                       .arg(p.y(), 0, 'g', 9);
            any = true;
        }
    return any ? csv : QString();
}

} // namespace qs
