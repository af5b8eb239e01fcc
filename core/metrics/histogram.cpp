#include "metrics/histogram.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {
namespace {

using Range = tbb::blocked_range<std::size_t>;
constexpr std::size_t kGrain = 1 << 16;
constexpr double kZeroHalfWidth = 1e-12; // the range of a histogram of zeros: [-1e-12, 1e-12]

template <class ValueAt> Histogram fill(std::size_t n, ValueAt at, int bins, double lo, double hi) {
    Histogram h;
    h.lo = lo;
    h.hi = hi;
    h.counts.assign(static_cast<std::size_t>(std::max(bins, 1)), 0);
    const double scale = static_cast<double>(h.counts.size()) / (hi - lo);
    const auto last = h.counts.size() - 1;
    return tbb::parallel_deterministic_reduce(
        Range(0, n, kGrain), h,
        [&](const Range& r, Histogram acc) {
            for (std::size_t i = r.begin(); i != r.end(); ++i) {
                const double x = at(i);
                if (!std::isfinite(x))
                    ++acc.nonFinite;
                else if (x < lo)
                    ++acc.below;
                else if (x > hi)
                    ++acc.above;
                else
                    ++acc.counts[std::min(last, static_cast<std::size_t>((x - lo) * scale))];
            }
            return acc;
        },
        [](Histogram a, const Histogram& b) {
            for (std::size_t i = 0; i < a.counts.size(); ++i)
                a.counts[i] += b.counts[i];
            a.below += b.below;
            a.above += b.above;
            a.nonFinite += b.nonFinite;
            return a;
        });
}

template <class ValueAt> std::pair<double, double> finiteRange(std::size_t n, ValueAt at) {
    using MinMax = std::pair<double, double>;
    return tbb::parallel_deterministic_reduce(
        Range(0, n, kGrain),
        MinMax{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()},
        [&](const Range& r, MinMax m) {
            for (std::size_t i = r.begin(); i != r.end(); ++i) {
                const double x = at(i);
                if (std::isfinite(x)) {
                    m.first = std::min(m.first, x);
                    m.second = std::max(m.second, x);
                }
            }
            return m;
        },
        [](MinMax a, MinMax b) {
            return MinMax{std::min(a.first, b.first), std::max(a.second, b.second)};
        });
}

} // namespace

std::uint64_t Histogram::total() const {
    std::uint64_t t = below + above;
    for (auto c : counts)
        t += c;
    return t;
}

Histogram computeHistogram(std::span<const float> v, int bins, double lo, double hi) {
    if (!(hi > lo)) {
        lo -= 0.5;
        hi += 0.5;
    }
    return fill(
        v.size(), [&](std::size_t i) { return double(v[i]); }, bins, lo, hi);
}

Histogram computeHistogram(std::span<const float> v, int bins) {
    auto [lo, hi] = finiteRange(v.size(), [&](std::size_t i) { return double(v[i]); });
    if (!(lo <= hi)) lo = hi = 0;
    return computeHistogram(v, bins, lo, hi);
}

Histogram computeDifferenceHistogram(std::span<const float> a, std::span<const float> b, int bins) {
    const std::size_t n = std::min(a.size(), b.size());
    auto diff = [&](std::size_t i) { return double(a[i]) - double(b[i]); };
    auto [lo, hi] = finiteRange(n, diff);
    double m = std::max(std::fabs(lo), std::fabs(hi));
    if (!(m > 0) || !std::isfinite(m)) m = kZeroHalfWidth;
    return fill(n, diff, bins, -m, m);
}

Histogram zeroDifferenceHistogram(int bins, std::uint64_t count) {
    Histogram h = fill(0, [](std::size_t) { return 0.0; }, bins, -kZeroHalfWidth, kZeroHalfWidth);
    const double scale = static_cast<double>(h.counts.size()) / (h.hi - h.lo);
    h.counts[std::min(h.counts.size() - 1, static_cast<std::size_t>((0.0 - h.lo) * scale))] = count;
    return h;
}

} // namespace qs
