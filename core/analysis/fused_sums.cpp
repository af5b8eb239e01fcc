#include "analysis/fused_sums.h"

#include "util/simd_clones.h"

#include <algorithm>

namespace qs::fused {

void Sums::add(const Sums& o) {
    se += o.se;
    sr += o.sr;
    sq += o.sq;
    dot += o.dot;
    maxAbs = std::max(maxAbs, o.maxAbs);
}

// min and max of x[0, n); `finite` false when any value is NaN or +-Inf (x - x is then NaN).
QS_SIMD_CLONES
void minMax(const float* x, std::int64_t n, float& mn, float& mx, bool& finite) {
    float lo = x[0], hi = x[0], z = 0.0f;
#pragma omp simd reduction(min : lo) reduction(max : hi) reduction(+ : z)
    for (std::int64_t k = 0; k < n; ++k) {
        lo = x[k] < lo ? x[k] : lo;
        hi = x[k] > hi ? x[k] : hi;
        z += x[k] - x[k];
    }
    mn = lo;
    mx = hi;
    finite = z == 0.0f;
}

// The sums of computeErrorMetrics over one stretch, in double.
QS_SIMD_CLONES
void accumulate(const float* x, const float* r, std::int64_t n, Sums& s) {
    double se = 0, sr = 0, sq = 0, dot = 0, mx = 0;
#pragma omp simd reduction(+ : se, sr, sq, dot) reduction(max : mx)
    for (std::int64_t k = 0; k < n; ++k) {
        const double a = x[k], b = r[k], e = a - b;
        se += e * e;
        sr += a * a;
        sq += b * b;
        dot += a * b;
        const double ae = e < 0 ? -e : e;
        mx = ae > mx ? ae : mx;
    }
    s.se += se;
    s.sr += sr;
    s.sq += sq;
    s.dot += dot;
    s.maxAbs = std::max(s.maxAbs, mx);
}

// max |x - w^| over one group.
QS_SIMD_CLONES
double groupMaxError(const float* x, const float* r, std::int64_t n) {
    double mx = 0;
#pragma omp simd reduction(max : mx)
    for (std::int64_t k = 0; k < n; ++k) {
        const double e = double(x[k]) - double(r[k]);
        const double ae = e < 0 ? -e : e;
        mx = ae > mx ? ae : mx;
    }
    return mx;
}

// accumulate() and binIndices() in one loop, for when the histogram's range is known up front.
QS_SIMD_CLONES
void accumulateAndBin(const float* x, const float* r, std::int64_t n, Sums& s, double m,
                      double perUnit, std::int32_t last, std::int32_t* idx) {
    double se = 0, sr = 0, sq = 0, dot = 0, mx = 0;
#pragma omp simd reduction(+ : se, sr, sq, dot) reduction(max : mx)
    for (std::int64_t k = 0; k < n; ++k) {
        const double a = x[k], b = r[k], e = a - b;
        se += e * e;
        sr += a * a;
        sq += b * b;
        dot += a * b;
        const double ae = e < 0 ? -e : e;
        mx = ae > mx ? ae : mx;
        const auto i = static_cast<std::int32_t>((e + m) * perUnit);
        idx[k] = i < last ? i : last;
    }
    s.se += se;
    s.sr += sr;
    s.sq += sq;
    s.dot += dot;
    s.maxAbs = std::max(s.maxAbs, mx);
}

void countBins(const std::int32_t* idx, std::int64_t n, std::size_t bins, std::uint32_t* tables) {
    std::int64_t k = 0;
    for (; k + 4 <= n; k += 4) {
        ++tables[idx[k]];
        ++tables[bins + idx[k + 1]];
        ++tables[2 * bins + idx[k + 2]];
        ++tables[3 * bins + idx[k + 3]];
    }
    for (; k < n; ++k)
        ++tables[idx[k]];
}


Histogram errorHistogramOf(const std::vector<std::uint64_t>& counts, std::size_t blocks,
                           std::size_t bins, double m) {
    Histogram h;
    h.lo = -m;
    h.hi = m;
    h.counts.assign(bins, 0);
    for (std::size_t b = 0; b < blocks; ++b)
        for (std::size_t i = 0; i < bins; ++i)
            h.counts[i] += counts[b * bins + i];
    return h;
}

} // namespace qs::fused
