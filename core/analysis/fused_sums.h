#pragma once
// The fused analysis paths' inner loops (fused_analysis.cpp, fused_plan.cpp): the sums of
// computeErrorMetrics in double over one stretch, its max |error|, the error histogram's bins,
// and a group's min/max with a NaN/Inf check. Vectorised (AVX2 clones where the CPU has it).
// Internal to core/analysis.

#include "metrics/histogram.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qs::fused {

struct Sums {
    double se = 0, sr = 0, sq = 0, dot = 0, maxAbs = 0;
    void add(const Sums& o);
};

// min and max of x[0, n); `finite` false when any value is NaN or +-Inf (x - x is then NaN).
void minMax(const float* x, std::int64_t n, float& mn, float& mx, bool& finite);
// The sums of computeErrorMetrics over one stretch, in double.
void accumulate(const float* x, const float* r, std::int64_t n, Sums& s);
// max |x - w^| over one stretch.
double groupMaxError(const float* x, const float* r, std::int64_t n);
// accumulate() and each error's histogram bin over [-m, m] (perUnit = bins / 2m; the last bin
// takes m) in one loop, for when the histogram's range is known up front.
void accumulateAndBin(const float* x, const float* r, std::int64_t n, Sums& s, double m,
                      double perUnit, std::int32_t last, std::int32_t* idx);
// Counts bins into four interleaved tables of `bins` (fewer store-to-load stalls).
void countBins(const std::int32_t* idx, std::int64_t n, std::size_t bins, std::uint32_t* tables);

// The error histogram over [-m, m] from per-block counts (`blocks` rows of `bins`).
Histogram errorHistogramOf(const std::vector<std::uint64_t>& counts, std::size_t blocks,
                           std::size_t bins, double m);

} // namespace qs::fused
