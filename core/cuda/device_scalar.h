#pragma once
// The scalar helpers of the CUDA kernels' arithmetic (cuda/device_math.h), for both sides as
// that file says: bit casts, round-half-to-even, clamps, the division through a reciprocal
// (divRn), and the stored inputs' decoders. Plain C++ outside nvcc; no Qt, no std containers.

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define QS_HD __host__ __device__ __forceinline__
#else
#define QS_HD inline
#endif

namespace qs::dev {

QS_HD float asFloat(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
#endif
}

QS_HD std::uint32_t asBits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
#endif
}

// Round half to even for |t| < 2^22 (the callers clamp first): 1.5 * 2^23 added and removed.
QS_HD float rneSmall(float t) {
    constexpr float kMagic = 12582912.0f;
    return (t + kMagic) - kMagic;
}

// Round half to even for any float (std::nearbyint in the default rounding mode).
QS_HD float rne(float t) {
    const float a = t < 0 ? -t : t;
    if (!(a < 8388608.0f)) // already an integer (or NaN/Inf)
        return t;
    const float r = rneSmall(a);
    return t < 0 || (t == 0 && (asBits(t) >> 31)) ? -r : r;
}

QS_HD float clampf(float v, float lo, float hi) { // std::clamp's order of comparisons
    return v < lo ? lo : hi < v ? hi : v;
}

QS_HD float absf(float v) {
    return asFloat(asBits(v) & 0x7FFFFFFFu);
}

// std::max(|mn|, |mx|): a group's absmax from its min and max.
QS_HD float absMaxOf(float mn, float mx) {
    const float am = absf(mn), bm = absf(mx);
    return am < bm ? bm : am;
}

QS_HD float copySign(float mag, float sign) {
    return asFloat((asBits(mag) & 0x7FFFFFFFu) | (asBits(sign) & 0x80000000u));
}

// 2^k for k in [-127, 127], exactly (2^-127 is the fp32 subnormal 0x00400000).
QS_HD float pow2(int k) {
    return k >= -126 ? asFloat(static_cast<std::uint32_t>(k + 127) << 23) : asFloat(0x00400000u);
}

QS_HD float fmaOf(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
    return __fmaf_rn(a, b, c);
#else
    return std::fma(a, b, c);
#endif
}

// x / s rounded to nearest, as the division gives it, from inv = 1 / s (rounded to nearest):
// the quotient through the reciprocal, then two Markstein corrections, each exact remainder
// (one fma) times inv added back. The first brings the quotient within an ulp, the second rounds
// it correctly. Five float operations in place of a division (a reciprocal approximation and a
// range check on the GPU's special-function unit). Equal to the division where the remainders
// are exact: divisorIsSafe(s), |x / s| < 2^64 and |x| >= 2^-100 (or x = 0). Below that the
// quotient (under 2^-40) may be one ulp off, and every family's code for it is 0 all the same.
// s > 0, so the quotient has x's sign: for x = -0 the corrections would give +0.
QS_HD float divRnUnsignedZero(float x, float s, float inv) { // divRn but +0 for x = -0
    float q = x * inv;
    float r = fmaOf(-q, s, x);
    q = fmaOf(r, inv, q);
    r = fmaOf(-q, s, x);
    return fmaOf(r, inv, q);
}
QS_HD float divRn(float x, float s, float inv) {
    return copySign(divRnUnsignedZero(x, s, inv), x);
}
// 2^-60 <= s <= 2^60, where divRn is exact for every x that can get a nonzero code. Outside it
// the families divide.
QS_HD bool divisorIsSafe(float s) {
    return s >= 8.67361737988403547e-19f && s <= 1.15292150460684698e+18f;
}
// The reciprocal divRn takes, or 0 where the division must run as a division.
QS_HD float safeReciprocal(float s) {
    return divisorIsSafe(s) ? 1.0f / s : 0.0f;
}
// clampf for a value that is not NaN, as two min/max instructions on the GPU; the two can differ
// only in the sign of a zero v at a zero bound, which the callers round away (rneSmall) or never
// meet (nonzero bounds).
QS_HD float clampFast(float v, float lo, float hi) {
#if defined(__CUDA_ARCH__)
    return fminf(fmaxf(v, lo), hi);
#else
    return clampf(v, lo, hi);
#endif
}

// floor(u) for 0 <= u < 2^23 (on the GPU one add rounding down, no conversion unit).
QS_HD float floorSmall(float u) {
#if defined(__CUDA_ARCH__)
    return __fadd_rd(u, 8388608.0f) - 8388608.0f;
#else
    return std::floor(u);
#endif
}

// floor(u) as an int for 0 <= u < 2^23 (on the GPU the bits of the sum rounded down: no
// conversion unit).
QS_HD int floorIndex(float u) {
#if defined(__CUDA_ARCH__)
    return __float_as_int(__fadd_rd(u, 8388608.0f)) - 0x4B000000;
#else
    return static_cast<int>(std::floor(u));
#endif
}

// floor(a + 1/2) exactly, for 0 <= a < 2^22 (roundf of a non-negative value).
QS_HD float floorHalfUp(float a) {
#if defined(__CUDA_ARCH__)
    // The sum rounded down has the same floor as the exact sum: floor(s) <= RD(s) <= s.
    return floorSmall(__fadd_rd(a, 0.5f));
#else
    return static_cast<float>(std::floor(static_cast<double>(a) + 0.5));
#endif
}

// ---- stored inputs ------------------------------------------------------------------------

QS_HD float bf16ToFloat(std::uint16_t b) {
    return asFloat(static_cast<std::uint32_t>(b) << 16);
}

QS_HD float f16ToFloat(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    if (e == 0x1F) // Inf / NaN
        return asFloat(sign | 0x7F800000u | (m << 13));
    if (e != 0)
        return asFloat(sign | ((e + 112) << 23) | (m << 13));
    // zero or subnormal: m * 2^-24, exact in float
    const float v = static_cast<float>(m) * 5.9604644775390625e-08f;
    return copySign(v, asFloat(sign));
}

// float -> IEEE half, round half to even, overflow to Inf (tensor/dtype.h floatToHalf).
QS_HD std::uint16_t floatToHalf(float f) {
    const std::uint32_t u = asBits(f);
    const auto sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
    const std::uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u)
        return sign | 0x7E00u;
    if (a >= 0x477FF000u)
        return sign | 0x7C00u;
    if (a < 0x38800000u) // subnormal or zero: units of 2^-24, rounded half to even
        return sign | static_cast<std::uint16_t>(rneSmall(asFloat(a) * 16777216.0f));
    std::uint32_t v = a - (112u << 23);
    v += 0xFFFu + ((v >> 13) & 1u);
    return sign | static_cast<std::uint16_t>(v >> 13);
}

// A parameter as stored in fp16, saturated at +-65504 (HQQ's and SINQ's scales and zero-points).
QS_HD float toStoredHalf(float x) {
    return f16ToFloat(floatToHalf(clampf(x, -65504.0f, 65504.0f)));
}

} // namespace qs::dev
