#pragma once
// OCP Microscaling `mxfp4`, `mxfp6_e2m3`, `mxfp6_e3m2`, `mxfp8_e4m3`, `mxfp8_e5m2`, `mxint8`, and
// NVIDIA `nvfp4`, computed exactly as torchao's reference code (NUMERICS.md 3.2, 3.3).
//
// MX: blocks of 32 consecutive elements along a row, one E8M0 scale X = 2^(e-127) per block:
//   floor (default, torchao FLOOR): e = fp32 exponent field of amax - emax_elem + 127, with
//     emax_elem = 2 (E2M1, E2M3), 4 (E3M2), 8 (E4M3), 15 (E5M2), 0 (INT8);
//   ceil: +1 when amax's mantissa is not zero; even: amax rounded to the element's mantissa
//     width (add half an ulp, truncate) before taking the exponent; the unbiased exponent is
//     clamped to [-127, 128] (128 -> 0xFF, NaN);
//   rceil (NVIDIA / cuBLAS): e = E8M0 round-up of amax * (1/max_elem).
//   Elements: x * 2^(127-e) (exact), cast with round-to-nearest-even, saturating to the largest
//   element. MXINT8 elements are k/64, k in [-127, 127].
// nvfp4: blocks of 16, per-tensor scale pts = amax_tensor / (448 * 6) (fp32), block scale
//   s8 = e4m3(clamp((amax_block / 6) / pts, 2^-6, 448)) (RNE), elements
//   e2m1(clamp(x / (pts * s8), -6, 6)), reconstruction e2m1 * (pts * s8). An all-zero tensor
//   reconstructs as 0 (torchao would divide 0 by 0).
// A row whose length is not a multiple of the block: its last block is short; it is treated as
// padded with zeros (which change no amax and no other element) and the padding is paid for in
// the storage cost, as a kernel's layout would. Non-finite values follow torchao: a block whose
// amax is NaN/Inf gets the NaN scale (0xFF) and reconstructs as NaN entirely (nvfp4: a
// non-finite value makes the tensor scale non-finite, and everything NaN).
// Diagnostics: saturated_blocks (some |x/X| beyond the largest element, clipped),
// flushed_blocks (non-zero input, every element quantized to 0), nan_blocks.
// round=stochastic chooses between the two neighbouring element values by distance.
// Storage: element bits per (padded) element + 8 bits per block (+ 32 for the nvfp4 tensor
// scale): mxfp4 = 4.25, mxfp8 = 8.25, nvfp4 = 4.5 + 32/numel bits per weight.

#include "quant/registry.h"

#include <cstdint>

namespace qs {

// The biased E8M0 block exponent of a block with absolute maximum `amax` (MX families).
std::uint8_t mxScaleExponent(const Scheme& s, float amax);

// Storage cost of a [rows, cols] matrix (short last blocks paid as padded).
StorageCost mxStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols);
// Levels (the element values times the widest block scale, first row of the widest) and the
// block counts, as quantizeMx reports them; the CUDA engine says them the same way.
void describeMxBlocks(const Scheme& s, float widestScale, std::int64_t widestRow,
                      std::int64_t saturated, std::int64_t flushed, std::int64_t nanBlocks,
                      QuantOutput& out);

Result<QuantOutput> quantizeMx(const Scheme& s, MatrixView m, const ProgressFn& progress);
std::vector<float> mxUnitLevels(const Scheme& s);

} // namespace qs
