#pragma once
// Upper bounds on |x - x^| over one group of the families fused_plan.cpp runs (float elements,
// microscaling and NVFP4, ggml's q8_0 and legacy blocks), from the group's parameters and its
// min and max. With an error histogram, the fused pass needs the exact max |error| before it
// bins; it measures only the groups whose bound reaches past the largest exact maximum so far
// (as the int, NF and companding families do), instead of reconstructing the whole tensor twice.
// A bound is +inf where a group's numbers leave what the reasoning below covers (scales near
// the ends of float's range), so such a group is measured. Internal to core/analysis.

#include "cuda/device_math.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace qs::fused::bounds {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Relative slack on each bound (it is computed in double from float inputs), and an absolute
// one for results that land among float's subnormals (spacing 2^-149); kTiny is a normal float,
// so a nonzero bound stays one when stored as a float (asFloatUp).
constexpr double kSlack = 1.0 + 0x1p-20;
constexpr double kTiny = 0x1p-120;

// b as a float no smaller than it, for b = 0, b >= kTiny or +inf: float's rounding is within
// 2^-24 of b relative there.
inline float asFloatUp(double b) {
    return static_cast<float>(b * (1.0 + 0x1p-22));
}

// In units of scale, how far a value t with |t| <= reach (> 0, a normal double, at most
// maxNormal) can be from its nearest element: the binade [2^E, 2^(E+1)) holding reach (taken no
// lower than the smallest normal one, whose spacing the subnormals share) has spacing q; a t in
// [2^E, reach] is within q / 2 of an element and within reach - 2^E of 2^E, one; a t below 2^E
// lies in a binade spaced q / 2 (or among the subnormals, spaced q). MX INT8: half its one
// spacing, 1/128. topExponent: maxNormal's binade.
inline double unitsFromElement(const dev::ElementSpec& e, int topExponent, double reach) {
    if (e.int8)
        return 1.0 / 128.0;
    std::uint64_t bits = 0;
    std::memcpy(&bits, &reach, sizeof bits);
    const int lowest = 1 - e.bias;
    const int exponent =
        std::clamp(static_cast<int>((bits >> 52) & 0x7FF) - 1023, lowest, topExponent);
    auto pow2 = [](int k) { // 2^k for a normal double
        const auto b = static_cast<std::uint64_t>(k + 1023) << 52;
        double out = 0;
        std::memcpy(&out, &b, sizeof out);
        return out;
    };
    const double half = pow2(exponent - e.mbits - 1); // q / 2
    const double inBinade = std::min(half, std::max(0.0, reach - pow2(exponent)));
    return std::max(inBinade, exponent > lowest ? half / 2 : half);
}

// An element format under a per-group scale (FP element families, MX, NVFP4): t = x / scale (a
// division, or a product with the exact power of two 1/scale), clamped to +-maxNormal, rounded
// to the nearest element e, reconstructed as e * scale. In units of scale, with T = amax /
// scale, a value is either clamped, off by at most T - maxNormal, or no further from its element
// than unitsFromElement(T). The float roundings of t and of e * scale add at most 2^-24 amax
// each, plus kTiny among the subnormals; a t perturbed by its rounding is still that close to
// its element, as T is taken 2^-20 larger. A zero scale (an FP group whose amax / maxNormal
// underflows) reconstructs as 0. topExponent: maxNormal's binade.
inline double elementBound(const dev::ElementSpec& e, int topExponent, float scale, float mn,
                           float mx) {
    const double amax = dev::absMaxOf(mn, mx);
    if (amax == 0.0)
        return 0.0;
    if (!(scale > 0.0f))
        return amax * kSlack;
    const double s = scale;
    if (!(amax < 1e37) || !(s * e.maxNormal < 1e37)) // e * scale could overflow
        return kInf;
    const double t = amax / s;
    const double reach = std::min(t * (1.0 + 0x1p-20), static_cast<double>(e.maxNormal));
    const double inUnits = std::max(unitsFromElement(e, topExponent, reach), t - e.maxNormal);
    return (inUnits * s + amax * 0x1p-22) * kSlack + kTiny;
}

// The binade of an element format's largest normal: maxNormal = f * 2^exponent, f in [1, 2).
inline int topExponent(const dev::ElementSpec& e) {
    int exponent = 0;
    std::frexp(static_cast<double>(e.maxNormal), &exponent);
    return exponent - 1;
}

// GroupBound<Fam>(fam)(group, mn, mx, signedMax): the bound of one group of the family (its
// parameters, min and max, and for q4_0 / q5_0 its signed maximum; the others ignore it).
template <class Fam> struct GroupBound;

template <> struct GroupBound<dev::FpFam> {
    dev::ElementSpec elem;
    int top;
    explicit GroupBound(const dev::FpFam& f) : elem(f.elem), top(topExponent(f.elem)) {}
    double operator()(const dev::FpFam::Group& g, float mn, float mx, float) const {
        return elementBound(elem, top, g.scale, mn, mx);
    }
};

// A NaN scale comes only from a non-finite block, which the fused path declines beforehand.
template <> struct GroupBound<dev::MxFam> {
    dev::ElementSpec elem;
    int top;
    explicit GroupBound(const dev::MxFam& f) : elem(f.elem), top(topExponent(f.elem)) {}
    double operator()(const dev::MxFam::Group& g, float mn, float mx, float) const {
        return g.scale == g.scale ? elementBound(elem, top, g.scale, mn, mx) : kInf;
    }
};

// q8_0: d = amax / 127, codes roundf(x * (1/d)), reconstruction code * f16(d). x * (1/d) is
// within 127 * 2^-23 of x / d and rounds to within 1/2 of it, so |x - code * d| <= d / 2 +
// 2^-23 amax; f16's rounding of d moves the reconstruction by |code| |d - f16(d)| <= 127 |d -
// f16(d)|, and the product's rounding by 2^-24 amax at most.
template <> struct GroupBound<dev::Q8Fam> {
    explicit GroupBound(const dev::Q8Fam&) {}
    double operator()(const dev::Q8Fam::Group& g, float mn, float mx, float) const;
};
inline double GroupBound<dev::Q8Fam>::operator()(const dev::Q8Fam::Group& g, float mn, float mx,
                                                 float) const {
    const float amax = dev::absMaxOf(mn, mx);
    const double d = amax / 127.0f; // as Q8Fam::group
    if (d == 0.0)
        return 0.0;
    if (d < 0x1p-100 || !std::isfinite(g.dh))
        return kInf;
    return (0.5 * d + 127.0 * std::fabs(d - g.dh) + double(amax) * 0x1p-21) * kSlack + kTiny;
}

// ggml's legacy blocks (LegacyFam):
// - q4_0 / q5_0 (n = 8 / 16): d = signedMax / -n, code floor(x * (1/d) + n + 1/2) capped at 2n - 1,
//   reconstruction (code - n) * f16(d). In units of d a value is off by at most 1/2 plus the
//   roundings of x * (1/d) and of the add (under 2^-17 in all), or by at most 1 where the cap
//   takes it: only a value with x / d past n - 1/2, which mn / d and mx / d tell. Then |code -
//   n| <= n times |d - f16(d)|, and the product's rounding.
// - q4_1 / q5_1 (n = 15 / 31): d = (mx - mn) / n, code floor((x - mn) * (1/d) + 1/2) (at most
//   n), reconstruction code * f16(d) + f16(mn): off by at most d (1/2 + 2^-16), plus n |d -
//   f16(d)|, |mn - f16(mn)| and the roundings of the product and the sum.
// signedMax: the block's first element of largest magnitude (q4_0 / q5_0's d).
template <> struct GroupBound<dev::LegacyFam> {
    dev::LegacyFam f;
    explicit GroupBound(const dev::LegacyFam& fam) : f(fam) {}
    double operator()(const dev::LegacyFam::Group& g, float mn, float mx, float signedMax) const;
};
inline double GroupBound<dev::LegacyFam>::operator()(const dev::LegacyFam::Group& g, float mn,
                                                     float mx, float signedMax) const {
    const double amax = dev::absMaxOf(mn, mx);
    if (f.symmetric()) {
        const float n = f.kind == dev::LegacyKind::Q4_0 ? 8.0f : 16.0f;
        const double d = signedMax / -n; // as LegacyFam::group
        if (d == 0.0)
            return 0.0;
        if (std::fabs(d) < 0x1p-100 || !std::isfinite(g.dh))
            return kInf;
        const bool capped = std::max(mn / d, mx / d) > n - 0.5 - 0x1p-10;
        const double inUnits = (capped ? 1.0 : 0.5) + 0x1p-17;
        return (inUnits * std::fabs(d) + n * std::fabs(d - g.dh) + amax * 0x1p-21) * kSlack + kTiny;
    }
    const float n = f.kind == dev::LegacyKind::Q4_1 ? 15.0f : 31.0f;
    const double d = (mx - mn) / n; // as LegacyFam::group
    if (!std::isfinite(g.mh) || !std::isfinite(g.dh))
        return kInf;
    const double shift = std::fabs(double(mn) - g.mh);
    if (d == 0.0)
        return shift * kSlack + kTiny;
    if (d < 0x1p-100)
        return kInf;
    return ((0.5 + 0x1p-16) * d + n * std::fabs(d - g.dh) + shift + amax * 0x1p-19) * kSlack +
           kTiny;
}

} // namespace qs::fused::bounds
