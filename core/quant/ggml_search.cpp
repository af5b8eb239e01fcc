#include "quant/ggml_search.h"
#include "util/simd_clones.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

// Each function mirrors the ggml function of the same name (ggml-quants.c). Expressions keep
// ggml's operand order, e.g. w*x*l is (w*x)*l, because float sums are not associative and the
// search compares sums: a different order can pick a different scale.

namespace qs::ggml {
namespace {

template <class T> constexpr T maxOf(T a, T b) {
    return a > b ? a : b; // ggml's MAX macro, NaN behaviour included
}
template <class T> constexpr T minOf(T a, T b) {
    return a < b ? a : b;
}

inline float qxWeight(const float* qw, int rmseType, const float* x, int i) {
    if (qw)
        return qw[i];
    switch (rmseType) {
    case 1:
        return x[i] * x[i];
    case 2:
        return 1;
    case 3:
        return std::fabs(x[i]);
    default:
        return std::sqrt(std::fabs(x[i]));
    }
}

} // namespace

// The 19 scales make_qx_quants tries (is = -9..9; is = 0 is the starting one) are evaluated
// side by side: lane k holds is = k - 9, lanes past 18 repeat the start. Each lane sums in
// ggml's element order with ggml's operand order, so every sum is the one ggml's loop computes;
// the candidates are then compared in ggml's order.
constexpr int kQxLanes = 24;
constexpr int kQxStart = 9;

QS_SIMD_CLONES
float makeQxQuants(int n, int nmax, const float* x, std::int8_t* L, int rmseType, const float* qw) {
    float max = 0;
    float amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        return 0.f;
    }
    const float startIscale = static_cast<float>(-nmax) / max;
    if (rmseType == 0) {
        for (int i = 0; i < n; ++i) {
            const int l = nearestInt(startIscale * x[i]);
            L[i] = static_cast<std::int8_t>(nmax + maxOf(-nmax, minOf(nmax - 1, l)));
        }
        return 1 / startIscale;
    }
    bool returnEarly = false;
    if (rmseType < 0) {
        rmseType = -rmseType;
        returnEarly = true;
    }
    alignas(64) float iscales[kQxLanes];
    for (int k = 0; k < kQxLanes; ++k) {
        const int is = k < 2 * kQxStart + 1 ? k - kQxStart : 0;
        iscales[k] = is == 0 ? startIscale
                             : -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    }
    alignas(64) float sumlx[kQxLanes] = {};
    alignas(64) float suml2[kQxLanes] = {};
    for (int i = 0; i < n; ++i) {
        const float w = qxWeight(qw, rmseType, x, i);
        const float wx = w * x[i];
        const float xi = x[i];
#pragma omp simd
        for (int k = 0; k < kQxLanes; ++k) {
            int l = nearestInt(iscales[k] * xi);
            l = maxOf(-nmax, minOf(nmax - 1, l));
            const auto fl = static_cast<float>(l);
            sumlx[k] += wx * fl;
            suml2[k] += w * fl * fl;
        }
    }
    float scale = suml2[kQxStart] != 0 ? sumlx[kQxStart] / suml2[kQxStart] : 0.0f;
    int chosen = kQxStart;
    if (returnEarly) {
        scale = suml2[kQxStart] > 0 ? 0.5f * (scale + 1 / startIscale) : 1 / startIscale;
    } else {
        float best = scale * sumlx[kQxStart];
        for (int k = 0; k < 2 * kQxStart + 1; ++k) {
            if (k == kQxStart)
                continue;
            if (suml2[k] > 0 && sumlx[k] * sumlx[k] > best * suml2[k]) {
                scale = sumlx[k] / suml2[k];
                best = scale * sumlx[k];
                chosen = k;
            }
        }
    }
    for (int i = 0; i < n; ++i) {
        const int l = nearestInt(iscales[chosen] * x[i]);
        L[i] = static_cast<std::int8_t>(nmax + maxOf(-nmax, minOf(nmax - 1, l)));
    }
    return scale;
}

float makeQ3Quants(int n, int nmax, const float* x, std::int8_t* L, bool doRmse) {
    float max = 0;
    float amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        return 0.f;
    }
    const float iscale = static_cast<float>(-nmax) / max;
    if (doRmse) {
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[i]);
            l = maxOf(-nmax, minOf(nmax - 1, l));
            L[i] = static_cast<std::int8_t>(l);
            const float w = x[i] * x[i];
            const auto fl = static_cast<float>(l);
            sumlx += w * x[i] * fl;
            suml2 += w * fl * fl;
        }
        for (int itry = 0; itry < 5; ++itry) {
            int nChanged = 0;
            for (int i = 0; i < n; ++i) {
                const float w = x[i] * x[i];
                const auto li = static_cast<float>(L[i]);
                float slx = sumlx - w * x[i] * li;
                if (slx > 0) {
                    float sl2 = suml2 - w * li * li;
                    int newL = nearestInt(x[i] * sl2 / slx);
                    newL = maxOf(-nmax, minOf(nmax - 1, newL));
                    if (newL != L[i]) {
                        const auto fn = static_cast<float>(newL);
                        slx += w * x[i] * fn;
                        sl2 += w * fn * fn;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[i] = static_cast<std::int8_t>(newL);
                            sumlx = slx;
                            suml2 = sl2;
                            ++nChanged;
                        }
                    }
                }
            }
            if (!nChanged)
                break;
        }
        for (int i = 0; i < n; ++i)
            L[i] = static_cast<std::int8_t>(L[i] + nmax);
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }
    for (int i = 0; i < n; ++i) {
        int l = nearestInt(iscale * x[i]);
        l = maxOf(-nmax, minOf(nmax - 1, l));
        L[i] = static_cast<std::int8_t>(l + nmax);
    }
    return 1 / iscale;
}

namespace {

// The candidate scales of make_qkx2/qkx3_quants side by side: at most 36 steps (37 lanes).
constexpr int kQkxLanes = 40;
constexpr int kQkxMaxN = 32;

// The shared body of make_qkx2_quants and make_qkx3_quants; `w[i]` is element i's weight.
// ggml tries iscale = (rmin + rdelta*is + nmax)/(max - min) for is = 0..nstep in turn, and a
// better candidate replaces `min` for the candidates after it. Here the candidates from `from`
// on are evaluated side by side, one lane each, with the current min; they are then compared in
// ggml's order, and when one is taken whose min differs the ones after it are evaluated again
// with the new min. Every lane sums in ggml's element and operand order, so each sum, scale,
// min and error is the one ggml's loop computes.
QS_SIMD_CLONES
float makeQkxQuants(int n, int nmax, const float* x, const float* w, std::uint8_t* L, float* theMin,
                    float rmin, float rdelta, int nstep, bool useMad, bool emptyIfMaxNotAboveMin) {
    float min = x[0];
    float max = x[0];
    float sumW = w[0];
    float sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        const float wi = w[i];
        sumW += wi;
        sumX += wi * x[i];
    }
    if (min > 0)
        min = 0;
    // qkx2 tests max == min, qkx3 max <= min: the same for finite input since min <= max.
    if (emptyIfMaxNotAboveMin ? max <= min : max == min) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        *theMin = -min;
        return 0.f;
    }
    float iscale = static_cast<float>(nmax) / (max - min);
    float scale = 1 / iscale;
    float bestError = 0;
    for (int i = 0; i < n; ++i) {
        const int l = nearestInt(iscale * (x[i] - min));
        L[i] = static_cast<std::uint8_t>(maxOf(0, minOf(nmax, l)));
        float diff = scale * static_cast<float>(L[i]) + min - x[i];
        diff = useMad ? std::fabs(diff) : diff * diff;
        bestError += w[i] * diff;
    }
    if (nstep < 1) {
        *theMin = -min;
        return scale;
    }
    alignas(64) float iscales[kQkxLanes];
    alignas(64) float sumL[kQkxLanes], sumL2[kQkxLanes], sumXl[kQkxLanes];
    alignas(64) float thisScale[kQkxLanes], thisMin[kQkxLanes], curError[kQkxLanes];
    alignas(64) float laneL[kQkxMaxN][kQkxLanes];
    int from = 0;
    while (from <= nstep) {
        // the candidates left, rounded up to whole 8-lane vectors
        const int lanes = std::min(kQkxLanes, (nstep - from + 1 + 7) / 8 * 8);
        for (int k = 0; k < lanes; ++k) {
            const int is = std::min(from + k, nstep);
            iscales[k] =
                (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
            sumL[k] = sumL2[k] = sumXl[k] = curError[k] = 0;
        }
        for (int i = 0; i < n; ++i) {
            const float wi = w[i];
            const float xi = x[i];
            const float d = x[i] - min;
#pragma omp simd
            for (int k = 0; k < lanes; ++k) {
                const int l = maxOf(0, minOf(nmax, nearestInt(iscales[k] * d)));
                const auto fl = static_cast<float>(l);
                laneL[i][k] = fl;
                sumL[k] += wi * fl;
                sumL2[k] += wi * fl * fl;
                sumXl[k] += wi * fl * xi;
            }
        }
#pragma omp simd
        for (int k = 0; k < lanes; ++k) {
            const float D = sumW * sumL2[k] - sumL[k] * sumL[k];
            float sc = (sumW * sumXl[k] - sumX * sumL[k]) / D;
            float mn = (sumL2[k] * sumX - sumL[k] * sumXl[k]) / D;
            if (mn > 0) {
                mn = 0;
                sc = sumXl[k] / sumL2[k];
            }
            thisScale[k] = sc;
            thisMin[k] = mn;
        }
        for (int i = 0; i < n; ++i) {
            const float wi = w[i];
            const float xi = x[i];
#pragma omp simd
            for (int k = 0; k < lanes; ++k) {
                float diff = thisScale[k] * laneL[i][k] + thisMin[k] - xi;
                diff = useMad ? std::fabs(diff) : diff * diff;
                curError[k] += wi * diff;
            }
        }
        int next = nstep + 1;
        for (int k = 0; from + k <= nstep; ++k) {
            const float D = sumW * sumL2[k] - sumL[k] * sumL[k];
            if (!(D > 0) || !(curError[k] < bestError))
                continue;
            for (int i = 0; i < n; ++i)
                L[i] = static_cast<std::uint8_t>(laneL[i][k]);
            bestError = curError[k];
            scale = thisScale[k];
            const bool moved =
                std::bit_cast<std::uint32_t>(thisMin[k]) != std::bit_cast<std::uint32_t>(min);
            min = thisMin[k];
            if (moved) { // the candidates after this one see the new min
                next = from + k + 1;
                break;
            }
        }
        from = next;
    }
    *theMin = -min;
    return scale;
}

} // namespace

// The scalar function's steps, each over the kQkxBatch lanes: a lane's accept only changes its
// own state, so every lane follows its own sub-block's sequence of decisions.
QS_SIMD_CLONES
void makeQkxQuantsBatch(int n, int nmax, const float* x, const float* w, std::uint8_t* L,
                        float* scaleOut, float* theMin, float rmin, float rdelta, int nstep,
                        bool useMad, bool emptyIfMaxNotAboveMin) {
    constexpr int B = kQkxBatch;
    alignas(32) float mn[B], mx[B], sumW[B], sumX[B], scale[B], best[B];
    alignas(32) float laneL[kQkxMaxN][B], aux[kQkxMaxN][B];
#pragma omp simd
    for (int b = 0; b < B; ++b) {
        mn[b] = mx[b] = x[b];
        sumW[b] = w[b];
        sumX[b] = sumW[b] * x[b];
    }
    for (int i = 1; i < n; ++i) {
#pragma omp simd
        for (int b = 0; b < B; ++b) {
            const float xi = x[i * B + b], wi = w[i * B + b];
            mn[b] = xi < mn[b] ? xi : mn[b];
            mx[b] = xi > mx[b] ? xi : mx[b];
            sumW[b] += wi;
            sumX[b] += wi * xi;
        }
    }
#pragma omp simd
    for (int b = 0; b < B; ++b) {
        mn[b] = mn[b] > 0 ? 0 : mn[b];
        const float iscale = static_cast<float>(nmax) / (mx[b] - mn[b]);
        scale[b] = 1 / iscale;
        best[b] = 0;
    }
    for (int i = 0; i < n; ++i) {
#pragma omp simd
        for (int b = 0; b < B; ++b) {
            const float xi = x[i * B + b];
            const float iscale = static_cast<float>(nmax) / (mx[b] - mn[b]);
            const int l = maxOf(0, minOf(nmax, nearestInt(iscale * (xi - mn[b]))));
            const auto fl = static_cast<float>(l);
            laneL[i][b] = fl;
            float diff = scale[b] * fl + mn[b] - xi;
            diff = useMad ? std::fabs(diff) : diff * diff;
            best[b] += w[i * B + b] * diff;
        }
    }
    for (int is = 0; is <= nstep && nstep >= 1; ++is) {
        alignas(32) float iscale[B], sumL[B], sumL2[B], sumXl[B], thisScale[B], thisMin[B], cur[B];
        alignas(32) int take[B];
#pragma omp simd
        for (int b = 0; b < B; ++b) {
            iscale[b] = (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) /
                        (mx[b] - mn[b]);
            sumL[b] = sumL2[b] = sumXl[b] = cur[b] = 0;
        }
        for (int i = 0; i < n; ++i) {
#pragma omp simd
            for (int b = 0; b < B; ++b) {
                const float xi = x[i * B + b], wi = w[i * B + b];
                const int l = maxOf(0, minOf(nmax, nearestInt(iscale[b] * (xi - mn[b]))));
                const auto fl = static_cast<float>(l);
                aux[i][b] = fl;
                sumL[b] += wi * fl;
                sumL2[b] += wi * fl * fl;
                sumXl[b] += wi * fl * xi;
            }
        }
#pragma omp simd
        for (int b = 0; b < B; ++b) {
            const float D = sumW[b] * sumL2[b] - sumL[b] * sumL[b];
            float sc = (sumW[b] * sumXl[b] - sumX[b] * sumL[b]) / D;
            float m = (sumL2[b] * sumX[b] - sumL[b] * sumXl[b]) / D;
            if (m > 0) {
                m = 0;
                sc = sumXl[b] / sumL2[b];
            }
            thisScale[b] = sc;
            thisMin[b] = m;
            take[b] = D > 0 ? 1 : 0;
        }
        for (int i = 0; i < n; ++i) {
#pragma omp simd
            for (int b = 0; b < B; ++b) {
                float diff = thisScale[b] * aux[i][b] + thisMin[b] - x[i * B + b];
                diff = useMad ? std::fabs(diff) : diff * diff;
                cur[b] += w[i * B + b] * diff;
            }
        }
#pragma omp simd
        for (int b = 0; b < B; ++b) {
            take[b] = take[b] && cur[b] < best[b];
            if (take[b]) {
                best[b] = cur[b];
                scale[b] = thisScale[b];
                mn[b] = thisMin[b];
            }
        }
        for (int i = 0; i < n; ++i)
#pragma omp simd
            for (int b = 0; b < B; ++b)
                laneL[i][b] = take[b] ? aux[i][b] : laneL[i][b];
    }
    // A sub-block with max == min (qkx3: max <= min) is all zeros, as the scalar function
    // returns before any search; the min is the one clamped to <= 0 at the start.
    alignas(32) float startMin[B];
    alignas(32) int empty[B];
    for (int b = 0; b < B; ++b) {
        float lo = x[b], hi = x[b];
        for (int i = 1; i < n; ++i) {
            lo = x[i * B + b] < lo ? x[i * B + b] : lo;
            hi = x[i * B + b] > hi ? x[i * B + b] : hi;
        }
        startMin[b] = lo > 0 ? 0 : lo;
        empty[b] = emptyIfMaxNotAboveMin ? hi <= startMin[b] : hi == startMin[b];
    }
    for (int b = 0; b < B; ++b) {
        scaleOut[b] = empty[b] ? 0.f : scale[b];
        theMin[b] = -(empty[b] ? startMin[b] : mn[b]);
        for (int i = 0; i < n; ++i)
            L[i * B + b] = empty[b] ? 0 : static_cast<std::uint8_t>(laneL[i][b]);
    }
}

float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, std::uint8_t* L,
                     float* theMin, std::uint8_t* Laux, float rmin, float rdelta, int nstep,
                     bool useMad) {
    (void)Laux; // ggml's scratch row; the candidates keep their own
    return makeQkxQuants(n, nmax, x, weights, L, theMin, rmin, rdelta, nstep, useMad, false);
}

float makeQkx3Quants(int n, int nmax, const float* x, const float* weights, std::uint8_t* L,
                     float* theMin, std::uint8_t* Laux, float rmin, float rdelta, int nstep,
                     bool useMad) {
    (void)Laux;
    float w[kQkxMaxN];
    for (int i = 0; i < n; ++i)
        w[i] = weights ? weights[i] : x[i] * x[i];
    return makeQkxQuants(n, nmax, x, w, L, theMin, rmin, rdelta, nstep, useMad, true);
}

float makeQpQuants(int n, int nmax, const float* x, std::uint8_t* L, const float* quantWeights) {
    float max = 0;
    for (int i = 0; i < n; ++i)
        max = maxOf(max, x[i]);
    if (max < kGroupMaxEps) {
        for (int i = 0; i < n; ++i)
            L[i] = 0;
        return 0.f;
    }
    float iscale = static_cast<float>(nmax) / max;
    for (int i = 0; i < n; ++i)
        L[i] = static_cast<std::uint8_t>(nearestInt(iscale * x[i]));
    const float scale = 1 / iscale;
    float bestMse = 0;
    for (int i = 0; i < n; ++i) {
        const float diff = x[i] - scale * static_cast<float>(L[i]);
        bestMse += quantWeights[i] * diff * diff;
    }
    for (int is = -4; is <= 4; ++is) {
        if (is == 0)
            continue;
        const float iscaleIs = (0.1f * static_cast<float>(is) + static_cast<float>(nmax)) / max;
        const float scaleIs = 1 / iscaleIs;
        float mse = 0;
        for (int i = 0; i < n; ++i) {
            const int l = minOf(nmax, nearestInt(iscaleIs * x[i]));
            const float diff = x[i] - scaleIs * static_cast<float>(l);
            mse += quantWeights[i] * diff * diff;
        }
        if (mse < bestMse) {
            bestMse = mse;
            iscale = iscaleIs;
        }
    }
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = minOf(nmax, nearestInt(iscale * x[i]));
        L[i] = static_cast<std::uint8_t>(l);
        const float w = quantWeights[i];
        const auto fl = static_cast<float>(l);
        sumlx += w * x[i] * fl;
        suml2 += w * fl * fl;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int nChanged = 0;
        for (int i = 0; i < n; ++i) {
            const float w = quantWeights[i];
            const auto li = static_cast<float>(L[i]);
            float slx = sumlx - w * x[i] * li;
            float sl2 = suml2 - w * li * li;
            if (slx > 0 && sl2 > 0) {
                const int newL = minOf(nmax, nearestInt(x[i] * sl2 / slx));
                if (newL != L[i]) {
                    const auto fn = static_cast<float>(newL);
                    slx += w * x[i] * fn;
                    sl2 += w * fn * fn;
                    if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = static_cast<std::uint8_t>(newL);
                        sumlx = slx;
                        suml2 = sl2;
                        ++nChanged;
                    }
                }
            }
        }
        if (!nChanged)
            break;
    }
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

} // namespace qs::ggml
