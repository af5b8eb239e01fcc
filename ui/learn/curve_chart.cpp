#include "learn/curve_chart.h"

#include "charts/chart_style.h"
#include "charts/point_names.h"
#include "number_format.h"

#include <QChart>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {

namespace {
constexpr int kPointMarker = 10;
constexpr int kHereMarker = 13; // the ring round the current scheme's point
} // namespace

CurveChart::CurveChart(QWidget* parent)
    : ChartView(QString(), parent), m_x(new QValueAxis), m_y(new QValueAxis) {
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    chart()->legend()->setVisible(true);
    chart()->legend()->setAlignment(Qt::AlignBottom);
    styleAxis(m_x, QString());
    styleAxis(m_y, QString());
    m_names = new PointNames(chart(), [this] {
        QList<QRectF> rings;
        for (const QPointF& p : m_highlight)
            rings.append(markerRect(chart(), p, m_here, kHereMarker));
        return rings;
    });
}

void CurveChart::setCurves(const QString& title, const QString& xTitle, const QString& yTitle,
                           const QList<CurveSeries>& curves, const QList<QPointF>& highlight) {
    chart()->zoomReset();
    chart()->setTitle(title);
    m_x->setTitleText(xTitle);
    m_y->setTitleText(yTitle);
    m_names->clear(); // first: they refer to the series
    m_here = nullptr;
    chart()->removeAllSeries();
    quietAxesForNewSeries(chart());
    m_curves = curves;
    m_highlight = highlight;
    for (const CurveSeries& c : curves) {
        if (c.scatter && !c.pointNames.isEmpty()) {
            addNamedPoints(c);
            continue;
        }
        QXYSeries* s = nullptr;
        if (c.scatter) {
            auto* sc = new QScatterSeries;
            sc->setMarkerSize(kPointMarker);
            sc->setColor(c.colour);
            sc->setBorderColor(c.colour.darker(130));
            s = sc;
        } else {
            s = new QLineSeries;
            s->setPen(QPen(c.colour, 2.0));
        }
        s->setName(c.name);
        s->replace(c.points);
        chart()->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        if (!c.labels.isEmpty()) {
            const QStringList labels = c.labels;
            const QList<QPointF> pts = c.points;
            connect(s, &QXYSeries::hovered, this, [this, labels, pts](const QPointF& p, bool on) {
                if (!on)
                    return hideHoverText();
                qsizetype best = 0;
                for (qsizetype i = 1; i < pts.size(); ++i)
                    if (std::hypot(pts[i].x() - p.x(), pts[i].y() - p.y()) <
                        std::hypot(pts[best].x() - p.x(), pts[best].y() - p.y()))
                        best = i;
                if (best < labels.size())
                    showHoverText(labels[best]);
            });
        }
    }
    if (!highlight.isEmpty()) {
        auto* here = new QScatterSeries;
        m_here = here;
        here->setName(tr("current"));
        here->setMarkerSize(kHereMarker);
        here->setColor(QColor(0, 0, 0, 0));
        here->setBorderColor(palette().color(QPalette::Text));
        here->setPen(QPen(QColor(0x33, 0x33, 0x33), 2.0));
        here->replace(highlight);
        chart()->addSeries(here);
        here->attachAxis(m_x);
        here->attachAxis(m_y);
        showHereInLegend();
    }
    fitToData();
    m_names->place();
}

void CurveChart::addNamedPoints(const CurveSeries& c) {
    // One series per point (each its own hover text), named beside it by m_names.
    for (qsizetype i = 0; i < c.points.size(); ++i) {
        auto* sc = new QScatterSeries;
        sc->setMarkerSize(kPointMarker);
        sc->setColor(c.colour);
        sc->setBorderColor(c.colour.darker(130));
        sc->setName(c.pointNames.value(i));
        sc->append(c.points[i]);
        chart()->addSeries(sc);
        sc->attachAxis(m_x);
        sc->attachAxis(m_y);
        m_names->add(c.pointNames.value(i), c.points[i], sc, kPointMarker,
                     palette().color(QPalette::Text));
        for (QLegendMarker* m : chart()->legend()->markers(sc))
            m->setVisible(false);
        const QString tip = c.labels.value(i);
        connect(sc, &QXYSeries::hovered, this, [this, tip](const QPointF&, bool on) {
            on ? showHoverText(tip) : hideHoverText();
        });
    }
}

void CurveChart::fitToData() {
    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
    for (const CurveSeries& c : m_curves)
        for (const QPointF& p : c.points) {
            if (!std::isfinite(p.x()) || !std::isfinite(p.y()))
                continue;
            x0 = std::min(x0, p.x());
            x1 = std::max(x1, p.x());
            y0 = std::min(y0, p.y());
            y1 = std::max(y1, p.y());
        }
    if (!std::isfinite(x0))
        return;
    // Lines run edge to edge; point clouds need room for their markers.
    const bool scatter = std::any_of(m_curves.begin(), m_curves.end(),
                                     [](const CurveSeries& c) { return c.scatter; });
    const double padX = (scatter ? 0.06 : 0.0) * std::max(x1 - x0, 1e-9);
    const double padY = 0.06 * std::max(y1 - y0, 1e-9);
    setNiceRange(m_x, x0 - padX, x1 + padX, xTickBudget(6));
    setNiceRange(m_y, y0 - padY, y1 + padY, 6);
}

QString CurveChart::csvData() const {
    if (m_curves.isEmpty())
        return {};
    QString csv = QStringLiteral("series,label,x,y\n");
    for (const CurveSeries& c : m_curves)
        for (qsizetype i = 0; i < c.points.size(); ++i)
            csv += QStringLiteral("\"%1\",\"%2\",%3,%4\n")
                       .arg(c.name, c.labels.value(i))
                       .arg(c.points[i].x(), 0, 'g', 9)
                       .arg(c.points[i].y(), 0, 'g', 9);
    return csv;
}

QList<QRectF> CurveChart::nameRects() const {
    return m_names->rects();
}

void CurveChart::showHereInLegend() {
    // Qt's legend splits its width evenly: at about 200 pixels (Learn mode in a 1280-pixel window)
    // three names are cut, so the ring, plain to see, drops out of it there.
    if (!m_here)
        return;
    for (QLegendMarker* m : chart()->legend()->markers(m_here))
        m->setVisible(width() >= 300);
}

void CurveChart::resizeEvent(QResizeEvent* event) {
    ChartView::resizeEvent(event);
    showHereInLegend();
}

} // namespace qs
