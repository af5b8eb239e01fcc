#include "charts/point_names.h"

#include <QChart>
#include <QGraphicsSimpleTextItem>
#include <QPainter>
#include <QValueAxis>

#include <algorithm>
#include <limits>

namespace qs {
namespace {

constexpr double kGap = 3.0; // between a marker's edge and its label

// The length of `line` inside `r` (Liang-Barsky clipping).
double lengthInside(const QLineF& line, const QRectF& r) {
    const double dx = line.dx(), dy = line.dy();
    double t0 = 0, t1 = 1;
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {line.x1() - r.left(), r.right() - line.x1(), line.y1() - r.top(),
                         r.bottom() - line.y1()};
    for (int i = 0; i < 4; ++i) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return 0;
            continue;
        }
        const double t = q[i] / p[i];
        if (p[i] < 0)
            t0 = std::max(t0, t);
        else
            t1 = std::min(t1, t);
    }
    return t1 > t0 ? (t1 - t0) * line.length() : 0;
}

// A name over a translucent patch of the chart's background, so that a line it crosses does
// not run through its letters.
class NameItem : public QGraphicsSimpleTextItem {
public:
    NameItem(const QString& text, QGraphicsItem* parent, const QColor& background)
        : QGraphicsSimpleTextItem(text, parent), m_background(background) {
        m_background.setAlpha(210);
    }
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option,
               QWidget* widget) override {
        painter->fillRect(boundingRect(), m_background);
        QGraphicsSimpleTextItem::paint(painter, option, widget);
    }

private:
    QColor m_background;
};

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
                          const QRectF& bounds, const QList<QLineF>& lines) {
    QList<QRectF> markers = obstacles, placed;
    for (const LabelSpot& s : spots)
        markers.append(
            QRectF(s.anchor.x() - s.radius, s.anchor.y() - s.radius, 2 * s.radius, 2 * s.radius));
    for (const LabelSpot& s : spots) {
        QRectF best;
        double bestCost = std::numeric_limits<double>::infinity();
        for (const QRectF& c : candidates(s)) {
            // Area outside the bounds (text cut off) counts four times area over another label
            // or point.
            double cost = 4 * (c.width() * c.height() - overlap(c, bounds));
            for (const QRectF& m : markers)
                cost += overlap(c, m);
            for (const QRectF& p : placed)
                cost += overlap(c, p);
            for (const QLineF& l : lines) // a line through the text: as a strip of its height
                cost += lengthInside(l, c) * c.height();
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

PointNames::PointNames(QChart* chart, std::function<QList<QRectF>()> obstacles,
                       std::function<QList<QLineF>()> lines)
    : QObject(chart), m_chart(chart), m_obstacles(std::move(obstacles)), m_lines(std::move(lines)) {
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
    const QBrush& back = m_chart->backgroundBrush();
    const QGradient* gradient = back.gradient();
    auto* item = new NameItem(
        text, m_chart,
        gradient && !gradient->stops().isEmpty() ? gradient->stops().front().second : back.color());
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
    const QList<QRectF> rects = placeLabels(spots, m_obstacles ? m_obstacles() : QList<QRectF>{},
                                            m_chart->rect(), m_lines ? m_lines() : QList<QLineF>{});
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
