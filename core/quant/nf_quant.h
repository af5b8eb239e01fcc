#pragma once
// The codebook families with bitsandbytes' blockwise absmax semantics: `nf2`..`nf8` (NormalFloat;
// nf4 is bnb's table) and `bnb_fp4` (NUMERICS.md 1.3-1.5).
//
// Blocks: like bnb, the tensor is flattened row-major and cut into consecutive blocks of g (the
// group size, default 64); a trailing partial block gets its own absmax. When g divides the row
// length this is the same as groups along rows; when it does not (a 172-wide row with g64) a
// block spans two rows, exactly as bnb.quantize_4bit does. `channel` = one block per row,
// `tensor` = one block.
// Per block: absmax = max|x| (float32; NaN/Inf ignored, see below), scaled = x * (1/absmax)
// (reciprocal, then multiply, as bnb), clamped to [-1, 1]; nf: nearest code, a value exactly on
// a midpoint goes to the LOWER code; bnb_fp4: the CUDA kernel's threshold tree. Reconstruction
// code[q] * absmax in float32. An all-zero block reconstructs as 0 (bnb's default backend clamps
// absmax to 1e-38 with the same result; its CUDA kernel gives -0.0).
// dq (double quantization, bnb compress_statistics): offset = mean(absmax) (accumulated in double,
// stored float32); absmax - offset is quantized in blocks of 256 with bnb's signed 8-bit dynamic
// map (nested absmax float32 per 256, nearest entry, ties to the lower one); the codes use the
// exact absmax, the reconstruction the double-quantized one, dyn[q2] * nested + offset.
// Options: clip=pN|mse choose the absmax (mse: least squared error), round=stochastic picks one
// of the two neighbouring code values with probability by distance. NaN stays NaN, +-Inf go to
// the block's extreme code.
// Storage: k-bit codes + fp32 absmax per block (nf4:g64 = 4.5 bpw); with dq 8-bit absmax codes,
// an fp32 nested absmax per 256 blocks and the fp32 offset (nf4:g64:dq ~ 4.127).

#include "quant/registry.h"

#include <cstdint>
#include <vector>

namespace qs {

struct BnbQuantized {
    std::int64_t blockSize = 0;            // elements per block of the flattened tensor
    std::vector<std::uint8_t> codes;       // one per element (nf: index into the sorted codebook)
    std::vector<float> absmax;             // per block, as used to reconstruct (after dq if any)
    std::vector<std::uint8_t> absmaxCodes; // dq only: 8-bit codes of absmax - offset
    std::vector<float> nestedAbsmax;       // dq only: one per 256 blocks
    float offset = 0.0f;                   // dq only
    std::vector<float> codebook;           // value of each code (bnb_fp4: its 16-entry table)
    std::int64_t nonFinite = 0;
};

Result<BnbQuantized> quantizeBnbCodes(const Scheme& s, MatrixView m,
                                      const ProgressFn& progress = {});
std::vector<float> dequantizeBnb(const BnbQuantized& q);
// Elements per block of the flattened tensor: the group size, a row, or the whole tensor.
std::int64_t nfBlockSize(const Scheme& s, MatrixView m);

// A result's storage cost, levels and note: `blocks` blocks of `blockSize` over `numel`
// elements, the widest (the first of the largest absmax) block `widest` with absmax
// `widestAbsmax`. quantizeNormalFloat, the fused CPU path and the CUDA engine all say it so.
void describeNf(const Scheme& s, std::int64_t numel, std::int64_t blockSize, std::uint64_t blocks,
                std::size_t widest, float widestAbsmax, QuantOutput& out);

Result<QuantOutput> quantizeNormalFloat(const Scheme& s, MatrixView m, const ProgressFn& progress);
std::vector<float> normalFloatUnitLevels(const Scheme& s);

} // namespace qs
