#include "metrics/error_metrics.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include "util/simd_clones.h"
#include "util/simd_lanes.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {

double ErrorMetrics::mse() const {
    return count ? sumSqErr / static_cast<double>(count) : 0.0;
}
double ErrorMetrics::rmse() const {
    return std::sqrt(mse());
}

double ErrorMetrics::relRmse() const {
    if (sumSqRef > 0)
        return std::sqrt(sumSqErr / sumSqRef);
    return sumSqErr > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

double sqnrDbFromSums(double sumSqRef, double sumSqErr) {
    if (sumSqErr <= 0)
        return std::numeric_limits<double>::infinity();
    if (sumSqRef <= 0)
        return -std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(sumSqRef / sumSqErr);
}

double ErrorMetrics::sqnrDb() const {
    return sqnrDbFromSums(sumSqRef, sumSqErr);
}

double ErrorMetrics::cosine() const {
    if (sumSqRef <= 0 || sumSqRec <= 0)
        return (sumSqRef <= 0 && sumSqRec <= 0) ? 1.0 : 0.0;
    return dot / (std::sqrt(sumSqRef) * std::sqrt(sumSqRec));
}

void ErrorMetrics::merge(const ErrorMetrics& o) {
    count += o.count;
    sumSqErr += o.sumSqErr;
    sumSqRef += o.sumSqRef;
    sumSqRec += o.sumSqRec;
    dot += o.dot;
    maxAbsErr = std::max(maxAbsErr, o.maxAbsErr);
}

namespace {

// The sums of a[0, n) against b[0, n) into m, in eight lanes (util/simd_lanes.h): each lane
// adds its terms in order, then the lanes pairwise; the same numbers from every clone.
QS_SIMD_CLONES
void addSums(const float* a, const float* b, std::size_t n, ErrorMetrics& m) {
    using namespace lanes;
    Lanes se = {}, sr = {}, sq = {}, d = {}, mx = {};
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        const Lanes x = load(a + i), y = load(b + i), e = x - y, ae = lanes::abs(e);
        se += e * e;
        sr += x * x;
        sq += y * y;
        d += x * y;
        mx = ae > mx ? ae : mx; // as std::max(mx, |e|): a NaN error is passed over
    }
    double l[5][kLanes];
    store(se, l[0]);
    store(sr, l[1]);
    store(sq, l[2]);
    store(d, l[3]);
    store(mx, l[4]);
    for (int j = 0; i < n; ++i, ++j) { // the tail, lane by lane, the same operations
        const double x = a[i], y = b[i], e = x - y;
        l[0][j] += e * e;
        l[1][j] += x * x;
        l[2][j] += y * y;
        l[3][j] += x * y;
        l[4][j] = std::max(l[4][j], std::fabs(e));
    }
    m.sumSqErr += pairwise(l[0]);
    m.sumSqRef += pairwise(l[1]);
    m.sumSqRec += pairwise(l[2]);
    m.dot += pairwise(l[3]);
    for (double v : l[4])
        m.maxAbsErr = std::max(m.maxAbsErr, v);
}

} // namespace

ErrorMetrics computeErrorMetrics(std::span<const float> a, std::span<const float> b) {
    const std::size_t n = std::min(a.size(), b.size());
    // Deterministic reduction: the same grain always splits the same way.
    return tbb::parallel_deterministic_reduce(
        tbb::blocked_range<std::size_t>(0, n, 1 << 15), ErrorMetrics{},
        [&](const tbb::blocked_range<std::size_t>& r, ErrorMetrics m) {
            m.count += r.size();
            addSums(a.data() + r.begin(), b.data() + r.begin(), r.size(), m);
            return m;
        },
        [](ErrorMetrics x, const ErrorMetrics& y) {
            x.merge(y);
            return x;
        });
}

} // namespace qs
