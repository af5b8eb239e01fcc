#pragma once
// ggml's Q4_K and Q6_K reference quantizers (quantize_row_q4_K_ref, quantize_row_q6_K_ref: what
// llama-quantize runs without an imatrix) and their dequantizers, one super-block of 256 values
// at a time, in scalar arithmetic for the host and the device (cuda/kquant_kernels.cu). The same
// float operations in the same order as core/quant/ggml_kquants_high.cpp and ggml_search.cpp
// (there vectorised across sub-blocks), so the codes, scales and reconstruction are bit for bit
// the CPU's and ggml's; test_device_math runs them against the CPU quantizers on every machine.
// Needs IEEE division and square root (nvcc's defaults) and -fmad=false.

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

enum class KKind { Q4K, Q6K };

// ggml's nearest_int: round half to even through the 1.5 * 2^23 bit trick.
QS_HD int nearestIntBits(float f) {
    const float v = f + 12582912.f;
    return static_cast<int>(asBits(v) & 0x007fffffu) - 0x00400000;
}

// make_qkx2_quants on one sub-block of n <= 32 with weights w (use_mad false): codes L in
// [0, nmax], the scale returned and -min in theMin. A sub-block with max == min is all zero.
QS_HD float makeQkx2(int n, int nmax, const float* x, const float* w, unsigned char* L,
                     float& theMin, float rmin, float rdelta, int nstep) {
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
        diff = diff * diff;
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
            diff = diff * diff;
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

// One quantized super-block, unpacked: per sub-block the dequantizer's step (d * sc) and offset
// (dmin * m; 0 for Q6_K), per element its code (Q6_K: already less 32).
struct KBlock {
    float step[16];
    float offset[16];
    signed char q[kSuperBlock];
};

// quantize_row_q4_K_ref on one super-block.
QS_HD void quantizeQ4K(const float* x, KBlock& b) {
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
        scales[j] = makeQkx2(32, 15, xs, weights, L + 32 * j, mins[j], -1.f, 0.1f, 20);
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
        b.step[j] = dj;
        b.offset[j] = dm;
        for (int ii = 0; ii < 32; ++ii) {
            int l = L[32 * j + ii];
            if (dj != 0) { // a zero scale keeps the search's codes
                l = nearestIntBits((x[32 * j + ii] + dm) / dj);
                l = l < 0 ? 0 : l > 15 ? 15 : l;
            }
            b.q[32 * j + ii] = static_cast<signed char>(l);
        }
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

struct KFam {
    KKind kind = KKind::Q4K;
    QS_HD int subBlocks() const { return kind == KKind::Q4K ? 8 : 16; }
    QS_HD int subSize() const { return kind == KKind::Q4K ? 32 : 16; }
    QS_HD void quantize(const float* x, KBlock& b) const {
        if (kind == KKind::Q4K)
            quantizeQ4K(x, b);
        else
            quantizeQ6K(x, b);
    }
    // The dequantizer's value of element k: (d * sc) * q - dmin * m (Q4_K), (d * sc) * q (Q6_K).
    QS_HD float rec(const KBlock& b, int k) const {
        const int j = k / subSize();
        const float v = b.step[j] * static_cast<float>(b.q[k]);
        return kind == KKind::Q4K ? v - b.offset[j] : v;
    }
};

} // namespace qs::dev
