#include "metrics/distribution_stats.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {
namespace {

constexpr std::size_t kGrain = 1 << 15;

struct FirstPass {
    std::uint64_t count = 0, nonFinite = 0, zeros = 0;
    double sum = 0;
    double mn = std::numeric_limits<double>::infinity();
    double mx = -std::numeric_limits<double>::infinity();
};

struct Moments {
    double m2 = 0, m3 = 0, m4 = 0;
    std::uint64_t outliers = 0;
};

} // namespace

DistributionStats computeDistributionStats(std::span<const float> v) {
    using Range = tbb::blocked_range<std::size_t>;
    const FirstPass f = tbb::parallel_deterministic_reduce(
        Range(0, v.size(), kGrain), FirstPass{},
        [&](const Range& r, FirstPass p) {
            for (std::size_t i = r.begin(); i != r.end(); ++i) {
                const double x = v[i];
                if (!std::isfinite(x)) {
                    ++p.nonFinite;
                    continue;
                }
                ++p.count;
                p.zeros += x == 0.0;
                p.sum += x;
                p.mn = std::min(p.mn, x);
                p.mx = std::max(p.mx, x);
            }
            return p;
        },
        [](FirstPass a, const FirstPass& b) {
            a.count += b.count;
            a.nonFinite += b.nonFinite;
            a.zeros += b.zeros;
            a.sum += b.sum;
            a.mn = std::min(a.mn, b.mn);
            a.mx = std::max(a.mx, b.mx);
            return a;
        });
    DistributionStats s;
    s.count = f.count;
    s.nonFinite = f.nonFinite;
    s.zeros = f.zeros;
    if (f.count == 0) return s;
    const double n = static_cast<double>(f.count);
    s.mean = f.sum / n;
    s.min = f.mn;
    s.max = f.mx;
    s.absmax = std::max(std::fabs(f.mn), std::fabs(f.mx));

    // Second pass about the mean (two-pass moments are accurate where one-pass sums cancel).
    const double mean = s.mean;
    const Moments first = tbb::parallel_deterministic_reduce(
        Range(0, v.size(), kGrain), Moments{},
        [&](const Range& r, Moments m) {
            for (std::size_t i = r.begin(); i != r.end(); ++i) {
                const double x = v[i];
                if (!std::isfinite(x)) continue;
                const double d = x - mean, d2 = d * d;
                m.m2 += d2;
                m.m3 += d2 * d;
                m.m4 += d2 * d2;
            }
            return m;
        },
        [](Moments a, const Moments& b) {
            a.m2 += b.m2;
            a.m3 += b.m3;
            a.m4 += b.m4;
            return a;
        });
    const double m2 = first.m2 / n, m3 = first.m3 / n, m4 = first.m4 / n;
    s.std = std::sqrt(m2);
    if (m2 > 0) {
        s.skew = m3 / std::pow(m2, 1.5);
        s.kurtosis = m4 / (m2 * m2) - 3.0;
    }
    const double limit = kOutlierSigmas * s.std;
    const std::uint64_t outliers =
        s.std > 0 ? tbb::parallel_deterministic_reduce(
                        Range(0, v.size(), kGrain), std::uint64_t{0},
                        [&](const Range& r, std::uint64_t c) {
                            for (std::size_t i = r.begin(); i != r.end(); ++i)
                                c += std::isfinite(v[i]) && std::fabs(double(v[i]) - mean) > limit;
                            return c;
                        },
                        [](std::uint64_t a, std::uint64_t b) { return a + b; })
                  : 0;
    s.outlierShare = static_cast<double>(outliers) / n;
    return s;
}

} // namespace qs
