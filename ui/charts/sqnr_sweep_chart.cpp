#include "charts/sqnr_sweep_chart.h"

#include "charts/chart_style.h"
#include "number_format.h"

#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace qs {

SqnrSweepChart::SqnrSweepChart(QWidget* parent)
    : ChartView(tr("SQNR vs bit width"), parent), m_curve(new QLineSeries),
      m_points(new QScatterSeries), m_current(new QScatterSeries), m_outCurve(new QLineSeries),
      m_outPoints(new QScatterSeries), m_x(new QValueAxis), m_y(new QValueAxis) {
    m_points->setMarkerSize(7);
    m_points->setBorderColor(Qt::white);
    m_current->setMarkerSize(14);
    m_current->setBorderColor(QColor(0x22, 0x22, 0x22));
    m_outPoints->setMarkerSize(6);
    m_outPoints->setBorderColor(Qt::white);
    m_curve->setName(tr("weights"));
    m_outCurve->setName(tr("output"));
    const std::initializer_list<QXYSeries*> all{m_curve, m_points, m_current, m_outCurve,
                                                m_outPoints};
    for (QXYSeries* s : all)
        chart()->addSeries(s);
    styleAxis(m_x, tr("bits per element"));
    styleAxis(m_y, tr("SQNR (dB)"));
    m_x->setLabelFormat(QStringLiteral("%d"));
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    for (QXYSeries* s : all) {
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        connect(s, &QXYSeries::hovered, this, &SqnrSweepChart::onHovered);
    }
    for (QXYSeries* s : {static_cast<QXYSeries*>(m_points), static_cast<QXYSeries*>(m_current),
                         static_cast<QXYSeries*>(m_outPoints)})
        chart()->legend()->markers(s).front()->setVisible(false);
    chart()->legend()->setAlignment(Qt::AlignBottom);
    m_names = new PointNames(chart());
}

void SqnrSweepChart::setPlot(const SweepPlot& plot, const QColor& schemeColour) {
    chart()->zoomReset();
    m_plot = plot;
    m_curve->setPen(QPen(schemeColour, 2.0));
    m_points->setColor(schemeColour);
    m_current->setColor(schemeColour);
    m_curve->replace(m_plot.sqnr);
    m_points->replace(m_plot.sqnr);
    QPen dashed(schemeColour.darker(135), 2.0, Qt::DashLine);
    m_outCurve->setPen(dashed);
    m_outPoints->setColor(schemeColour.darker(135));
    m_outCurve->replace(m_plot.outputSnr);
    m_outPoints->replace(m_plot.outputSnr);
    chart()->legend()->setVisible(!m_plot.outputSnr.isEmpty());
    m_y->setTitleText(m_plot.outputSnr.isEmpty() ? tr("SQNR (dB)") : tr("SNR (dB)"));
    QList<QPointF> current;
    for (const QPointF& p : m_plot.sqnr)
        if (static_cast<int>(p.x()) == m_plot.currentBits)
            current.append(p);
    m_current->replace(current);
    m_names->clear();
    if (m_plot.ladder)
        for (const QPointF& p : m_plot.sqnr)
            m_names->add(nameAt(p.x()), p, m_points, m_current->markerSize(),
                         palette().color(QPalette::Text));
    fitToData();
    m_names->place();
}

QString SqnrSweepChart::nameAt(double bits) const {
    for (qsizetype i = 0; i < m_plot.bitsPerWeight.size() && i < m_plot.names.size(); ++i)
        if (m_plot.bitsPerWeight[i].x() == bits)
            return m_plot.names[i];
    return m_plot.family;
}

QStringList SqnrSweepChart::pointNames() const {
    QStringList out;
    if (m_plot.ladder)
        for (const QPointF& p : m_plot.sqnr)
            out << nameAt(p.x());
    return out;
}

void SqnrSweepChart::clear() {
    m_plot = SweepPlot{};
    m_curve->clear();
    m_points->clear();
    m_current->clear();
    m_outCurve->clear();
    m_outPoints->clear();
    chart()->legend()->setVisible(false);
    m_names->clear();
}

int SqnrSweepChart::highlightedBits() const {
    return m_current->count() > 0 ? static_cast<int>(m_current->at(0).x()) : 0;
}

void SqnrSweepChart::fitToData() {
    double lo = 2, hi = 8;
    double yMax = 10;
    double yMin = 0;
    for (const auto* series : {&m_plot.sqnr, &m_plot.outputSnr})
        for (const QPointF& p : *series) {
            lo = std::min(lo, p.x());
            hi = std::max(hi, p.x());
            yMax = std::max(yMax, p.y());
            yMin = std::min(yMin, p.y());
        }
    m_x->setRange(lo - 0.5, hi + 0.5);
    m_x->setTickType(QValueAxis::TicksDynamic);
    m_x->setTickAnchor(lo);
    m_x->setTickInterval(hi - lo > 12 ? 4 : 1);
    setNiceRange(m_y, yMin, yMax + 4, 5);
}

void SqnrSweepChart::onHovered(const QPointF& point, bool state) {
    if (!state || m_plot.sqnr.isEmpty()) {
        hideHoverText();
        return;
    }
    const auto it = std::min_element(
        m_plot.sqnr.begin(), m_plot.sqnr.end(), [&](const QPointF& a, const QPointF& b) {
            return std::abs(a.x() - point.x()) < std::abs(b.x() - point.x());
        });
    const int bits = static_cast<int>(it->x());
    double bpw = 0;
    for (const QPointF& p : m_plot.bitsPerWeight)
        if (static_cast<int>(p.x()) == bits)
            bpw = p.y();
    QString output;
    for (const QPointF& p : m_plot.outputSnr)
        if (static_cast<int>(p.x()) == bits)
            output = tr(", output SNR %1").arg(formatDb(p.y()));
    showHoverText(tr("%1 at %2 bits: SQNR %3%4, %5 bits/weight")
                      .arg(nameAt(it->x()))
                      .arg(bits)
                      .arg(formatDb(it->y()), output, formatNumber(bpw, 5)));
}

QString SqnrSweepChart::csvData() const {
    if (m_plot.bitsPerWeight.isEmpty())
        return {};
    QString csv = QStringLiteral("family,bits,sqnr_db,bits_per_weight,output_snr_db\n");
    for (const QPointF& b : m_plot.bitsPerWeight) {
        QString db = QStringLiteral("inf"), out; // output: empty without inputs
        for (const QPointF& s : m_plot.sqnr)
            if (s.x() == b.x())
                db = QString::number(s.y(), 'g', 9);
        for (const QPointF& s : m_plot.outputSnr)
            if (s.x() == b.x())
                out = QString::number(s.y(), 'g', 9);
        csv += QStringLiteral("%1,%2,%3,%4,%5\n")
                   .arg(nameAt(b.x()))
                   .arg(b.x())
                   .arg(db)
                   .arg(b.y(), 0, 'g', 9)
                   .arg(out);
    }
    return csv;
}

} // namespace qs
