// ggml's non-linear 4-bit formats IQ4_NL (blocks of 32, one fp16 scale) and IQ4_XS
// (super-blocks of 256, eight 6-bit sub-block scales), both on the kvalues_iq4nl code book.
// One search serves both, as ggml's quantize_row_iq4_nl_impl does: per 32, a weighted
// least-squares scale over 2*ntry+1 trial inverse scales, nearest code by best_index_int8.

#include "quant/ggml_rows.h"
#include "quant/ggml_search.h"

#include "cuda/device_kquants.h"

#include <cmath>
#include <cstring>

namespace qs::ggml {
namespace {

constexpr int kBlock = 32;

struct Iq4Out {
    std::uint16_t* dh;
    std::uint8_t* q4;
    std::uint16_t* scalesH; // IQ4_XS only
    std::uint8_t* scalesL;  // IQ4_XS only
};

// One trial's sums of w * q * x and w * q * q over the codes L (dev::iq4TrialSums, with the codes
// found beforehand for the whole block), in ggml's order.
void trialSums(const std::int8_t* values, const std::uint8_t* L, const float* x, const float* w,
               float& sumqx, float& sumq2) {
    sumqx = 0;
    sumq2 = 0;
    for (int j = 0; j < kBlock; ++j) {
        const auto q = static_cast<float>(values[L[j]]);
        sumqx += w[j] * q * x[j];
        sumq2 += w[j] * q * q;
    }
}

// quantize_row_iq4_nl_impl(superBlockSize, 32, ...). `L` must hold superBlockSize codes and
// persists across calls like ggml's caller-owned buffer (it matters only for all-zero blocks of
// the ntry <= 0 reference path, whose codes ggml leaves as they were).
void iq4Impl(int superBlockSize, const float* x, Iq4Out out, float* scales, std::uint8_t* L,
             const float* qw, int ntry) {
    const std::int8_t* values = kIq4nlValues;
    float weight[kBlock];
    float sigma2 = 0;
    for (int j = 0; j < superBlockSize; ++j)
        sigma2 += x[j] * x[j];
    sigma2 *= 2.f / static_cast<float>(superBlockSize);

    std::memset(out.q4, 0, static_cast<std::size_t>(superBlockSize / 2));
    out.dh[0] = toHalf(0.f);

    const int nb = superBlockSize / kBlock;
    float maxScale = 0, amaxScale = 0;
    for (int ib = 0; ib < nb; ++ib) {
        const float* xb = x + ib * kBlock;
        std::uint8_t* Lb = L + ib * kBlock;
        if (qw) {
            const float* w = qw + ib * kBlock;
            for (int j = 0; j < kBlock; ++j)
                weight[j] = w[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
        } else {
            for (int j = 0; j < kBlock; ++j)
                weight[j] = xb[j] * xb[j];
        }
        float amax = 0, max = 0;
        for (int j = 0; j < kBlock; ++j) {
            const float ax = std::fabs(xb[j]);
            if (ax > amax) {
                amax = ax;
                max = xb[j];
            }
        }
        if (amax < kGroupMaxEps) {
            scales[ib] = 0;
            continue;
        }
        const auto v0 = static_cast<float>(values[0]);
        float d = ntry > 0 ? -max / v0 : max / v0;
        float sumqx = 0, sumq2 = 0;
        bestIndicesInt8(values, 1 / d, xb, kBlock, Lb);
        trialSums(values, Lb, xb, weight, sumqx, sumq2);
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -ntry; itry <= ntry; ++itry) {
            std::uint8_t trial[kBlock];
            bestIndicesInt8(values, static_cast<float>(itry + values[0]) / max, xb, kBlock, trial);
            trialSums(values, trial, xb, weight, sumqx, sumq2);
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scales[ib] = d;
        const float absD = std::fabs(d);
        if (absD > amaxScale) {
            amaxScale = absD;
            maxScale = d;
        }
    }

    if (nb > 1) {
        out.scalesH[0] = 0;
        const float d = -maxScale / 32;
        out.dh[0] = toHalf(d);
        const float id = d != 0 ? 1 / d : 0.f;
        for (int ib = 0; ib < nb; ++ib) {
            int l = nearestInt(id * scales[ib]);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            const float dl = d * static_cast<float>(l);
            const float idl = dl != 0 ? 1 / dl : 0.f;
            bestIndicesInt8(values, idl, x + ib * kBlock, kBlock, L + ib * kBlock);
            l += 32;
            const auto lLow = static_cast<std::uint8_t>(l & 0xf);
            const auto lHigh = static_cast<std::uint16_t>(l >> 4);
            if (ib % 2 == 0)
                out.scalesL[ib / 2] = lLow;
            else
                out.scalesL[ib / 2] |= static_cast<std::uint8_t>(lLow << 4);
            out.scalesH[ib / 8] |= static_cast<std::uint16_t>(lHigh << (2 * (ib % 8)));
        }
    } else {
        out.dh[0] = toHalf(scales[0]);
        if (ntry > 0) {
            bestIndicesInt8(values, scales[0] != 0 ? 1 / scales[0] : 0, x, superBlockSize, L);
        }
    }

    for (int i = 0; i < superBlockSize / 32; ++i)
        for (int j = 0; j < 16; ++j)
            out.q4[16 * i + j] =
                static_cast<std::uint8_t>(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

void iq4NlRow(const float* x, void* dst, std::int64_t n, const float* qw, int ntry) {
    std::uint8_t L[kQK4_NL] = {};
    float scale = 0;
    std::uint16_t unusedH = 0;
    for (std::int64_t ib = 0; ib < n / kQK4_NL; ++ib) {
        BlockIq4Nl b{};
        iq4Impl(kQK4_NL, x + ib * kQK4_NL, {&b.d, b.qs, &unusedH, nullptr}, &scale, L,
                qw ? qw + ib * kQK4_NL : nullptr, ntry);
        storeBlock(dst, ib, b);
    }
}

} // namespace

// quantize_iq4_nl (ntry 7): what llama-quantize runs for IQ4_NL, with or without an imatrix.
void quantizeIq4Nl(const float* x, void* dst, std::int64_t n, const float* qw) {
    iq4NlRow(x, dst, n, qw, 7);
}

// quantize_row_iq4_nl_ref (ntry -1: the first least-squares scale, no search)
void quantizeIq4NlRef(const float* x, void* dst, std::int64_t n) {
    iq4NlRow(x, dst, n, nullptr, -1);
}

// quantize_iq4_xs (= quantize_row_iq4_xs_ref without weights)
void quantizeIq4Xs(const float* x, void* dst, std::int64_t n, const float* qw) {
    std::uint8_t L[kQK_K] = {};
    float scales[kQK_K / 32];
    for (std::int64_t ib = 0; ib < n / kQK_K; ++ib) {
        BlockIq4Xs b{};
        iq4Impl(kQK_K, x + ib * kQK_K, {&b.d, b.qs, &b.scalesH, b.scalesL}, scales, L,
                qw ? qw + ib * kQK_K : nullptr, 7);
        storeBlock(dst, ib, b);
    }
}

} // namespace qs::ggml
