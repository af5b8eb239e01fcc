#pragma once
// Where in a matrix the quantization error sits, for the Compare tab: the RMSE of w - w^ per row,
// per column and per tile of a coarse grid (at most maxTiles x maxTiles tiles, each covering
// ceil(rows / tileRows) x ceil(cols / tileCols) elements), and a sample of (w, w - w^) pairs for
// a signed-error-vs-value scatter: an even stride over all elements plus the largest errors, so
// outliers always show. Sums in double. Pure functions; any thread.

#include "quant/registry.h"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace qs {

struct ErrorMap {
    std::int64_t rows = 0, cols = 0;         // of the matrix
    std::int64_t tileRows = 1, tileCols = 1; // elements per tile along each axis
    int gridRows = 0, gridCols = 0;
    std::vector<double> tileRmse; // gridRows x gridCols, row-major
    std::vector<double> rowRmse;  // one per matrix row
    std::vector<double> colRmse;  // one per matrix column
    double maxTileRmse() const;
};

// `reconstruction` has w's size. Errors on size mismatch are the caller's bug: empty map.
ErrorMap computeErrorMap(MatrixView w, std::span<const float> reconstruction, int maxTiles = 96);

struct ErrorSample {
    float value = 0; // w
    float error = 0; // w - w^
};

// At most `maxPoints` strided samples plus the `largest` largest |w - w^|, without repeats,
// in index order.
std::vector<ErrorSample> sampleErrors(MatrixView w, std::span<const float> reconstruction,
                                      std::size_t maxPoints = 4000, std::size_t largest = 64);

} // namespace qs
