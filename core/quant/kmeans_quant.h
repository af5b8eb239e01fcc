#pragma once
// The `kmeans` family: a Lloyd-Max (1-D k-means) code book of K = 2^b levels fit to each group
// (tensor, channel or g<N>), codes of b bits, the code book stored as fp16 (K levels per group).
//
// Fit: the group's values are sorted once; with prefix sums each Lloyd iteration costs
// O(K log n). Deterministic starts are run and the one reaching the lowest distortion kept:
//   - quantiles c_i = Q((i + 0.5)/K) (numpy's linear interpolation), the documented default;
//   - the `int` family's asym grid of K levels, so the result is never worse than the uniform
//     grid of the same size (Lloyd steps never increase distortion);
//   - for K <= 16, the optimal clustering by dynamic programming (Ckmeans.1d.dp-style): exact
//     1-D k-means for groups of up to 1024 values, on 1024 equal-count chunks for larger ones.
//     Plain Lloyd stalls in local optima on small groups (up to 1.8x the optimal error).
// Iterate until the relative decrease of the distortion is <= tol (option tol=X, default 1e-6)
// or iters=N iterations (default 50). Empty cells: the cell with the largest squared error is
// split at its centroid and the empty level takes the upper half's mean (this cannot increase
// the distortion). A group with at most K distinct values gets those values exactly.
// Assignment is exact: each value goes to the nearest level through the sorted midpoints
// (a value on a midpoint goes to the lower level). The levels are rounded to fp16, as stored,
// before the final assignment, so the reconstruction is what the stored code book gives.

#include "quant/registry.h"

#include <span>
#include <vector>

namespace qs {

struct KmeansOptions {
    int maxIterations = 50;
    double relTolerance = 1e-6;
};

struct KmeansFit {
    std::vector<float> levels; // sorted, fp32 (before fp16 rounding)
    double distortion = 0;     // sum of squared errors of the fitted levels
    int iterations = 0;
};

// Fits `k` levels to `values` (any order). Deterministic; single-threaded.
KmeansFit fitLloydMax(std::span<const float> values, int k, const KmeansOptions& options = {});

Result<QuantOutput> quantizeKmeans(const Scheme& s, MatrixView m, const ProgressFn& progress);

Result<KmeansOptions> kmeansOptions(const Scheme& s); // iters=N, tol=X
// The cost, and the widest group's code book (largest range, the first of equals) as the levels
// with their note, as quantizeKmeans reports them (also for the CUDA engine's result).
void describeKmeans(const Scheme& s, std::int64_t rows, std::int64_t cols, std::int64_t widest,
                    const std::vector<float>& widestBook, QuantOutput& out);

} // namespace qs
