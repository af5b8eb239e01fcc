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

namespace {
constexpr int kQxCandidates = 2 * kQxStart + 1;
} // namespace

// The scalar function's steps, each over the kQkxBatch lanes (one block each): the first value
// of largest magnitude, the 19 candidate scales, their sums in element order, the candidates
// compared in ggml's order, the codes of the chosen one.
QS_SIMD_CLONES
void makeQxQuantsBatch(int n, int nmax, const float* x, std::int8_t* L, int rmseType,
                       const float* qw, float* scale) {
    constexpr int B = kQkxBatch;
    alignas(64) float mx[B], amax[B], best[B], chosen[B];
    alignas(64) float iscale[kQxCandidates][B], sumlx[kQxCandidates][B], suml2[kQxCandidates][B];
#pragma omp simd
    for (int b = 0; b < B; ++b)
        mx[b] = amax[b] = 0;
    for (int i = 0; i < n; ++i) {
#pragma omp simd
        for (int b = 0; b < B; ++b) {
            const float xi = x[i * B + b];
            const float ax = std::fabs(xi);
            const bool larger = ax > amax[b];
            amax[b] = larger ? ax : amax[b];
            mx[b] = larger ? xi : mx[b];
        }
    }
    for (int k = 0; k < kQxCandidates; ++k) {
        const int is = k - kQxStart;
#pragma omp simd
        for (int b = 0; b < B; ++b) {
            iscale[k][b] =
                is == 0 ? static_cast<float>(-nmax) / mx[b]
                        : -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / mx[b];
            sumlx[k][b] = suml2[k][b] = 0;
        }
    }
    for (int i = 0; i < n; ++i) {
        alignas(64) float w[B];
        for (int b = 0; b < B; ++b)
            w[b] = qxWeight(qw, rmseType, x, i * B + b);
        for (int k = 0; k < kQxCandidates; ++k) {
#pragma omp simd
            for (int b = 0; b < B; ++b) {
                const float xi = x[i * B + b];
                const float wx = w[b] * xi;
                int l = nearestInt(iscale[k][b] * xi);
                l = maxOf(-nmax, minOf(nmax - 1, l));
                const auto fl = static_cast<float>(l);
                sumlx[k][b] += wx * fl;
                suml2[k][b] += w[b] * fl * fl;
            }
        }
    }
#pragma omp simd
    for (int b = 0; b < B; ++b) {
        const float s2 = suml2[kQxStart][b];
        scale[b] = s2 != 0 ? sumlx[kQxStart][b] / s2 : 0.0f;
        best[b] = scale[b] * sumlx[kQxStart][b];
        chosen[b] = iscale[kQxStart][b];
    }
    for (int k = 0; k < kQxCandidates; ++k) {
        if (k == kQxStart)
            continue;
#pragma omp simd
        for (int b = 0; b < B; ++b) {
            const bool take = suml2[k][b] > 0 && sumlx[k][b] * sumlx[k][b] > best[b] * suml2[k][b];
            const float sc = sumlx[k][b] / suml2[k][b];
            scale[b] = take ? sc : scale[b];
            best[b] = take ? sc * sumlx[k][b] : best[b];
            chosen[b] = take ? iscale[k][b] : chosen[b];
        }
    }
    for (int i = 0; i < n; ++i) {
#pragma omp simd
        for (int b = 0; b < B; ++b) {
            const int l = nearestInt(chosen[b] * x[i * B + b]);
            const bool empty = amax[b] < kGroupMaxEps; // all codes 0, scale 0, as ggml
            L[i * B + b] =
                static_cast<std::int8_t>(empty ? 0 : nmax + maxOf(-nmax, minOf(nmax - 1, l)));
        }
    }
#pragma omp simd
    for (int b = 0; b < B; ++b)
        scale[b] = amax[b] < kGroupMaxEps ? 0.0f : scale[b];
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

constexpr int kQkxMaxN = 32;

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

void makeQkxQuantsBlocks(int n, int nmax, const float* x, const float* w, int count,
                         std::uint8_t* L, float* scale, float* theMin, float rmin, float rdelta,
                         int nstep, bool useMad, bool qkx3) {
    constexpr int B = kQkxBatch;
    for (int b0 = 0; b0 < count; b0 += B) {
        float xT[kQkxMaxN * B], wT[kQkxMaxN * B], sc[B], mn[B];
        std::uint8_t LT[kQkxMaxN * B];
        for (int b = 0; b < B; ++b) {
            const int src = std::min(b0 + b, count - 1); // spare lanes repeat the last block
            for (int i = 0; i < n; ++i) {
                xT[i * B + b] = x[src * n + i];
                wT[i * B + b] = w[src * n + i];
            }
        }
        makeQkxQuantsBatch(n, nmax, xT, wT, LT, sc, mn, rmin, rdelta, nstep, useMad, qkx3);
        for (int b = 0; b < B && b0 + b < count; ++b) {
            scale[b0 + b] = sc[b];
            theMin[b0 + b] = mn[b];
            for (int i = 0; i < n; ++i)
                L[(b0 + b) * n + i] = LT[i * B + b];
        }
    }
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
