#include "charts/profile_chart.h"

#include "charts/chart_style.h"

#include <QLegend>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace qs {

ProfileChart::ProfileChart(const QString& title, const QString& indexTitle,
                           const QString& valueTitle, bool logValues, QWidget* parent)
    : ChartView(title, parent), m_valueTitle(valueTitle), m_log(logValues), m_x(new QValueAxis) {
    if (logValues) {
        auto* y = new QLogValueAxis;
        y->setBase(10);
        y->setLabelFormat(QStringLiteral("%g"));
        m_y = y;
    } else {
        m_y = new QValueAxis;
    }
    styleAxis(m_x, indexTitle);
    m_x->setLabelFormat(QStringLiteral("%.0f"));
    styleAxis(m_y, valueTitle);
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    chart()->legend()->setVisible(true);
    chart()->legend()->setAlignment(Qt::AlignBottom);
}

void ProfileChart::setSeries(const std::vector<ProfileSeries>& series) {
    m_series = series;
    chart()->removeAllSeries();
    for (const ProfileSeries& s : series) {
        auto* line = new QLineSeries;
        line->setName(s.name);
        line->setPen(QPen(s.colour, 1.5));
        QList<QPointF> pts;
        for (size_t i = 0; i < s.values.size(); ++i)
            if (std::isfinite(s.values[i]) && (!m_log || s.values[i] > 0))
                pts.append(QPointF(double(i), s.values[i]));
        line->replace(pts);
        chart()->addSeries(line);
        line->attachAxis(m_x);
        line->attachAxis(m_y);
    }
    fitToData();
}

void ProfileChart::fitToData() {
    double n = 1, lo = 1e300, hi = -1e300;
    for (const ProfileSeries& s : m_series) {
        n = std::max(n, double(s.values.size()));
        for (double v : s.values)
            if (std::isfinite(v) && (!m_log || v > 0)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
    }
    // Index ticks at a power of two (0, 16, 32, 48 over 64 channels), about six of them.
    double step = 1;
    while (step * 6 < n - 1)
        step *= 2;
    const bool coarser = m_x->tickType() != QValueAxis::TicksDynamic || step > m_x->tickInterval();
    if (coarser) // before the range: a wide range under a fine interval lays out many ticks
        m_x->setTickInterval(step);
    m_x->setRange(0, n - 1);
    m_x->setTickType(QValueAxis::TicksDynamic);
    m_x->setTickAnchor(0);
    if (!coarser)
        m_x->setTickInterval(step);
    if (lo > hi) {
        lo = m_log ? 0.1 : 0;
        hi = 1;
    }
    if (m_log)
        static_cast<QLogValueAxis*>(m_y)->setRange(lo / 1.3, hi * 1.3);
    else
        setNiceRange(static_cast<QValueAxis*>(m_y), std::min(0.0, lo), hi * 1.05, 5);
}

double ProfileChart::indexTickInterval() const {
    return m_x->tickInterval();
}

QString ProfileChart::csvData() const {
    if (m_series.empty())
        return {};
    QString csv = QStringLiteral("index");
    size_t n = 0;
    for (const ProfileSeries& s : m_series) {
        csv += QLatin1Char(',') + s.name;
        n = std::max(n, s.values.size());
    }
    csv += QLatin1Char('\n');
    for (size_t i = 0; i < n; ++i) {
        csv += QString::number(i);
        for (const ProfileSeries& s : m_series)
            csv += QLatin1Char(',') +
                   (i < s.values.size() ? QString::number(s.values[i], 'g', 8) : QString());
        csv += QLatin1Char('\n');
    }
    return csv;
}

} // namespace qs
