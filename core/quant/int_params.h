#pragma once
// The `int` family's per-group arithmetic, shared by the plain quantizer (int_quant.cpp) and the
// fused analysis kernel (int_fused.cpp) so both compute the very same scale, zero and code.
// Internal to core/quant.

#include "quant/scheme.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace qs::intq {

struct Range {
    int qmin, qmax;
};

inline Range codeRange(const Scheme& s) {
    const int b = s.bits;
    if (!s.symmetric)
        return {0, (1 << b) - 1};
    if (s.fullRange)
        return {-(1 << (b - 1)), (1 << (b - 1)) - 1};
    return {-((1 << (b - 1)) - 1), (1 << (b - 1)) - 1};
}

struct GroupParams {
    float scale;
    std::int32_t zero;
};

// std::nearbyint under the default rounding mode (half to even), inline: adding and subtracting
// 1.5 * 2^23 rounds |v| < 2^22 so; larger values are integers already (and NaN passes through).
inline float roundHalfEven(float v) {
    constexpr float kMagic = 12582912.0f;
    return std::fabs(v) < 4194304.0f ? (v + kMagic) - kMagic : v;
}

// The scale of a symmetric group (1 for an all-zero group) and of an affine one with its
// zero-point, apart (no branch on the scheme inside) so that loops over groups vectorise.
inline float symmetricDenominator(const Scheme& s) {
    const int b = s.bits;
    return s.fullRange ? static_cast<float>((1 << b) - 1) / 2.0f
                       : static_cast<float>((1 << (b - 1)) - 1);
}

inline GroupParams symmetricParams(float denom, float mn, float mx) {
    const float absmax = std::max(std::fabs(mn), std::fabs(mx));
    const float scale = absmax / denom;
    return {scale > 0.0f ? scale : 1.0f, 0};
}

inline float affineDenominator(const Scheme& s) {
    return static_cast<float>((1 << s.bits) - 1);
}

inline GroupParams affineParams(float denom, float mn, float mx) {
    const float lo = std::min(mn, 0.0f);
    const float hi = std::max(mx, 0.0f);
    const float scale = (hi - lo) / denom;
    const bool used = scale > 0.0f; // else an all-zero group: scale 1, zero-point 0
    const float z = roundHalfEven(-lo / (used ? scale : 1.0f));
    // z is in [0, 2^bits - 1] for finite weights; NaN or Inf (a non-finite group) gives 0.
    const bool fits = std::fabs(z) <= 1e9f;
    return {used ? scale : 1.0f, used && fits ? static_cast<std::int32_t>(z) : 0};
}

inline GroupParams paramsFor(const Scheme& s, float mn, float mx) {
    return s.symmetric ? symmetricParams(symmetricDenominator(s), mn, mx)
                       : affineParams(affineDenominator(s), mn, mx);
}

// The code of an unclamped q (x / scale rounded, plus the zero-point): clamped to the range. A
// NaN (a NaN weight, or a group whose scale is not finite) takes the zero-point's code, which
// stands for 0: converting NaN to an integer is undefined (x86 gives INT_MIN, and the
// reconstruction's code - zero then overflowed).
inline std::int32_t codeOf(float q, GroupParams p, Range r) {
    const float lo = static_cast<float>(r.qmin), hi = static_cast<float>(r.qmax);
    return static_cast<std::int32_t>(q == q ? std::clamp(q, lo, hi)
                                            : std::clamp(static_cast<float>(p.zero), lo, hi));
}

inline std::int32_t quantizeOne(float x, GroupParams p, Range r) {
    return codeOf(std::nearbyint(x / p.scale) + static_cast<float>(p.zero), p, r);
}

} // namespace qs::intq
