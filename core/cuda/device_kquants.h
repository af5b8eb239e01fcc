#pragma once
// ggml's Q2_K, Q4_K, Q5_K and Q6_K reference quantizers (quantize_row_q{2,4,5,6}_K_ref: what
// llama-quantize runs without an imatrix) and IQ4_NL's (quantize_iq4_nl, ntry 7, no imatrix),
// with their dequantizers, one block (a super-block of 256; IQ4_NL: 32 values) at a time, in scalar
// arithmetic for the host and the device (cuda/kquant_kernels.cu). The same float operations in the
// same order as core/quant/ggml_kquants_high.cpp and ggml_search.cpp (there vectorised across
// sub-blocks), so the codes, scales and reconstruction are bit for bit the CPU's and ggml's;
// test_device_math runs them against the CPU quantizers on every machine. Needs IEEE division and
// square root (nvcc's defaults) and -fmad=false.

#include "cuda/device_math.h"

#include <cmath>

namespace qs::dev {

constexpr int kSuperBlock = 256;

// The correctly rounded square root on both sides (nvcc's -prec-sqrt=true, its default).
QS_HD float sqrtF(float v) {
#ifdef __CUDA_ARCH__
    return sqrtf(v);
#else
    return std::sqrt(v);
#endif
}

enum class KKind { Q2K, Q4K, Q5K, Q6K, IQ4NL };

// ggml's nearest_int: round half to even through the 1.5 * 2^23 bit trick.
QS_HD int nearestIntBits(float f) {
    const float v = f + 12582912.f;
    return static_cast<int>(asBits(v) & 0x007fffffu) - 0x00400000;
}

// make_qkx2_quants on one sub-block of n <= 32 with weights w (use_mad: absolute rather than
// squared errors): codes L in [0, nmax], the scale returned and -min in theMin. A sub-block with
// max == min is all zero.
QS_HD float makeQkx2(int n, int nmax, const float* x, const float* w, unsigned char* L,
                     float& theMin, float rmin, float rdelta, int nstep, bool useMad = false) {
    float mn = x[0], mx = x[0];
    float sumW = w[0];
    float sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
        sumW += w[i];
        sumX += w[i] * x[i];
    }
    mn = mn > 0 ? 0 : mn;
    if (mx == mn) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        theMin = -mn;
        return 0.f;
    }
    const float iscale0 = static_cast<float>(nmax) / (mx - mn);
    float scale = 1 / iscale0;
    float best = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearestIntBits(iscale0 * (x[i] - mn));
        l = l < 0 ? 0 : l > nmax ? nmax : l;
        L[i] = static_cast<unsigned char>(l);
        float diff = scale * static_cast<float>(l) + mn - x[i];
        diff = useMad ? absf(diff) : diff * diff;
        best += w[i] * diff;
    }
    unsigned char aux[32];
    for (int is = 0; is <= nstep && nstep >= 1; ++is) {
        const float iscale =
            (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (mx - mn);
        float sumL = 0, sumL2 = 0, sumXl = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestIntBits(iscale * (x[i] - mn));
            l = l < 0 ? 0 : l > nmax ? nmax : l;
            aux[i] = static_cast<unsigned char>(l);
            const float fl = static_cast<float>(l);
            sumL += w[i] * fl;
            sumL2 += w[i] * fl * fl;
            sumXl += w[i] * fl * x[i];
        }
        const float D = sumW * sumL2 - sumL * sumL;
        if (!(D > 0))
            continue;
        float thisScale = (sumW * sumXl - sumX * sumL) / D;
        float thisMin = (sumL2 * sumX - sumL * sumXl) / D;
        if (thisMin > 0) {
            thisMin = 0;
            thisScale = sumXl / sumL2;
        }
        float cur = 0;
        for (int i = 0; i < n; ++i) {
            float diff = thisScale * static_cast<float>(aux[i]) + thisMin - x[i];
            diff = useMad ? absf(diff) : diff * diff;
            cur += w[i] * diff;
        }
        if (cur < best) {
            best = cur;
            scale = thisScale;
            mn = thisMin;
            for (int i = 0; i < n; ++i)
                L[i] = aux[i];
        }
    }
    theMin = -mn;
    return scale;
}

// make_qx_quants with rmse_type 1 (x^2 weights): codes nmax + l, l in [-nmax, nmax - 1], of 19
// inverse scales -(nmax + 0.1 is) / max, is = -9..9, the first the best in ggml's order.
QS_HD float makeQx(int n, int nmax, const float* x, unsigned char* L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = absf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < 1e-15f) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        return 0.f;
    }
    const float start = static_cast<float>(-nmax) / max;
    auto sums = [&](float iscale, float& sumlx, float& suml2) {
        sumlx = 0;
        suml2 = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            int l = nearestIntBits(iscale * x[i]);
            l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
            const float fl = static_cast<float>(l);
            sumlx += w * x[i] * fl;
            suml2 += w * fl * fl;
        }
    };
    float sumlx, suml2;
    sums(start, sumlx, suml2);
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    float chosen = start;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0)
            continue;
        const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
        sums(iscale, sumlx, suml2);
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            scale = sumlx / suml2;
            best = scale * sumlx;
            chosen = iscale;
        }
    }
    for (int i = 0; i < n; ++i) {
        int l = nearestIntBits(chosen * x[i]);
        l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
        L[i] = static_cast<unsigned char>(nmax + l);
    }
    return scale;
}

// best_index_int8: index of the nearest of `n` sorted values; ties go to the upper one.
QS_HD int bestIndexInt8(int n, const signed char* val, float x) {
    if (x <= val[0])
        return 0;
    if (x >= val[n - 1])
        return n - 1;
    int ml = 0, mu = n - 1;
    while (mu - ml > 1) {
        const int mav = (ml + mu) / 2;
        if (x < val[mav])
            mu = mav;
        else
            ml = mav;
    }
    return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

// One quantized super-block, unpacked: per sub-block the dequantizer's step (d * sc) and offset
// (dmin * m; 0 for Q6_K), per element its code (Q6_K: already less 32).
struct KBlock {
    float step[16];
    float offset[16];
    signed char q[kSuperBlock];
};

// Sub-block j of an affine K-quant (Q2_K, Q4_K, Q5_K) against its stored step dj and offset dm:
// codes nearest (x + dm) / dj in [0, nmax]; a zero step keeps the search's codes L, as ggml does.
QS_HD void requantizeAffine(const float* x, const unsigned char* L, int n, int nmax, float dj,
                            float dm, KBlock& b, int j) {
    b.step[j] = dj;
    b.offset[j] = dm;
    signed char* q = b.q + j * n;
    for (int ii = 0; ii < n; ++ii) {
        int l = L[ii];
        if (dj != 0) {
            l = nearestIntBits((x[ii] + dm) / dj);
            l = l < 0 ? 0 : l > nmax ? nmax : l;
        }
        q[ii] = static_cast<signed char>(l);
    }
}

// quantize_row_q4_K_ref (nmax 15, rmin -1, 20 steps) and quantize_row_q5_K_ref (nmax 31, rmin
// -0.5, 15 steps) on one super-block.
QS_HD void quantizeQ45K(const float* x, KBlock& b, int nmax, float rmin, int nstep) {
    float weights[32];
    float scales[8], mins[8];
    unsigned char L[kSuperBlock];
    for (int j = 0; j < 8; ++j) {
        const float* xs = x + 32 * j;
        float sumX2 = 0;
        for (int l = 0; l < 32; ++l)
            sumX2 += xs[l] * xs[l];
        const float avX = sqrtF(sumX2 / 32);
        for (int l = 0; l < 32; ++l)
            weights[l] = avX + absf(xs[l]);
        scales[j] = makeQkx2(32, nmax, xs, weights, L + 32 * j, mins[j], rmin, 0.1f, nstep);
    }
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < 8; ++j) {
        maxScale = scales[j] > maxScale ? scales[j] : maxScale;
        maxMin = mins[j] > maxMin ? mins[j] : maxMin;
    }
    const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
    const float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
    const float d = f16ToFloat(floatToHalf(maxScale / 63.f));
    const float dmin = f16ToFloat(floatToHalf(maxMin / 63.f));
    for (int j = 0; j < 8; ++j) {
        unsigned ls = static_cast<unsigned char>(nearestIntBits(invScale * scales[j]));
        unsigned lm = static_cast<unsigned char>(nearestIntBits(invMin * mins[j]));
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        const float dj = d * static_cast<float>(ls);
        const float dm = dmin * static_cast<float>(lm);
        requantizeAffine(x + 32 * j, L + 32 * j, 32, nmax, dj, dm, b, j);
    }
}

// quantize_row_q2_K_ref on one super-block: make_qkx2_quants on 16 sub-blocks of 16 with |x|
// weights and absolute errors, 4-bit scales and mins against max/15.
QS_HD void quantizeQ2K(const float* x, KBlock& b) {
    float weights[16];
    float scales[16], mins[16];
    unsigned char L[kSuperBlock];
    for (int j = 0; j < 16; ++j) {
        const float* xs = x + 16 * j;
        for (int l = 0; l < 16; ++l)
            weights[l] = absf(xs[l]);
        scales[j] = makeQkx2(16, 3, xs, weights, L + 16 * j, mins[j], -0.5f, 0.1f, 15, true);
    }
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < 16; ++j) {
        maxScale = scales[j] > maxScale ? scales[j] : maxScale;
        maxMin = mins[j] > maxMin ? mins[j] : maxMin;
    }
    unsigned char sc[16] = {};
    float d = 0, dmin = 0;
    if (maxScale > 0) {
        const float iscale = 15.f / maxScale;
        for (int j = 0; j < 16; ++j)
            sc[j] = static_cast<unsigned char>(nearestIntBits(iscale * scales[j]));
        d = f16ToFloat(floatToHalf(maxScale / 15.f));
    }
    if (maxMin > 0) {
        const float iscale = 15.f / maxMin;
        for (int j = 0; j < 16; ++j)
            sc[j] |= static_cast<unsigned char>(nearestIntBits(iscale * mins[j]) << 4);
        dmin = f16ToFloat(floatToHalf(maxMin / 15.f));
    }
    for (int j = 0; j < 16; ++j) {
        const float dj = d * static_cast<float>(sc[j] & 0xF);
        const float dm = dmin * static_cast<float>(sc[j] >> 4);
        requantizeAffine(x + 16 * j, L + 16 * j, 16, 3, dj, dm, b, j);
    }
}

// quantize_row_q6_K_ref on one super-block.
QS_HD void quantizeQ6K(const float* x, KBlock& b) {
    float scales[16];
    unsigned char L[kSuperBlock];
    float maxScale = 0, maxAbsScale = 0;
    for (int ib = 0; ib < 16; ++ib) {
        scales[ib] = makeQx(16, 32, x + 16 * ib, L + 16 * ib);
        const float a = absf(scales[ib]);
        if (a > maxAbsScale) {
            maxAbsScale = a;
            maxScale = scales[ib];
        }
    }
    if (maxAbsScale < 1e-15f) { // an all-zero block: d = 0, every code 0 - 32
        for (int j = 0; j < 16; ++j)
            b.step[j] = b.offset[j] = 0;
        for (int k = 0; k < kSuperBlock; ++k)
            b.q[k] = -32;
        return;
    }
    const float iscale = -128.f / maxScale;
    const float d = f16ToFloat(floatToHalf(1 / iscale));
    for (int j = 0; j < 16; ++j) {
        int s = nearestIntBits(iscale * scales[j]);
        s = static_cast<signed char>(s < 127 ? s : 127);
        const float dj = d * static_cast<float>(s);
        b.step[j] = dj;
        b.offset[j] = 0;
        for (int ii = 0; ii < 16; ++ii) {
            int l = static_cast<int>(L[16 * j + ii]) - 32;
            if (dj != 0) {
                l = nearestIntBits(x[16 * j + ii] / dj);
                l = l < -32 ? -32 : l > 31 ? 31 : l;
            }
            b.q[16 * j + ii] = static_cast<signed char>(l);
        }
    }
}

// One trial inverse scale `id` of the IQ4 search: sums of w * q * x and w * q * q over the
// values' nearest codes q (kvalues_iq4nl), as quantize_row_iq4_nl_impl adds them.
QS_HD void iq4TrialSums(const signed char* values, float id, const float* x, const float* w, int n,
                        float& sumqx, float& sumq2) {
    sumqx = 0;
    sumq2 = 0;
    for (int j = 0; j < n; ++j) {
        const auto q = static_cast<float>(values[bestIndexInt8(16, values, id * x[j])]);
        sumqx += w[j] * q * x[j];
        sumq2 += w[j] * q * q;
    }
}

// quantize_iq4_nl on one block of 32 (quantize_row_iq4_nl_impl with ntry 7 and x^2 weights):
// per block the best of 15 trial inverse scales by weighted least squares, codes the nearest of
// kvalues_iq4nl; the dequantizer's value d * kvalue, kept here as step d and code kvalue.
QS_HD void quantizeIq4Nl(const float* x, KBlock& b) {
    const signed char values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                    1,    13,   25,  38,  53,  69,  89,  113};
    constexpr int ntry = 7;
    float weight[32];
    for (int j = 0; j < 32; ++j)
        weight[j] = x[j] * x[j];
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j) {
        const float ax = absf(x[j]);
        if (ax > amax) {
            amax = ax;
            max = x[j];
        }
    }
    float scale = 0;
    if (!(amax < 1e-15f)) {
        const auto v0 = static_cast<float>(values[0]);
        float d = -max / v0;
        float sumqx, sumq2;
        iq4TrialSums(values, 1 / d, x, weight, 32, sumqx, sumq2);
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -ntry; itry <= ntry; ++itry) {
            iq4TrialSums(values, static_cast<float>(itry + values[0]) / max, x, weight, 32, sumqx,
                         sumq2);
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scale = d;
    }
    b.step[0] = f16ToFloat(floatToHalf(scale));
    b.offset[0] = 0;
    const float id = scale != 0 ? 1 / scale : 0;
    for (int j = 0; j < 32; ++j)
        b.q[j] = values[bestIndexInt8(16, values, id * x[j])];
}

struct KFam {
    KKind kind = KKind::Q4K;
    QS_HD int blockSize() const { return kind == KKind::IQ4NL ? 32 : kSuperBlock; }
    QS_HD bool affine() const {
        return kind == KKind::Q2K || kind == KKind::Q4K || kind == KKind::Q5K;
    }
    QS_HD int subBlocks() const {
        return kind == KKind::IQ4NL ? 1 : kind == KKind::Q4K || kind == KKind::Q5K ? 8 : 16;
    }
    QS_HD int subSize() const { return kind == KKind::Q2K || kind == KKind::Q6K ? 16 : 32; }
    QS_HD void quantize(const float* x, KBlock& b) const {
        if (kind == KKind::Q2K)
            quantizeQ2K(x, b);
        else if (kind == KKind::Q4K)
            quantizeQ45K(x, b, 15, -1.f, 20);
        else if (kind == KKind::Q5K)
            quantizeQ45K(x, b, 31, -0.5f, 15);
        else if (kind == KKind::Q6K)
            quantizeQ6K(x, b);
        else
            quantizeIq4Nl(x, b);
    }
    // The dequantizer's value of element k: (d * sc) * q - dmin * m (Q4_K, Q5_K), (d * sc) * q
    // (Q6_K), d * kvalue (IQ4_NL).
    QS_HD float rec(const KBlock& b, int k) const {
        const int j = k / subSize();
        const float v = b.step[j] * static_cast<float>(b.q[k]);
        return affine() ? v - b.offset[j] : v;
    }
};

} // namespace qs::dev
