#include "charts/plot_data.h"

#include "number_format.h"

#include <algorithm>
#include <cmath>

namespace qs {

double HistogramPlot::binWidth() const {
    return counts.empty() ? 0.0 : (hi - lo) / static_cast<double>(counts.size());
}

QString HistogramPlot::binText(int bin, const QString& prefix) const {
    const double x0 = lo + bin * binWidth();
    return QStringLiteral("%1[%2, %3): %4 weights")
        .arg(prefix, formatNumber(x0), formatNumber(x0 + binWidth()),
             formatCount(static_cast<std::int64_t>(counts[static_cast<size_t>(bin)])));
}

int HistogramPlot::binAt(double x) const {
    const double w = binWidth();
    if (w <= 0 || x < lo || x > hi)
        return -1;
    const auto i = static_cast<int>((x - lo) / w);
    return std::clamp(i, 0, static_cast<int>(counts.size()) - 1);
}

HistogramPlot buildHistogramPlot(const Histogram& h) {
    HistogramPlot p;
    p.lo = h.lo;
    p.hi = h.hi;
    p.counts = h.counts;
    if (h.counts.empty())
        return p;
    const double w = h.binWidth();
    p.linear.reserve(static_cast<qsizetype>(2 * h.counts.size() + 2));
    p.log.reserve(p.linear.capacity());
    p.linear.append({h.lo, 0.0});
    p.log.append({h.lo, HistogramPlot::kLogFloor});
    for (size_t i = 0; i < h.counts.size(); ++i) {
        const double c = static_cast<double>(h.counts[i]);
        const double x0 = h.lo + static_cast<double>(i) * w;
        const double x1 = x0 + w;
        const double cl = std::max(c, HistogramPlot::kLogFloor);
        p.linear.append({x0, c});
        p.linear.append({x1, c});
        p.log.append({x0, cl});
        p.log.append({x1, cl});
        p.maxCount = std::max(p.maxCount, c);
    }
    p.linear.append({h.hi, 0.0});
    p.log.append({h.hi, HistogramPlot::kLogFloor});
    return p;
}

std::pair<double, double> spanWithLevels(double lo, double hi, const std::vector<float>& levels) {
    const double a = std::max(std::abs(lo), std::abs(hi));
    for (const float l : levels)
        if (std::isfinite(l) && std::abs(l) <= a) {
            lo = std::min(lo, static_cast<double>(l));
            hi = std::max(hi, static_cast<double>(l));
        }
    return {lo, hi};
}

QList<QPointF> buildLevelLines(const std::vector<float>& levels, double y0, double y1) {
    QList<QPointF> pts;
    pts.reserve(static_cast<qsizetype>(levels.size() * 3));
    for (float l : levels) {
        if (!std::isfinite(l))
            continue;
        pts.append({l, y0});
        pts.append({l, y1});
        pts.append({l, y0});
    }
    return pts;
}

QList<QPointF> buildStaircase(const std::vector<float>& levels, double lo, double hi) {
    QList<QPointF> pts;
    if (levels.empty() || !(hi > lo))
        return pts;
    // Level i wins on [t(i-1), t(i)) where t(i) is the midpoint to the next level.
    size_t i = 0;
    while (i + 1 < levels.size() && 0.5 * (levels[i] + levels[i + 1]) <= lo)
        ++i;
    pts.append({lo, levels[i]});
    for (; i + 1 < levels.size(); ++i) {
        const double t = 0.5 * (static_cast<double>(levels[i]) + levels[i + 1]);
        if (t >= hi)
            break;
        pts.append({t, levels[i]});
        pts.append({t, levels[i + 1]});
    }
    pts.append({hi, levels[i]});
    return pts;
}

AnalysisPlots buildAnalysisPlots(const TensorAnalysis& a) {
    AnalysisPlots p;
    p.scheme = QString::fromStdString(a.scheme.toString());
    if (a.weightHistogram)
        p.weights = buildHistogramPlot(*a.weightHistogram);
    if (a.errorHistogram)
        p.errors = buildHistogramPlot(*a.errorHistogram);
    p.levels = a.levels;
    p.levelLines = buildLevelLines(a.levels);
    if (!p.weights.isEmpty()) {
        p.staircase = buildStaircase(a.levels, p.weights.lo, p.weights.hi);
        p.identity = {{p.weights.lo, p.weights.lo}, {p.weights.hi, p.weights.hi}};
    }
    return p;
}

SweepPlot buildSweepPlot(const std::vector<BitSweepPoint>& points, const Scheme& scheme) {
    SweepPlot p;
    p.family = QString::fromStdString(scheme.family);
    p.currentBits = scheme.bits;
    for (const auto& pt : points) {
        if (std::isfinite(pt.sqnrDb))
            p.sqnr.append({static_cast<double>(pt.bits), pt.sqnrDb});
        if (std::isfinite(pt.outputSnrDb))
            p.outputSnr.append({static_cast<double>(pt.bits), pt.outputSnrDb});
        p.bitsPerWeight.append({static_cast<double>(pt.bits), pt.bitsPerWeight});
        const auto measured = Scheme::parse(pt.spec); // int4:g64's family is int
        const QString name = measured ? QString::fromStdString(measured->family) : p.family;
        p.names.append(name);
        p.ladder = p.ladder || name != p.family;
    }
    return p;
}

} // namespace qs
