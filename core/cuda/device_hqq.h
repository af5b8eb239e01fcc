#pragma once
// HQQ's arithmetic (methods/hqq.h), written once for the CPU (methods/hqq.cpp) and the CUDA
// kernels (cuda/hqq_kernels.cu): the min/max start, a code, the lp shrink, one solver step over a
// group, and the fp16 parameters the reconstruction uses; then HqqFam, the analysis kernels'
// family that reconstructs from those stored parameters. Float32 as HQQ's CPU path, every
// operation the IEEE one (the .cu files build with -fmad=false), so the device's zero-points and
// codes are the CPU's. The one exception is the power in the shrink, computed in double and
// rounded to float on both sides: glibc's and CUDA's double pow (within 1 and 2 ulp of double)
// round to the same float but where the exact power lies within a few ulp of double of a float
// tie, about one call in 10^8.

#include "cuda/device_scalar.h"

namespace qs::dev {

struct HqqParams {
    float sc = 1; // the inverse scale HQQ optimises with: codes are rne(x * sc + z)
    float z = 0;  // the zero-point
};

// HQQ's start from the group's min and max: sc = (2^b - 1)/(max - min), 1 where |max - min| <=
// 1e-4, at most 2e4; z = -min * sc, rounded for 4 bits.
QS_HD HqqParams hqqStart(float lo, float hi, int bits) {
    const auto maxq = static_cast<float>((1 << bits) - 1);
    const float denom = hi - lo;
    float sc = absf(denom) <= 1e-4f ? 1.0f : maxq / denom;
    sc = 2e4f < sc ? 2e4f : sc; // std::min(sc, 2e4f)
    float z = -lo * sc;
    if (bits == 4)
        z = rne(z);
    return {sc, z};
}

// A code as a float in [0, maxq] (std::clamp(std::nearbyint(x * sc + z), 0, maxq)).
QS_HD float hqqCode(float x, HqqParams p, float maxq) {
    return clampf(rne(x * p.sc + p.z), 0.0f, maxq);
}

// One solver step's settings: the largest code, beta and p of the lp-norm, and zeroBelow, a
// magnitude under which the shrink is 0 without computing the power: 0.99 of the root r of
// |e| = |e|^(p-1)/beta (p < 1), where |e| - |e|^(p-1)/beta < r (0.99 - 0.99^(p-1)) < -0.01 r, a
// margin far beyond float rounding; so the result is the same with or without it (any last-bit
// difference between the host's and the device's zeroBelow does not matter). Errors are mostly
// far below r (0.17 at beta 10), so few values take the power.
struct HqqStepSettings {
    float maxq = 15, beta = 10, lp = 0.7f, zeroBelow = 0;
};
QS_HD HqqStepSettings hqqStepSettings(float maxq, float beta, float lp) {
    HqqStepSettings s{maxq, beta, lp, 0.0f};
    if (lp < 1.0f && beta > 0.0f)
        s.zeroBelow = static_cast<float>(
            0.99 * pow(static_cast<double>(beta), -1.0 / (2.0 - static_cast<double>(lp))));
    return s;
}

// HQQ's shrink operator for the lp-norm (p < 1): sign(x) relu(|x| - |x|^(p-1)/beta); 0 at 0.
QS_HD float hqqShrink(float x, const HqqStepSettings& s) {
    const float a = absf(x);
    if (a == 0.0f || a < s.zeroBelow)
        return 0.0f;
    const auto power =
        static_cast<float>(pow(static_cast<double>(a), static_cast<double>(s.lp - 1.0f)));
    const float t = a - (1.0f / s.beta) * power;
    return t > 0.0f ? copySign(t, x) : 0.0f;
}

// One solver step over a group of n values, load(k) giving the k-th: adds sum |x - x^| of the
// current parameters to `absSum` (in order, in double, as HQQ measures the error before the
// update) and returns the updated zero-point, mean(code - (x - shrink(x - x^)) * sc).
template <class Load>
QS_HD float hqqStep(const Load& load, long long n, HqqParams p, const HqqStepSettings& s,
                    double& absSum) {
    double zSum = 0;
    for (long long k = 0; k < n; ++k) {
        const float x = load(k);
        const float wq = hqqCode(x, p, s.maxq);
        const float e = x - (wq - p.z) / p.sc;
        absSum += static_cast<double>(absf(e));
        zSum += static_cast<double>(wq - (x - hqqShrink(e, s)) * p.sc);
    }
    return static_cast<float>(zSum / static_cast<double>(n));
}

// What the reconstruction uses: the fp16 scale 1/sc and zero-point.
struct HqqStored {
    float scale = 1, zero = 0;
};
QS_HD HqqStored hqqStored(HqqParams p) {
    return {toStoredHalf(1.0f / p.sc), toStoredHalf(p.z)};
}

// The analysis kernels' family: each group's parameters come from the solver's arrays (indexed
// by the group's index in the tensor), the reconstruction is (code - zero) * scale with the
// fp16 values, as methods/hqq.cpp's dequantizeHqq. Its widest group is the largest stored scale.
struct HqqFam {
    float maxq = 15;
    const HqqParams* params = nullptr;
    const HqqStored* stored = nullptr;

    struct Group {
        HqqParams p;
        HqqStored s;
        float key = 0;
    };
    QS_HD Group groupAt(long long index) const {
        Group g;
        g.p = params[index];
        g.s = stored[index];
        g.key = g.s.scale;
        return g;
    }
    QS_HD bool divides(const Group&) const { return false; }
    template <bool> QS_HD float recAs(const Group& g, float x, unsigned&) const {
        const float code = hqqCode(x, g.p, maxq) + 0.0f; // a code is never -0 (a uint8)
        return (code - g.s.zero) * g.s.scale;
    }
    QS_HD float rec(const Group& g, float x, unsigned& f) const { return recAs<false>(g, x, f); }
};

} // namespace qs::dev
