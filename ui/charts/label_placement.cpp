#include "charts/label_placement.h"

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

} // namespace qs
