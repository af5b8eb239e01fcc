#include "quant/ggml_search.h"

#include <cmath>

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
    float iscale = static_cast<float>(-nmax) / max;
    if (rmseType == 0) {
        for (int i = 0; i < n; ++i) {
            const int l = nearestInt(iscale * x[i]);
            L[i] = static_cast<std::int8_t>(nmax + maxOf(-nmax, minOf(nmax - 1, l)));
        }
        return 1 / iscale;
    }
    bool returnEarly = false;
    if (rmseType < 0) {
        rmseType = -rmseType;
        returnEarly = true;
    }
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearestInt(iscale * x[i]);
        l = maxOf(-nmax, minOf(nmax - 1, l));
        L[i] = static_cast<std::int8_t>(l + nmax);
        const float w = qxWeight(qw, rmseType, x, i);
        const auto fl = static_cast<float>(l);
        sumlx += w * x[i] * fl;
        suml2 += w * fl * fl;
    }
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    if (returnEarly)
        return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0)
            continue;
        iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[i]);
            l = maxOf(-nmax, minOf(nmax - 1, l));
            const float w = qxWeight(qw, rmseType, x, i);
            const auto fl = static_cast<float>(l);
            sumlx += w * x[i] * fl;
            suml2 += w * fl * fl;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                const int l = nearestInt(iscale * x[i]);
                L[i] = static_cast<std::int8_t>(nmax + maxOf(-nmax, minOf(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
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

// The shared body of make_qkx2_quants and make_qkx3_quants; `w(i)` gives the weight.
template <class W>
float makeQkxQuants(int n, int nmax, const float* x, W w, std::uint8_t* L, float* theMin,
                    std::uint8_t* Laux, float rmin, float rdelta, int nstep, bool useMad,
                    bool emptyIfMaxNotAboveMin) {
    float min = x[0];
    float max = x[0];
    float sumW = w(0);
    float sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        const float wi = w(i);
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
        bestError += w(i) * diff;
    }
    if (nstep < 1) {
        *theMin = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
        float sumL = 0, sumL2 = 0, sumXl = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * (x[i] - min));
            l = maxOf(0, minOf(nmax, l));
            Laux[i] = static_cast<std::uint8_t>(l);
            const float wi = w(i);
            const auto fl = static_cast<float>(l);
            sumL += wi * fl;
            sumL2 += wi * fl * fl;
            sumXl += wi * fl * x[i];
        }
        const float D = sumW * sumL2 - sumL * sumL;
        if (D > 0) {
            float thisScale = (sumW * sumXl - sumX * sumL) / D;
            float thisMin = (sumL2 * sumX - sumL * sumXl) / D;
            if (thisMin > 0) {
                thisMin = 0;
                thisScale = sumXl / sumL2;
            }
            float curError = 0;
            for (int i = 0; i < n; ++i) {
                float diff = thisScale * static_cast<float>(Laux[i]) + thisMin - x[i];
                diff = useMad ? std::fabs(diff) : diff * diff;
                curError += w(i) * diff;
            }
            if (curError < bestError) {
                for (int i = 0; i < n; ++i)
                    L[i] = Laux[i];
                bestError = curError;
                scale = thisScale;
                min = thisMin;
            }
        }
    }
    *theMin = -min;
    return scale;
}

} // namespace

float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, std::uint8_t* L,
                     float* theMin, std::uint8_t* Laux, float rmin, float rdelta, int nstep,
                     bool useMad) {
    return makeQkxQuants(
        n, nmax, x, [weights](int i) { return weights[i]; }, L, theMin, Laux, rmin, rdelta, nstep,
        useMad, false);
}

float makeQkx3Quants(int n, int nmax, const float* x, const float* weights, std::uint8_t* L,
                     float* theMin, std::uint8_t* Laux, float rmin, float rdelta, int nstep,
                     bool useMad) {
    return makeQkxQuants(
        n, nmax, x, [weights, x](int i) { return weights ? weights[i] : x[i] * x[i]; }, L, theMin,
        Laux, rmin, rdelta, nstep, useMad, true);
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
