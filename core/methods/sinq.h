#pragma once
// SINQ (huawei-csl/SINQ, NUMERICS.md 7): each tile of the weight is normalised by a
// Sinkhorn-style dual scaling (a column vector mu1 and a row vector mu2, chosen to even out the
// row and column standard deviations), then every row of the normalised tile (one group) is
// quantized; the reconstruction is (q - z) * s1 * s2 with s1 = group scale * mu2[row] and
// s2 = mu1[col].
//
// Tiles: tiling=1D (the original's default) cuts the columns into tiles of the group size g
// (halved while it does not divide the row, down to 16, as the original; a last short tile stays
// short after that); tiling=2D cuts g x g squares. `channel` is one tile of the whole row width.
// Normalisation: sinkhornNormalize(), float32, `iters` rounds (the original's order 16), keeping
// the scaling with the least imbalance and stopping for good once the imbalance rises.
// Per group: uniform asym (quantize_rtn: scale = max(max - min, 1e-4)/(2^b - 1),
// z = -round(min/scale)); :sym is the original's "noz" grid, scale = absmax/((2^b - 1)//2 - 1),
// q in [-2^(b-1), (2^b - 1)//2 - 1] (sinq4:sym: absmax/6, q in [-8, 6]; no 2-bit form);
// sinq_nf4/sinq_nf3: shift by the row mean, scale = max|w - mean|, nearest level of the NF4 /
// SINQ NF3 codebook. Scales and zero-points are fp16 (DESIGN.md), so sinq4:g64 =
// 4 + 32/64 + 16/rows bits per weight (s1 and z per group, s2 per column).
// Options, both off by default (DESIGN.md "Numeric conventions"): aux8 (the original's
// quantAux: s1 and z stored as 8-bit codes, rtn8) and fallback=kurtosis (plain RTN in the same
// dual-scale format when the matrix's non-excess kurtosis is above 5, as the original does).

#include "cuda/device_sinq.h"
#include "quant/registry.h"

#include <cstdint>
#include <vector>

namespace qs {

struct SinkhornResult {
    std::vector<float> normalized; // the tile divided by both vectors, row-major
    std::vector<float> colScale;   // mu1, one per column
    std::vector<float> rowScale;   // mu2, one per row
    double imbalanceBefore = 0, imbalanceAfter = 0;
};

// Sinkhorn-style normalisation of one [rows, cols] tile (SINQ's sinkhorn_log, `order` rounds).
// A tile with fewer than two rows or columns has no standard deviations and is left as it is.
SinkhornResult sinkhornNormalize(MatrixView tile, int order = 16);

Result<QuantOutput> quantizeSinq(const Scheme& s, MatrixView m, const ProgressFn& progress);

// What quantizeSinq works from, for a [rows, cols] weight (also the CUDA engine's): the grid,
// bits and code book, the tiles (tw columns by th rows; colTiles x rowTiles of them; the groups
// are each row of each tile, index row * colTiles + tile column), the Sinkhorn rounds and options.
// Errors as quantizeSinq gives them (a 2-bit symmetric grid, per-tensor granularity).
struct SinqSetup {
    dev::SinqGrid grid = dev::SinqGrid::Uniform;
    int bits = 4;
    std::vector<float> codebook; // the NormalFloat grids' levels
    std::int64_t rows = 0, cols = 0, tw = 0, th = 0, colTiles = 0, rowTiles = 0;
    int order = 16;
    bool aux8 = false, kurtosisFallback = false;
};
Result<SinqSetup> sinqSetup(const Scheme& s, std::int64_t rows, std::int64_t cols);
double sinqKurtosis(MatrixView m); // the non-excess kurtosis the fallback option tests (> 5)

// What the run found besides the reconstruction: matrix imbalances (the weight's, the normalised
// weight's), the tiles' mean imbalances before and after, the kurtosis and whether the fallback
// was taken, and the widest group (largest fp16 s1, the first of equals) with its s1 and z.
struct SinqFindings {
    double imbalanceBefore = 0, imbalanceAfter = 0, tileBefore = 0, tileAfter = 0, kurtosis = 0;
    bool fallback = false;
    std::int64_t widest = -1;
    float widestScale = 0, widestZero = 0;
};
// The cost (without aux8's 8-bit parameters), levels, note and diagnostics, as quantizeSinq.
void describeSinq(const SinqSetup& setup, const SinqFindings& found, QuantOutput& out);

} // namespace qs
