#include "charts/point_names.h"

#include <QChart>
#include <QGraphicsSimpleTextItem>
#include <QValueAxis>

#include <algorithm>
#include <limits>

namespace qs {
namespace {

constexpr double kGap = 3.0; // between a marker's edge and its label

double overlap(const QRectF& a, const QRectF& b) {
    const QRectF i = a.intersected(b);
    return i.isValid() ? i.width() * i.height() : 0.0;
}

// The eight spots around a point, in order of preference.
QList<QRectF> candidates(const LabelSpot& s) {
    const double w = s.size.width(), h = s.size.height(), d = s.radius + kGap;
    const double x = s.anchor.x(), y = s.anchor.y();
    return {QRectF(x - w / 2, y - d - h, w, h), QRectF(x - w / 2, y + d, w, h),
            QRectF(x + d, y - h / 2, w, h),     QRectF(x - d - w, y - h / 2, w, h),
            QRectF(x + d, y - d - h, w, h),     QRectF(x + d, y + d, w, h),
            QRectF(x - d - w, y - d - h, w, h), QRectF(x - d - w, y + d, w, h)};
}

} // namespace

QList<QRectF> placeLabels(const QList<LabelSpot>& spots, const QList<QRectF>& obstacles,
                          const QRectF& bounds) {
    QList<QRectF> markers = obstacles, placed;
    for (const LabelSpot& s : spots)
        markers.append(
            QRectF(s.anchor.x() - s.radius, s.anchor.y() - s.radius, 2 * s.radius, 2 * s.radius));
    for (const LabelSpot& s : spots) {
        QRectF best;
        double bestCost = std::numeric_limits<double>::infinity();
        for (const QRectF& c : candidates(s)) {
            // Area outside the bounds counts like area over another label or point.
            double cost = c.width() * c.height() - overlap(c, bounds);
            for (const QRectF& m : markers)
                cost += overlap(c, m);
            for (const QRectF& p : placed)
                cost += overlap(c, p);
            if (cost < bestCost) {
                bestCost = cost;
                best = c;
            }
            if (cost == 0.0)
                break;
        }
        placed.append(best);
    }
    return placed;
}

PointNames::PointNames(QChart* chart, std::function<QList<QRectF>()> obstacles)
    : QObject(chart), m_chart(chart), m_obstacles(std::move(obstacles)) {
    connect(chart, &QChart::plotAreaChanged, this, &PointNames::place);
    for (QAbstractAxis* axis : chart->axes())
        if (auto* value = qobject_cast<QValueAxis*>(axis))
            connect(value, &QValueAxis::rangeChanged, this, &PointNames::place);
}

void PointNames::clear() {
    for (const Name& n : m_names)
        delete n.item;
    m_names.clear();
}

void PointNames::add(const QString& text, const QPointF& value, QAbstractSeries* series,
                     double markerSize, const QColor& colour) {
    auto* item = new QGraphicsSimpleTextItem(text, m_chart);
    item->setBrush(colour);
    item->setZValue(10); // over the series
    item->setVisible(false);
    m_names.push_back({item, value, series, markerSize / 2});
}

void PointNames::place() {
    const QRectF area = m_chart->plotArea();
    QList<LabelSpot> spots;
    std::vector<QGraphicsSimpleTextItem*> shown;
    for (const Name& n : m_names) {
        const QPointF at = m_chart->mapToPosition(n.value, n.series);
        const bool inside = area.contains(at);
        n.item->setVisible(inside);
        if (!inside)
            continue;
        spots.append({at, n.item->boundingRect().size(), n.radius});
        shown.push_back(n.item);
    }
    // Inside the chart's frame: a name may reach past the plot area, not out of the chart.
    const QList<QRectF> rects =
        placeLabels(spots, m_obstacles ? m_obstacles() : QList<QRectF>{}, m_chart->rect());
    for (std::size_t i = 0; i < shown.size(); ++i)
        shown[i]->setPos(rects[static_cast<qsizetype>(i)].topLeft());
}

QList<QRectF> PointNames::rects() const {
    QList<QRectF> out;
    for (const Name& n : m_names)
        out.append(n.item->isVisible() ? n.item->mapRectToParent(n.item->boundingRect())
                                       : QRectF());
    return out;
}

QRectF markerRect(QChart* chart, const QPointF& value, QAbstractSeries* series, double size) {
    const QPointF c = chart->mapToPosition(value, series);
    return {c.x() - size / 2, c.y() - size / 2, size, size};
}

} // namespace qs
