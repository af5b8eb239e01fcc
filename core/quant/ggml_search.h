#pragma once
// The scale searches of ggml's K-quant and IQ4 reference quantizers (ggml src/ggml-quants.c),
// reimplemented with the same float operations in the same order, so that the chosen scales and
// codes are bit-identical. Internal to core/quant; the block quantizers use them.
//
// Compile with -ffp-contract=off (see core/CMakeLists.txt): a fused multiply-add would change
// the last bit of a sum and with it the chosen scale.

#include "cuda/device_kquants.h"
#include "tensor/dtype.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace qs::ggml {

// GROUP_MAX_EPS: below this a group counts as all zero.
constexpr float kGroupMaxEps = 1e-15f;

// nearest_int: round half to even through the 1.5*2^23 bit trick. Exact for |x| <= 4194303;
// beyond that it returns what ggml's does (ggml only asserts in debug builds).
inline int nearestInt(float fval) {
    const float val = fval + 12582912.f;
    std::int32_t i;
    std::memcpy(&i, &val, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

// GGML_FP32_TO_FP16 / GGML_FP16_TO_FP32 (round to nearest even, exact widening).
inline std::uint16_t toHalf(float f) {
    return floatToHalf(f);
}
inline float fromHalf(std::uint16_t h) {
    return halfToFloat(h);
}

// best_index_int8: index of the nearest of `n` sorted values; ties go to the upper one. (The
// CUDA kernels' copy, plain C++ on the host: cuda/device_kquants.h.)
inline int bestIndexInt8(int n, const std::int8_t* val, float x) {
    return dev::bestIndexInt8(n, val, x);
}
// out[j] = bestIndexInt8(16, values, id * x[j]) for j < n, branch-free and vectorised
// (ggml_best_index.cpp): the IQ4 searches' inner loop.
void bestIndicesInt8(const std::int8_t* values, float id, const float* x, int n, std::uint8_t* out);

// make_qx_quants: symmetric codes L in [0, 2*nmax) around nmax with a weighted least-squares
// scale, trying 18 perturbed inverse scales. rmseType 1 weighs by x^2 (or by qw when given).
// The importance weights of ggml's imatrix paths: w[l] = qw[l] * sqrt(sigma2 + x[l]^2) for
// l < n; returns their sum, added in order (the K-quants weigh each sub-block by it).
inline float importanceWeights(const float* x, const float* qw, float sigma2, int n, float* w) {
    float sum = 0;
    for (int l = 0; l < n; ++l) {
        w[l] = qw[l] * std::sqrt(sigma2 + x[l] * x[l]);
        sum += w[l];
    }
    return sum;
}

float makeQxQuants(int n, int nmax, const float* x, std::int8_t* L, int rmseType, const float* qw);
// makeQxQuants (rmseType 1..4, with or without qw; not the early-return form) on kQkxBatch blocks
// of n values held transposed, element i of block b at [i * kQkxBatch + b] in x, qw and L, one
// block per vector lane: each lane's sums, comparisons and codes are the scalar function's.
void makeQxQuantsBatch(int n, int nmax, const float* x, std::int8_t* L, int rmseType,
                       const float* qw, float* scale);

// make_q3_quants: as make_qx_quants with x^2 weights and a coordinate-descent refinement.
float makeQ3Quants(int n, int nmax, const float* x, std::int8_t* L, bool doRmse);

// make_qkx2_quants: asymmetric codes in [0, nmax] with scale and min (min <= 0 returned as
// theMin = -min); a grid of nstep+1 inverse scales rmin + rdelta*is + nmax over the range.
// make_qkx3_quants is the same search that treats max <= min (not only max == min) as empty
// (`qkx3`). Here for `count` consecutive blocks of n values (n <= 32): x and w hold them one
// after another, L receives their codes the same way, scale and theMin one value per block.
// The blocks are searched kQkxBatch at a time, one per vector lane (makeQkxQuantsBatch).
void makeQkxQuantsBlocks(int n, int nmax, const float* x, const float* w, int count,
                         std::uint8_t* L, float* scale, float* theMin, float rmin, float rdelta,
                         int nstep, bool useMad, bool qkx3);

// The same on kQkxBatch blocks held transposed: element i of block b at [i * kQkxBatch + b].
inline constexpr int kQkxBatch = 16;
void makeQkxQuantsBatch(int n, int nmax, const float* x, const float* w, std::uint8_t* L,
                        float* scale, float* theMin, float rmin, float rdelta, int nstep,
                        bool useMad, bool emptyIfMaxNotAboveMin);

// make_qp_quants: non-negative codes in [0, nmax] for the (positive) sub-block scales.
float makeQpQuants(int n, int nmax, const float* x, std::uint8_t* L, const float* quantWeights);

// get_scale_min_k4: the j-th 6-bit (scale, min) pair of a Q4_K/Q5_K scales[12] array.
inline void getScaleMinK4(int j, const std::uint8_t* q, std::uint8_t* d, std::uint8_t* m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = static_cast<std::uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<std::uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

// The inverse of getScaleMinK4 for quantizers: stores pair j of 6-bit values (ls, lm).
inline void setScaleMinK4(int j, std::uint8_t ls, std::uint8_t lm, std::uint8_t* scales) {
    if (j < 4) {
        scales[j] = ls;
        scales[j + 4] = lm;
    } else {
        scales[j + 4] = static_cast<std::uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
        scales[j - 4] |= static_cast<std::uint8_t>((ls >> 4) << 6);
        scales[j - 0] |= static_cast<std::uint8_t>((lm >> 4) << 6);
    }
}

} // namespace qs::ggml
