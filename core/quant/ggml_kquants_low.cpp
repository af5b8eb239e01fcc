// ggml's 2- and 3-bit K-quants (super-blocks of 256, sub-blocks of 16). Without importance
// weights: quantize_row_q2_K_ref / quantize_row_q3_K_ref (what quantize_q2_K / quantize_q3_K and
// so llama-quantize without an imatrix run); with weights: quantize_row_q{2,3}_K_impl.

#include "quant/ggml_rows.h"
#include "quant/ggml_search.h"

#include <cmath>
#include <cstring>

namespace qs::ggml {
namespace {

constexpr int kSub = kQK_K / 16; // 16 sub-blocks of 16

// Four 2-bit codes per byte: within each 128, byte l holds elements l, l+32, l+64, l+96.
void pack2Bit(const std::uint8_t* L, std::uint8_t* qs) {
    for (int j = 0; j < kQK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = static_cast<std::uint8_t>(L[j + l] | (L[j + l + 32] << 2) |
                                                      (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

// Q2_K codes against the fp16-rounded super-block scales (ggml re-quantizes after rounding).
void requantizeQ2(const float* x, const BlockQ2_K& b, std::uint8_t* L) {
    for (int j = 0; j < kSub; ++j) {
        const float d = fromHalf(b.d) * static_cast<float>(b.scales[j] & 0xF);
        if (d == 0)
            continue;
        const float dm = fromHalf(b.dmin) * static_cast<float>(b.scales[j] >> 4);
        for (int ii = 0; ii < 16; ++ii) {
            const int l = nearestInt((x[16 * j + ii] + dm) / d);
            L[16 * j + ii] = static_cast<std::uint8_t>(l < 0 ? 0 : l > 3 ? 3 : l);
        }
    }
}

// quantize_row_q2_K_ref, one super-block
BlockQ2_K q2Ref(const float* x) {
    std::uint8_t L[kQK_K];
    float mins[kSub];
    float scales[kSub];
    const float q4scale = 15.f;
    BlockQ2_K b{};
    float maxScale = 0, maxMin = 0;
    float weights[kQK_K];
    for (int l = 0; l < kQK_K; ++l)
        weights[l] = std::fabs(x[l]);
    makeQkxQuantsBlocks(16, 3, x, weights, kSub, L, scales, mins, -0.5f, 0.1f, 15, true, false);
    for (int j = 0; j < kSub; ++j) {
        if (scales[j] > maxScale)
            maxScale = scales[j];
        if (mins[j] > maxMin)
            maxMin = mins[j];
    }
    if (maxScale > 0) {
        const float iscale = q4scale / maxScale;
        for (int j = 0; j < kSub; ++j)
            b.scales[j] = static_cast<std::uint8_t>(nearestInt(iscale * scales[j]));
        b.d = toHalf(maxScale / q4scale);
    } else {
        b.d = toHalf(0.f);
    }
    if (maxMin > 0) {
        const float iscale = q4scale / maxMin;
        for (int j = 0; j < kSub; ++j)
            b.scales[j] |= static_cast<std::uint8_t>(nearestInt(iscale * mins[j]) << 4);
        b.dmin = toHalf(maxMin / q4scale);
    } else {
        b.dmin = toHalf(0.f);
    }
    requantizeQ2(x, b, L);
    pack2Bit(L, b.qs);
    return b;
}

// quantize_row_q2_K_impl, one super-block; qw: the weights of this super-block
BlockQ2_K q2Impl(const float* x, const float* qw) {
    std::uint8_t L[kQK_K];
    float mins[kSub], scales[kSub], sw[kSub] = {};
    float weights[kQK_K];
    std::uint8_t Ls[kSub], Lm[kSub];
    float sumx2 = 0;
    for (int j = 0; j < kQK_K; ++j)
        sumx2 += x[j] * x[j];
    const float sigma2 = sumx2 / kQK_K;
    for (int j = 0; j < kSub; ++j)
        sw[j] = importanceWeights(x + 16 * j, qw + 16 * j, sigma2, 16, weights + 16 * j);
    makeQkxQuantsBlocks(16, 3, x, weights, kSub, L, scales, mins, -0.9f, 0.05f, 36, false, true);
    BlockQ2_K b{};
    const float dm = makeQpQuants(kSub, 15, scales, Ls, sw);
    const float mm = makeQpQuants(kSub, 15, mins, Lm, sw);
    b.d = toHalf(dm);
    b.dmin = toHalf(mm);
    for (int j = 0; j < kSub; ++j)
        b.scales[j] = static_cast<std::uint8_t>(Ls[j] | (Lm[j] << 4));
    requantizeQ2(x, b, L);
    pack2Bit(L, b.qs);
    return b;
}

// The 6-bit scale of sub-block j as Q3_K stores it (offset by 32).
int q3Scale(const BlockQ3_K& b, int j) {
    int sc = j < 8 ? b.scales[j] & 0xF : b.scales[j - 8] >> 4;
    sc = (sc | (((b.scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
    return static_cast<std::int8_t>(sc);
}

void setQ3Scale(BlockQ3_K& b, int j, int l) {
    if (j < 8)
        b.scales[j] = static_cast<std::uint8_t>(l & 0xF);
    else
        b.scales[j - 8] |= static_cast<std::uint8_t>((l & 0xF) << 4);
    l >>= 4;
    b.scales[j % 4 + 8] |= static_cast<std::uint8_t>(l << (2 * (j / 4)));
}

// Codes against the stored scales, then the high bits into hmask and the low two into qs.
void finishQ3(const float* x, BlockQ3_K& b, std::int8_t* L) {
    for (int j = 0; j < kSub; ++j) {
        const float d = fromHalf(b.d) * static_cast<float>(q3Scale(b, j));
        if (d == 0)
            continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = nearestInt(x[16 * j + ii] / d);
            l = l < -4 ? -4 : l > 3 ? 3 : l;
            L[16 * j + ii] = static_cast<std::int8_t>(l + 4);
        }
    }
    std::memset(b.hmask, 0, sizeof b.hmask);
    // the high bit of the first 32 codes goes to bit 0 of hmask[0..31], the next 32 to bit 1...
    int m = 0;
    std::uint8_t hm = 1;
    std::uint8_t Lu[kQK_K];
    for (int j = 0; j < kQK_K; ++j) {
        int l = L[j];
        if (l > 3) {
            b.hmask[m] |= hm;
            l -= 4;
        }
        Lu[j] = static_cast<std::uint8_t>(l);
        if (++m == kQK_K / 8) {
            m = 0;
            hm = static_cast<std::uint8_t>(hm << 1);
        }
    }
    pack2Bit(Lu, b.qs);
}

// quantize_row_q3_K_ref, one super-block
BlockQ3_K q3Ref(const float* x) {
    std::int8_t L[kQK_K];
    float scales[kSub];
    float maxScale = 0, amax = 0;
    for (int j = 0; j < kSub; ++j) {
        scales[j] = makeQ3Quants(16, 4, x + 16 * j, L + 16 * j, true);
        const float scale = std::fabs(scales[j]);
        if (scale > amax) {
            amax = scale;
            maxScale = scales[j];
        }
    }
    BlockQ3_K b{};
    if (maxScale != 0) {
        const float iscale = -32.f / maxScale;
        for (int j = 0; j < kSub; ++j) {
            auto l = static_cast<std::int8_t>(nearestInt(iscale * scales[j]));
            l = static_cast<std::int8_t>((l < -32 ? -32 : l > 31 ? 31 : l) + 32);
            setQ3Scale(b, j, l);
        }
        b.d = toHalf(1 / iscale);
    } else {
        b.d = toHalf(0.f);
    }
    finishQ3(x, b, L);
    return b;
}

// quantize_row_q3_K_impl, one super-block
BlockQ3_K q3Impl(const float* x, const float* qw) {
    std::int8_t L[kQK_K];
    float scales[kSub], weight[16], sw[kSub];
    std::int8_t Ls[kSub];
    float sumx2 = 0;
    for (int j = 0; j < kQK_K; ++j)
        sumx2 += x[j] * x[j];
    const float sigma2 = 2 * sumx2 / kQK_K;
    for (int j = 0; j < kSub; ++j) {
        sw[j] = importanceWeights(x + 16 * j, qw + 16 * j, sigma2, 16, weight);
        scales[j] = makeQxQuants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
    }
    BlockQ3_K b{};
    const float dBlock = makeQxQuants(kSub, 32, scales, Ls, 1, sw);
    for (int j = 0; j < kSub; ++j)
        setQ3Scale(b, j, Ls[j]);
    b.d = toHalf(dBlock);
    finishQ3(x, b, L);
    return b;
}

} // namespace

void quantizeQ2_K(const float* x, void* dst, std::int64_t n, const float* qw) {
    for (std::int64_t i = 0; i < n / kQK_K; ++i)
        storeBlock(dst, i, qw ? q2Impl(x + i * kQK_K, qw + i * kQK_K) : q2Ref(x + i * kQK_K));
}

void quantizeQ3_K(const float* x, void* dst, std::int64_t n, const float* qw) {
    for (std::int64_t i = 0; i < n / kQK_K; ++i)
        storeBlock(dst, i, qw ? q3Impl(x + i * kQK_K, qw + i * kQK_K) : q3Ref(x + i * kQK_K));
}

} // namespace qs::ggml
