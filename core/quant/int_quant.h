#pragma once
// Uniform integer quantization, the `int` family, exactly as DESIGN.md "Numeric conventions":
//   asym: lo = min(min, 0), hi = max(max, 0), scale = (hi - lo)/(2^b - 1), zero = rne(-lo/scale),
//         q = clamp(rne(x/scale) + zero, 0, 2^b - 1), x^ = scale*(q - zero)      (GPTQ, torch.ao)
//   sym:  scale = absmax/(2^(b-1) - 1), q in [-(2^(b-1) - 1), 2^(b-1) - 1], x^ = scale*q
//   sym range=full: scale = absmax/((2^b - 1)/2), q in [-2^(b-1), 2^(b-1) - 1] (compressed-tensors)
// All arithmetic in float32 with round-half-to-even. An all-zero group gets scale 1 and zero 0
// (it reconstructs exactly; torch.ao would clamp the scale to eps with the same result).
// clip=pN takes the range from percentiles (numpy's linear rule; |x| for sym, the N-th and
// (100-N)-th for asym); clip=mse is GPTQ's grid (shrink 1 - i/100, i < 80, least sum |err|^2.4).
// round=stochastic gives floor(x/scale + u) with u from a counter-based hash of (seed, index),
// so results are reproducible for a seed whatever the threading.
// Storage: b-bit codes, an fp16 scale per group, asym zero-points at b bits per group.

#include "quant/group_quant.h"
#include "quant/registry.h"

#include <cstdint>
#include <span>
#include <vector>

namespace qs {

struct IntQuantized {
    std::int64_t rows = 0, cols = 0;
    std::int64_t groupCols = 0;      // columns per group (cols for channel, all for tensor)
    std::int64_t groupsPerRow = 0;   // 1 for tensor granularity (one group overall)
    std::vector<std::int32_t> codes; // stored integer q, row-major like the input
    std::vector<float> scales;       // one per group, row-major [rows][groupsPerRow]
    std::vector<std::int32_t> zeros; // one per group (0 for sym)
    int qmin = 0, qmax = 0;

    std::size_t groupIndex(std::int64_t r, std::int64_t c) const;
};

Result<IntQuantized> quantizeIntCodes(const Scheme& s, MatrixView m,
                                      const ProgressFn& progress = {});
std::vector<float> dequantizeInt(const IntQuantized& q);
StorageCost intStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols);

// The levels of the widest group (largest scale) and the note saying which group that is.
void setIntLevels(const Scheme& s, std::span<const float> scales, std::span<const std::int32_t> zeros,
                  std::int64_t groupsPerRow, QuantOutput& out);
// The same from the widest group alone: its scale and zero, its index among `groupCount`.
void setWidestIntLevels(const Scheme& s, float scale, std::int32_t zero, std::size_t widest,
                        std::size_t groupCount, std::int64_t groupsPerRow, QuantOutput& out);

Result<QuantOutput> quantizeInt(const Scheme& s, MatrixView m, const ProgressFn& progress);
std::vector<float> intUnitLevels(const Scheme& s);

} // namespace qs
