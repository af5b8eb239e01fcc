#pragma once
// The float element families `fp4` (E2M1), `fp6_e2m3`, `fp6_e3m2`, `fp8_e4m3`, `fp8_e5m2` with one
// scale per tensor / row (default `channel`) / group. As torchao's Float8 weight path and
// compressed-tensors do: scale = absmax / max_normal in float32 (448 for E4M3, 57344 for E5M2,
// 6, 7.5, 28), element = saturating round-to-nearest-even cast of x / scale (a division), and the
// reconstruction element * scale. So fp8_e4m3:channel equals PyTorch's
// (x / (amax/448)).clamp(-448, 448).to(float8_e4m3fn) row by row.
// An all-zero group reconstructs as 0. clip=pN|mse choose the absmax (mse: least squared error);
// round=stochastic picks between the two neighbouring representable values by distance. NaN
// inputs stay NaN (and the scale ignores them); +-Inf saturate to +-max * scale.
// Storage: element bits + an fp32 scale per group (the scale is kept in float32, as those tools
// store it; DESIGN.md's fp16 default would change the numbers).

#include "quant/float_formats.h"
#include "quant/registry.h"

namespace qs {

// Element format of a float-element or microscaling family ("fp8_e4m3", "mxfp4", "nvfp4", ...).
ElementFormat elementFormatOf(std::string_view family);

Result<QuantOutput> quantizeFloatElement(const Scheme& s, MatrixView m, const ProgressFn& progress);
std::vector<float> floatElementUnitLevels(const Scheme& s);
// Cost, levels (the element values times the widest group's scale) and note of a result with
// `groups` scale groups, the widest (first of the largest scale) `widest`; the CUDA engine says
// them the same way.
void describeFloatElement(const Scheme& s, std::int64_t rows, std::int64_t cols,
                          std::size_t groups, std::size_t widest, float widestScale,
                          QuantOutput& out);

} // namespace qs
