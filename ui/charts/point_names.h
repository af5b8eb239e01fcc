#pragma once
// Names written beside a chart's points, placed so that none covers another name or a point.
// placeLabels is the geometry: each label, in order, takes the first of eight spots around its
// point (above, below, right, left, then the corners) that stays inside the bounds and clear of
// the labels already placed, of every point's marker and of the other obstacles given, and not
// crossed by the lines given (a curve through the points); where no spot is clear, the one
// overlapping least, a line counting as a strip of the label's height. Names are drawn over a
// translucent patch of the chart's background. PointNames draws the names on a QChart and places
// them again whenever the plot area or an axis range changes (resize, zoom). GUI thread only.

#include <QLineF>
#include <QList>
#include <QObject>
#include <QPointF>
#include <QRectF>
#include <QSizeF>

#include <functional>
#include <vector>

class QAbstractSeries;
class QChart;
class QColor;
class QGraphicsSimpleTextItem;

namespace qs {

struct LabelSpot {
    QPointF anchor; // the point's centre
    QSizeF size;    // the label's text size
    double radius;  // half the point's marker size
};

// One rectangle per spot, in order.
QList<QRectF> placeLabels(const QList<LabelSpot>& spots, const QList<QRectF>& obstacles,
                          const QRectF& bounds, const QList<QLineF>& lines = {});

class PointNames : public QObject {
    Q_OBJECT
public:
    // obstacles: further markers to keep clear of, and lines not to cross, in chart
    // coordinates, asked at each placing. The chart's axes must be added already.
    explicit PointNames(QChart* chart, std::function<QList<QRectF>()> obstacles = {},
                        std::function<QList<QLineF>()> lines = {});

    void clear();
    // `text` beside `value` of `series`, whose marker is markerSize pixels wide. place() shows it.
    void add(const QString& text, const QPointF& value, QAbstractSeries* series, double markerSize,
             const QColor& colour);
    void place();
    // Where the names are drawn, in order (chart coordinates; empty where the point is out of
    // the plot area, as after a zoom).
    QList<QRectF> rects() const;

private:
    struct Name {
        QGraphicsSimpleTextItem* item;
        QPointF value;
        QAbstractSeries* series;
        double radius;
    };
    QChart* m_chart;
    std::function<QList<QRectF>()> m_obstacles;
    std::function<QList<QLineF>()> m_lines;
    std::vector<Name> m_names;
};

// A square marker of `size` pixels centred on `value` of `series` (chart coordinates).
QRectF markerRect(QChart* chart, const QPointF& value, QAbstractSeries* series, double size);

} // namespace qs
