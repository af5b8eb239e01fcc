// ggml's 4-, 5- and 6-bit K-quants (super-blocks of 256). Without importance weights:
// quantize_row_q{4,5,6}_K_ref (what quantize_q*_K, and so llama-quantize without an imatrix,
// runs); with weights: quantize_row_q{4,5,6}_K_impl.

#include "quant/ggml_rows.h"
#include "quant/ggml_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qs::ggml {
namespace {

constexpr int kSub32 = kQK_K / 32; // Q4_K/Q5_K: 8 sub-blocks of 32
constexpr int kSub16 = kQK_K / 16; // Q6_K: 16 sub-blocks of 16

// Q4_K and Q5_K take super-blocks in pairs: the sub-blocks of both (16) are searched together,
// one per vector lane of makeQkxQuantsBlocks (kQkxBatch), each as ggml searches it alone.
constexpr int kPair = 2;

// Each super-block's stored scales: 6-bit codes of its sub-block scales and mins, and the fp16
// d and dmin.
struct StoredScales {
    std::uint8_t scales[12];
    std::uint16_t d, dmin;
};

// quantize_row_q{4,5}_K_ref for `count` (1 or 2) super-blocks: scales by make_qkx2_quants, 6-bit
// scale codes against max/63.
void refScales(const float* x, int count, int nmax, float rmin, int nstep, std::uint8_t* L,
               StoredScales* out) {
    float weights[kPair * kQK_K];
    float scales[kPair * kSub32], mins[kPair * kSub32];
    for (int j = 0; j < kSub32 * count; ++j) {
        float sumX2 = 0;
        for (int l = 0; l < 32; ++l)
            sumX2 += x[32 * j + l] * x[32 * j + l];
        const float avX = std::sqrt(sumX2 / 32);
        for (int l = 0; l < 32; ++l)
            weights[32 * j + l] = avX + std::fabs(x[32 * j + l]);
    }
    makeQkxQuantsBlocks(32, nmax, x, weights, kSub32 * count, L, scales, mins, rmin, 0.1f, nstep,
                        false, false);
    for (int b = 0; b < count; ++b) {
        const float* sc = scales + kSub32 * b;
        const float* mn = mins + kSub32 * b;
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < kSub32; ++j) {
            if (sc[j] > maxScale)
                maxScale = sc[j];
            if (mn[j] > maxMin)
                maxMin = mn[j];
        }
        const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        const float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        for (int j = 0; j < kSub32; ++j) {
            auto ls = static_cast<std::uint8_t>(nearestInt(invScale * sc[j]));
            auto lm = static_cast<std::uint8_t>(nearestInt(invMin * mn[j]));
            ls = ls < 63 ? ls : 63;
            lm = lm < 63 ? lm : 63;
            setScaleMinK4(j, ls, lm, out[b].scales);
        }
        out[b].d = toHalf(maxScale / 63.f);
        out[b].dmin = toHalf(maxMin / 63.f);
    }
}

// quantize_row_q{4,5}_K_impl for `count` super-blocks: make_qkx3_quants per sub-block,
// make_qp_quants on each super-block's scales.
void implScales(const float* x, const float* qw, int count, int nmax, std::uint8_t* L,
                StoredScales* out) {
    float weights[kPair * kQK_K] = {}, sw[kPair * kSub32]; // zeroed: GCC cannot see count's reach
    float scales[kPair * kSub32], mins[kPair * kSub32];
    for (int b = 0; b < count; ++b) {
        const float* xb = x + kQK_K * b;
        float sumX2 = 0;
        for (int l = 0; l < kQK_K; ++l)
            sumX2 += xb[l] * xb[l];
        const float sigma2 = 2 * sumX2 / kQK_K;
        for (int j = kSub32 * b; j < kSub32 * (b + 1); ++j)
            sw[j] = importanceWeights(x + 32 * j, qw + 32 * j, sigma2, 32, weights + 32 * j);
    }
    makeQkxQuantsBlocks(32, nmax, x, weights, kSub32 * count, L, scales, mins, -0.9f, 0.05f, 36,
                        false, true);
    for (int b = 0; b < count; ++b) {
        std::uint8_t Ls[kSub32], Lm[kSub32];
        const float dBlock = makeQpQuants(kSub32, 63, scales + kSub32 * b, Ls, sw + kSub32 * b);
        const float mBlock = makeQpQuants(kSub32, 63, mins + kSub32 * b, Lm, sw + kSub32 * b);
        for (int j = 0; j < kSub32; ++j)
            setScaleMinK4(j, Ls[j] < 63 ? Ls[j] : 63, Lm[j] < 63 ? Lm[j] : 63, out[b].scales);
        out[b].d = toHalf(dBlock);
        out[b].dmin = toHalf(mBlock);
    }
}

// Codes in [0, nmax] against the stored fp16 scales (sub-blocks whose scale is 0 keep the codes
// of the search, as in ggml).
void requantizeK(const float* x, const std::uint8_t* scales, std::uint16_t dh, std::uint16_t dminh,
                 int nmax, std::uint8_t* L) {
    for (int j = 0; j < kSub32; ++j) {
        std::uint8_t sc = 0, m = 0;
        getScaleMinK4(j, scales, &sc, &m);
        const float d = fromHalf(dh) * static_cast<float>(sc);
        if (d == 0)
            continue;
        const float dm = fromHalf(dminh) * static_cast<float>(m);
        for (int ii = 0; ii < 32; ++ii) {
            const int l = nearestInt((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = static_cast<std::uint8_t>(l < 0 ? 0 : l > nmax ? nmax : l);
        }
    }
}

// The codes of one super-block in Q4_K's layout: each 64 elements, the first 32 in the low
// nibbles of 32 bytes, the next 32 in the high.
BlockQ4_K packQ4K(const StoredScales& sc, const std::uint8_t* L) {
    BlockQ4_K b{};
    std::memcpy(b.scales, sc.scales, sizeof b.scales);
    b.d = sc.d;
    b.dmin = sc.dmin;
    for (int j = 0; j < kQK_K; j += 64)
        for (int l = 0; l < 32; ++l)
            b.qs[j / 2 + l] = static_cast<std::uint8_t>(L[j + l] | (L[j + l + 32] << 4));
    return b;
}

// Q5_K: as Q4_K for the low nibbles; the 5th bit of chunk c's two halves at bits 2c and 2c+1.
BlockQ5_K packQ5K(const StoredScales& sc, const std::uint8_t* L) {
    BlockQ5_K b{};
    std::memcpy(b.scales, sc.scales, sizeof b.scales);
    b.d = sc.d;
    b.dmin = sc.dmin;
    std::uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQK_K; n += 64) {
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j];
            if (l1 > 15) {
                l1 -= 16;
                b.qh[j] |= m1;
            }
            int l2 = L[n + j + 32];
            if (l2 > 15) {
                l2 -= 16;
                b.qh[j] |= m2;
            }
            b.qs[n / 2 + j] = static_cast<std::uint8_t>(l1 | (l2 << 4));
        }
        m1 = static_cast<std::uint8_t>(m1 << 2);
        m2 = static_cast<std::uint8_t>(m2 << 2);
    }
    return b;
}

// Q4_K or Q5_K over a row, super-blocks in pairs (refScales/implScales), then each requantized
// against its stored scales and packed. ref: make_qkx2's rmin and steps without an imatrix.
template <class Pack>
void quantizeK45(const float* x, void* dst, std::int64_t n, const float* qw, int nmax, float rmin,
                 int nstep, Pack pack) {
    const std::int64_t blocks = n / kQK_K;
    for (std::int64_t i = 0; i < blocks; i += kPair) {
        const int count = static_cast<int>(std::min<std::int64_t>(kPair, blocks - i));
        const float* xs = x + i * kQK_K;
        std::uint8_t L[kPair * kQK_K];
        StoredScales sc[kPair]{};
        if (qw)
            implScales(xs, qw + i * kQK_K, count, nmax, L, sc);
        else
            refScales(xs, count, nmax, rmin, nstep, L, sc);
        for (int b = 0; b < count; ++b) {
            requantizeK(xs + b * kQK_K, sc[b].scales, sc[b].d, sc[b].dmin, nmax, L + b * kQK_K);
            storeBlock(dst, i + b, pack(sc[b], L + b * kQK_K));
        }
    }
}

// quantize_row_q6_K_ref / _impl (the imatrix only replaces make_qx_quants' x^2 weights)
BlockQ6_K q6K(const float* x, const float* qw) {
    BlockQ6_K b{};
    std::int8_t L[kQK_K];
    float scales[kSub16];
    float maxScale = 0, maxAbsScale = 0;
    // make_qx_quants on the 16 sub-blocks at once, one per vector lane (held transposed).
    static_assert(kSub16 == kQkxBatch);
    float xT[kQK_K], qwT[kQK_K];
    std::int8_t LT[kQK_K];
    for (int ib = 0; ib < kSub16; ++ib)
        for (int i = 0; i < 16; ++i) {
            xT[i * kSub16 + ib] = x[16 * ib + i];
            qwT[i * kSub16 + ib] = qw ? qw[16 * ib + i] : 0.0f;
        }
    makeQxQuantsBatch(16, 32, xT, LT, 1, qw ? qwT : nullptr, scales);
    for (int ib = 0; ib < kSub16; ++ib)
        for (int i = 0; i < 16; ++i)
            L[16 * ib + i] = LT[i * kSub16 + ib];
    for (int ib = 0; ib < kSub16; ++ib) {
        const float scale = scales[ib];
        const float absScale = std::fabs(scale);
        if (absScale > maxAbsScale) {
            maxAbsScale = absScale;
            maxScale = scale;
        }
    }
    if (maxAbsScale < kGroupMaxEps) {
        b.d = toHalf(0.f);
        return b;
    }
    const float iscale = -128.f / maxScale;
    b.d = toHalf(1 / iscale);
    for (int ib = 0; ib < kSub16; ++ib) {
        const int s = nearestInt(iscale * scales[ib]);
        b.scales[ib] = static_cast<std::int8_t>(s < 127 ? s : 127);
    }
    for (int j = 0; j < kSub16; ++j) {
        const float d = fromHalf(b.d) * static_cast<float>(b.scales[j]);
        if (d == 0)
            continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = nearestInt(x[16 * j + ii] / d);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            L[16 * j + ii] = static_cast<std::int8_t>(l + 32);
        }
    }
    // per 128: ql[l] holds elements l (low) and l+64 (high), ql[l+32] elements l+32 and l+96;
    // qh[l] the top two bits of l, l+32, l+64, l+96 at shifts 0, 2, 4, 6
    std::uint8_t* ql = b.ql;
    std::uint8_t* qh = b.qh;
    for (int j = 0; j < kQK_K; j += 128) {
        for (int l = 0; l < 32; ++l) {
            const int q1 = L[j + l + 0] & 0xF;
            const int q2 = L[j + l + 32] & 0xF;
            const int q3 = L[j + l + 64] & 0xF;
            const int q4 = L[j + l + 96] & 0xF;
            ql[l + 0] = static_cast<std::uint8_t>(q1 | (q3 << 4));
            ql[l + 32] = static_cast<std::uint8_t>(q2 | (q4 << 4));
            qh[l] = static_cast<std::uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                              ((L[j + l + 64] >> 4) << 4) |
                                              ((L[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
    return b;
}

} // namespace

void quantizeQ4_K(const float* x, void* dst, std::int64_t n, const float* qw) {
    quantizeK45(x, dst, n, qw, 15, -1.f, 20, packQ4K);
}

void quantizeQ5_K(const float* x, void* dst, std::int64_t n, const float* qw) {
    quantizeK45(x, dst, n, qw, 31, -0.5f, 15, packQ5K);
}

void quantizeQ6_K(const float* x, void* dst, std::int64_t n, const float* qw) {
    for (std::int64_t i = 0; i < n / kQK_K; ++i)
        storeBlock(dst, i, q6K(x + i * kQK_K, qw ? qw + i * kQK_K : nullptr));
}

} // namespace qs::ggml
