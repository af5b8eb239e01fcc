#pragma once
// Helpers shared by the group-wise quantizers (int, companding, NormalFloat, float elements,
// microscaling): how a matrix splits into scale groups, the parallel row loop with progress and
// cancellation, clipping rules for an absmax-style scale, nearest / stochastic choice among a
// sorted set of levels, and the seeded counter-based random numbers of round=stochastic.
// All functions are thread-safe (no shared state); parallelRows() runs its body on TBB workers.

#include "quant/registry.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace qs {

// How a [rows, cols] matrix splits into scale groups (groups run along a row).
struct GroupLayout {
    std::int64_t groupCols = 0;    // elements per group along a row (last group may be shorter)
    std::int64_t groupsPerRow = 0; // 0 rows -> 0
    bool wholeTensor = false;      // one group for everything
    std::int64_t groupCount(std::int64_t rows) const {
        return wholeTensor ? 1 : rows * groupsPerRow;
    }
};
GroupLayout groupLayout(const Scheme& s, std::int64_t rows, std::int64_t cols);

// "levels of the widest row (3)" / "... group (row 2, group 1)" / "levels of the tensor scale".
std::string widestGroupNote(const Scheme& s, const GroupLayout& layout, std::size_t groupIndex);

// Runs body(r0, r1) over row ranges in parallel, reporting the fraction of rows done. Returns
// false if the progress callback asked to cancel (remaining ranges are then skipped).
bool parallelRows(std::int64_t rows, const ProgressFn& progress,
                  const std::function<void(std::int64_t r0, std::int64_t r1)>& body);

// Counter-based uniform in [0, 1): the same (seed, index) always gives the same number, so
// stochastic rounding is reproducible whatever the thread schedule.
inline float uniformAt(std::uint64_t seed, std::uint64_t index) {
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}
std::uint64_t stochasticSeed(const Scheme& s); // the scheme's seed=N, 0 if absent

// numpy.percentile's default (linear interpolation between order statistics); sorts `v`.
float percentile(std::vector<float>& v, double pct);

// Largest |x| over the finite values (NaN and +-Inf ignored); 0 for none.
float finiteAbsmax(const float* x, std::int64_t n);
std::int64_t countNonFinite(const float* x, std::int64_t n);

// The absmax a symmetric scale is built from under the scheme's clip rule:
//   minmax: finiteAbsmax; pN: the N-th percentile of |x| (finite values);
//   mse: absmax * (1 - i/100) for i < 80 with the least errorOf(candidate) (first on ties).
// errorOf(a) must return the quantization error (e.g. sum of squares) with absmax a.
float clippedAbsmax(const Scheme& s, const float* x, std::int64_t n,
                    const std::function<double(float absmax)>& errorOf);

// Midpoints between neighbours of a sorted level list: the exact midpoint rounded to float32.
std::vector<float> levelMidpoints(std::span<const float> sortedLevels);
// Index of the nearest level given the midpoints; a value exactly on a midpoint goes to the
// LOWER index (bitsandbytes' rule). NaN gives index 0.
std::size_t nearestLevelIndex(std::span<const float> midpoints, float x);
// nearestLevelIndex for n values at once, branch-free and vectorised (level_index.cpp): the
// number of midpoints below each value. At most 255 midpoints.
void nearestLevelIndices(std::span<const float> midpoints, const float* x, std::int64_t n,
                         std::uint8_t* out);
// Stochastic rounding between the two levels around x: the upper one with probability
// (x - lo)/(hi - lo), so the expectation is x; values outside the range clamp to the ends.
std::size_t stochasticLevelIndex(std::span<const float> sortedLevels, float x, float u);

// The driver of every "one scale per group" family (companding, float elements, ...): per group
// of the scheme's layout, absmax under the clip rule (clippedAbsmax, scored by squared error),
// scale = absmax / scaleDivisor, then reconstruct(x, scale, u) for every finite element, with
// u in [0, 1) for round=stochastic (from uniformAt(seed, flat index)) and u = -1 for nearest.
// NaN inputs reconstruct as NaN and are counted with +-Inf in `nonFinite`; scales ignore them
// (reconstruct() decides what +-Inf becomes, normally the group's extreme level).
using ElementReconstructFn = std::function<float(float x, float scale, float u)>;
struct ScaledGroups {
    GroupLayout layout;
    std::vector<float> reconstruction; // row-major like the input
    std::vector<float> scales;         // one per group, [rows][groupsPerRow] (1 for tensor)
    std::int64_t nonFinite = 0;
    std::size_t widestGroup() const; // index of the largest scale
};
Result<ScaledGroups> quantizeScaledGroups(const Scheme& s, MatrixView m, float scaleDivisor,
                                          const ElementReconstructFn& reconstruct,
                                          const ProgressFn& progress);
// A diagnostic row for non-finite inputs (only when there were any).
void addNonFiniteDiagnostic(std::vector<Diagnostic>& d, std::int64_t count);

} // namespace qs
