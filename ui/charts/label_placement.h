#pragma once
// Where to put the names of a chart's labelled points so that none covers another or another
// point: each label, in order, takes the first of eight spots around its point (above, below,
// right, left, then the corners) that stays inside the bounds and clear of the labels already
// placed, of every point's marker and of the other obstacles given; where no spot is clear, the
// one overlapping least.
// Plain geometry in scene coordinates, no Qt Charts. GUI thread only (QFontMetrics callers).

#include <QList>
#include <QPointF>
#include <QRectF>
#include <QSizeF>

namespace qs {

struct LabelSpot {
    QPointF anchor; // the point's centre
    QSizeF size;    // the label's text size
    double radius;  // half the point's marker size
};

// One rectangle per spot, in order.
QList<QRectF> placeLabels(const QList<LabelSpot>& spots, const QList<QRectF>& obstacles,
                          const QRectF& bounds);

} // namespace qs
