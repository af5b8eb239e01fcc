#pragma once
// The fused analysis paths' inner loops (fused_analysis.cpp, fused_plan.cpp): the sums of
// computeErrorMetrics in double over one stretch, its max |error|, the error histogram's bins,
// and a group's min/max with a NaN/Inf check. Vectorised (AVX2 clones where the CPU has it).
// Internal to core/analysis.

#include "metrics/histogram.h"
#include "util/simd_clones.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace qs::fused {

struct Sums {
    double se = 0, sr = 0, sq = 0, dot = 0, maxAbs = 0;
    void add(const Sums& o);
};

// min and max of x[0, n); false when some value is NaN or +-Inf (all exponent bits set). Inline,
// for loops in functions that are cloned for AVX2/AVX-512 themselves. The check is an integer OR,
// which vectorises into a tree at the end: a float sum of x - x (NaN for those) was added up lane
// after lane, a 16-step chain on every small group.
QS_CLONE_INLINE bool minMaxLoop(const float* x, std::int64_t n, float& mn, float& mx) {
    float lo = x[0], hi = x[0];
    std::uint32_t special = 0;
#pragma omp simd reduction(min : lo) reduction(max : hi) reduction(| : special)
    for (std::int64_t k = 0; k < n; ++k) {
        lo = x[k] < lo ? x[k] : lo;
        hi = x[k] > hi ? x[k] : hi;
        const auto bits = std::bit_cast<std::uint32_t>(x[k]);
        special |= (bits & 0x7F800000u) == 0x7F800000u ? 1u : 0u;
    }
    mn = lo;
    mx = hi;
    return special == 0;
}

// min and max of x[0, n); `finite` false when any value is NaN or +-Inf (x - x is then NaN).
void minMax(const float* x, std::int64_t n, float& mn, float& mx, bool& finite);
// minMax of each group of groupCols values of x[0, n) (the last may be shorter) into mn[g] and
// mx[g]; false when any value is NaN or +-Inf. Groups of 16 to 256 values (a multiple of 16) go
// sixteen at a time through groupMinMax512 where the CPU has AVX-512.
bool groupMinMax(const float* x, std::int64_t n, std::int64_t groupCols, float* mn, float* mx);
// The sums of computeErrorMetrics over one stretch, in double.
void accumulate(const float* x, const float* r, std::int64_t n, Sums& s);
// max |x - w^| over one stretch.
double groupMaxError(const float* x, const float* r, std::int64_t n);
// accumulate()'s sums (all but maxAbs) and each error's histogram bin over [-m, m] (perUnit =
// bins / 2m; the last bin takes m) in one loop, for when the histogram's range, the exact max
// |error|, is known up front: that m is then the max, so it is not taken again. Bins are clamped
// to [0, last] besides, so an m too small (a bug) could miscount but never index outside the
// tables. The portable loop, vectorised; accumulateAndCount's reference.
void accumulateAndBin(const float* x, const float* r, std::int64_t n, Sums& s, double m,
                      double perUnit, std::int32_t last, std::int32_t* idx);
// Counts bins into four interleaved tables of `bins` (fewer store-to-load stalls). Meanwhile it
// prefetches next[0, n), the input read after this stretch: counting leaves the memory bus idle,
// and the hardware prefetcher does not run a whole stretch ahead (a pass of 4096x4096 f32 with a
// histogram took 5.5 one-read times without this, 4.8 with it).
void countBins(const std::int32_t* idx, std::int64_t n, std::size_t bins, std::uint32_t* tables,
               const float* next);
// accumulateAndBin's sums, with each bin counted into four tables of `bins` as countBins does
// (the last bin is bins - 1), prefetching next[0, n). One loop by an AVX2 + FMA kernel where the
// CPU has it (fmaKernelsEnabled); else, and for the kernel's last n % 8 values, accumulateAndBin
// into scratch[0, n) and countBins.
void accumulateAndCount(const float* x, const float* r, std::int64_t n, Sums& s, double m,
                        double perUnit, std::size_t bins, std::uint32_t* tables,
                        std::int32_t* scratch, const float* next);

// Consecutive groups of a row are summed and binned together, up to this many values (fewer
// reductions of the vector sums): the columns of one stretch for groups of groupCols.
inline std::int64_t stretchCols(std::int64_t groupCols, std::int64_t cols) {
    constexpr std::int64_t kStretch = 4096;
    const std::int64_t groups =
        std::max<std::int64_t>(1, kStretch / std::max<std::int64_t>(1, groupCols));
    return std::min(cols, groups * groupCols);
}

// The sums of one block of rows and, with bins, its error histogram's counts: add() each stretch
// (x and its reconstruction), then countsInto() once.
class Binner {
public:
    Binner(std::size_t bins, double m, std::int64_t stretch);
    void add(const float* x, const float* rec, std::int64_t n, Sums& s);
    void countsInto(std::uint64_t* counts); // adds this block's counts to `bins` counters
private:
    void flushTables();
    std::size_t bins_;
    double m_, perUnit_;
    std::vector<std::int32_t> idx_;
    std::vector<std::uint32_t> tables_; // four interleaved tables
    std::vector<std::uint64_t> counts_;
    std::uint64_t pending_ = 0; // values in the 32-bit tables
};

// The error histogram over [-m, m] from per-block counts (`blocks` rows of `bins`).
Histogram errorHistogramOf(const std::vector<std::uint64_t>& counts, std::size_t blocks,
                           std::size_t bins, double m);

} // namespace qs::fused
