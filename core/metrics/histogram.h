#pragma once
// Fixed-width histograms over [lo, hi]: bin i covers [lo + i*w, lo + (i+1)*w), the last bin
// includes hi. Values outside the range or non-finite are counted apart.

#include <cstdint>
#include <span>
#include <vector>

namespace qs {

struct Histogram {
    double lo = 0, hi = 0;
    std::vector<std::uint64_t> counts;
    std::uint64_t below = 0, above = 0, nonFinite = 0;

    double binWidth() const {
        return counts.empty() ? 0.0 : (hi - lo) / static_cast<double>(counts.size());
    }
    double binCenter(std::size_t i) const {
        return lo + (static_cast<double>(i) + 0.5) * binWidth();
    }
    std::uint64_t total() const;
};

Histogram computeHistogram(std::span<const float> values, int bins, double lo, double hi);
// Range from the finite min/max of the values (a degenerate range is widened by +-0.5).
Histogram computeHistogram(std::span<const float> values, int bins);
// Histogram of a - b, over a range symmetric about zero.
Histogram computeDifferenceHistogram(std::span<const float> a, std::span<const float> b, int bins);
// What computeDifferenceHistogram gives for `count` differences that are all 0 (an exact
// reconstruction), without the values.
Histogram zeroDifferenceHistogram(int bins, std::uint64_t count);

} // namespace qs
