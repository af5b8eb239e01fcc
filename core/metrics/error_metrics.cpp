#include "metrics/error_metrics.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

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
    if (sumSqRef > 0) return std::sqrt(sumSqErr / sumSqRef);
    return sumSqErr > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

double sqnrDbFromSums(double sumSqRef, double sumSqErr) {
    if (sumSqErr <= 0) return std::numeric_limits<double>::infinity();
    if (sumSqRef <= 0) return -std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(sumSqRef / sumSqErr);
}

double ErrorMetrics::sqnrDb() const {
    return sqnrDbFromSums(sumSqRef, sumSqErr);
}

double ErrorMetrics::cosine() const {
    if (sumSqRef <= 0 || sumSqRec <= 0) return (sumSqRef <= 0 && sumSqRec <= 0) ? 1.0 : 0.0;
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

ErrorMetrics computeErrorMetrics(std::span<const float> a, std::span<const float> b) {
    const std::size_t n = std::min(a.size(), b.size());
    // Deterministic reduction: the same grain always splits the same way.
    return tbb::parallel_deterministic_reduce(
        tbb::blocked_range<std::size_t>(0, n, 1 << 15), ErrorMetrics{},
        [&](const tbb::blocked_range<std::size_t>& r, ErrorMetrics m) {
            double se = 0, sr = 0, sq = 0, d = 0, mx = m.maxAbsErr;
            for (std::size_t i = r.begin(); i != r.end(); ++i) {
                const double x = a[i], y = b[i], e = x - y;
                se += e * e;
                sr += x * x;
                sq += y * y;
                d += x * y;
                mx = std::max(mx, std::fabs(e));
            }
            m.count += r.size();
            m.sumSqErr += se;
            m.sumSqRef += sr;
            m.sumSqRec += sq;
            m.dot += d;
            m.maxAbsErr = mx;
            return m;
        },
        [](ErrorMetrics x, const ErrorMetrics& y) {
            x.merge(y);
            return x;
        });
}

} // namespace qs
