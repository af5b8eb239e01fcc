#include "metrics/histogram.h"

#include "util/simd_clones.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace qs {
namespace {

using Range = tbb::blocked_range<std::size_t>;
constexpr std::size_t kGrain = 1 << 16;
constexpr double kZeroHalfWidth = 1e-12; // the range of a histogram of zeros: [-1e-12, 1e-12]
constexpr std::size_t kBlock = 2048;     // values binned at once, then counted

// Where each value goes, as an index past the bins for the values counted apart; the binning of
// a value in range is min(last, (x - lo) * scale) truncated. Branch-free (selects), so that the
// loop vectorises: the bin is clamped before it is converted.
struct Binning {
    double lo, hi, scale;
    std::int32_t last;
    std::int32_t below() const { return last + 1; }
    std::int32_t above() const { return last + 2; }
    std::int32_t nonFinite() const { return last + 3; }
    QS_CLONE_INLINE std::int32_t operator()(double x) const {
        double t = (x - lo) * scale;
        t = t > 0.0 ? t : 0.0;
        t = t < static_cast<double>(last) ? t : static_cast<double>(last);
        auto b = static_cast<std::int32_t>(t);
        b = x < lo ? below() : b;
        b = x > hi ? above() : b;
        return x - x == 0.0 ? b : nonFinite(); // NaN and +-Inf give NaN
    }
};

QS_SIMD_CLONES
void binValues(const float* v, std::size_t n, const Binning& bin, std::int32_t* idx) {
    const Binning b = bin;
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i)
        idx[i] = b(static_cast<double>(v[i]));
}

QS_SIMD_CLONES
void binDifferences(const float* a, const float* c, std::size_t n, const Binning& bin,
                    std::int32_t* idx) {
    const Binning b = bin;
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i)
        idx[i] = b(static_cast<double>(a[i]) - static_cast<double>(c[i]));
}

// `bin(first, n, idx)` bins values [first, first + n) into idx.
template <class BinBlock>
Histogram fill(std::size_t n, BinBlock binBlock, int bins, double lo, double hi) {
    Histogram h;
    h.lo = lo;
    h.hi = hi;
    h.counts.assign(static_cast<std::size_t>(std::max(bins, 1)), 0);
    const Binning binning{lo, hi, static_cast<double>(h.counts.size()) / (hi - lo),
                          static_cast<std::int32_t>(h.counts.size() - 1)};
    const std::size_t slots = h.counts.size() + 3;
    return tbb::parallel_deterministic_reduce(
        Range(0, n, kGrain), h,
        [&](const Range& r, Histogram acc) {
            std::int32_t idx[kBlock];
            std::vector<std::uint32_t> tables(4 * slots, 0); // four: fewer store-to-load stalls
            for (std::size_t i0 = r.begin(); i0 < r.end(); i0 += kBlock) {
                const std::size_t m = std::min(kBlock, r.end() - i0);
                binBlock(binning, i0, m, idx);
                std::size_t k = 0;
                for (; k + 4 <= m; k += 4) {
                    ++tables[static_cast<std::size_t>(idx[k])];
                    ++tables[slots + static_cast<std::size_t>(idx[k + 1])];
                    ++tables[2 * slots + static_cast<std::size_t>(idx[k + 2])];
                    ++tables[3 * slots + static_cast<std::size_t>(idx[k + 3])];
                }
                for (; k < m; ++k)
                    ++tables[static_cast<std::size_t>(idx[k])];
            }
            for (std::size_t t = 0; t < 4; ++t) {
                const std::uint32_t* c = tables.data() + t * slots;
                for (std::size_t i = 0; i < acc.counts.size(); ++i)
                    acc.counts[i] += c[i];
                acc.below += c[static_cast<std::size_t>(binning.below())];
                acc.above += c[static_cast<std::size_t>(binning.above())];
                acc.nonFinite += c[static_cast<std::size_t>(binning.nonFinite())];
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

// The finite min and max of v (in double: every float is one), +inf/-inf when there is none.
QS_SIMD_CLONES
void finiteMinMax(const float* v, std::size_t n, double& lo, double& hi) {
    float mn = std::numeric_limits<float>::infinity(), mx = -mn;
#pragma omp simd reduction(min : mn) reduction(max : mx)
    for (std::size_t i = 0; i < n; ++i) {
        const float x = v[i];
        const bool finite = x - x == 0.0f;
        mn = finite && x < mn ? x : mn;
        mx = finite && x > mx ? x : mx;
    }
    lo = mn;
    hi = mx;
}

QS_SIMD_CLONES
void finiteDifferenceMinMax(const float* a, const float* b, std::size_t n, double& lo, double& hi) {
    double mn = std::numeric_limits<double>::infinity(), mx = -mn;
#pragma omp simd reduction(min : mn) reduction(max : mx)
    for (std::size_t i = 0; i < n; ++i) {
        const double x = static_cast<double>(a[i]) - static_cast<double>(b[i]);
        const bool finite = x - x == 0.0;
        mn = finite && x < mn ? x : mn;
        mx = finite && x > mx ? x : mx;
    }
    lo = mn;
    hi = mx;
}

// `minMax(first, n, lo, hi)` over [first, first + n), reduced in a fixed order.
template <class MinMaxOf> std::pair<double, double> finiteRange(std::size_t n, MinMaxOf minMax) {
    using MinMax = std::pair<double, double>;
    return tbb::parallel_deterministic_reduce(
        Range(0, n, kGrain),
        MinMax{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()},
        [&](const Range& r, MinMax m) {
            double lo, hi;
            minMax(r.begin(), r.end() - r.begin(), lo, hi);
            return MinMax{std::min(m.first, lo), std::max(m.second, hi)};
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
        v.size(),
        [&](const Binning& bin, std::size_t i, std::size_t n, std::int32_t* idx) {
            binValues(v.data() + i, n, bin, idx);
        },
        bins, lo, hi);
}

Histogram computeHistogram(std::span<const float> v, int bins) {
    auto [lo, hi] = finiteRange(v.size(), [&](std::size_t i, std::size_t n, double& a, double& b) {
        finiteMinMax(v.data() + i, n, a, b);
    });
    if (!(lo <= hi))
        lo = hi = 0;
    return computeHistogram(v, bins, lo, hi);
}

Histogram computeDifferenceHistogram(std::span<const float> a, std::span<const float> b, int bins) {
    const std::size_t n = std::min(a.size(), b.size());
    auto [lo, hi] = finiteRange(n, [&](std::size_t i, std::size_t m, double& x, double& y) {
        finiteDifferenceMinMax(a.data() + i, b.data() + i, m, x, y);
    });
    double m = std::max(std::fabs(lo), std::fabs(hi));
    if (!(m > 0) || !std::isfinite(m))
        m = kZeroHalfWidth;
    return fill(
        n,
        [&](const Binning& bin, std::size_t i, std::size_t k, std::int32_t* idx) {
            binDifferences(a.data() + i, b.data() + i, k, bin, idx);
        },
        bins, -m, m);
}

Histogram zeroDifferenceHistogram(int bins, std::uint64_t count) {
    Histogram h;
    h.lo = -kZeroHalfWidth;
    h.hi = kZeroHalfWidth;
    h.counts.assign(static_cast<std::size_t>(std::max(bins, 1)), 0);
    const double scale = static_cast<double>(h.counts.size()) / (h.hi - h.lo);
    h.counts[std::min(h.counts.size() - 1, static_cast<std::size_t>((0.0 - h.lo) * scale))] = count;
    return h;
}

} // namespace qs
