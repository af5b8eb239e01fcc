#include "quant/float_formats.h"

#include "tensor/dtype.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

namespace qs {
namespace {

constexpr std::array kInfo{
    ElementFormatInfo{"e2m1", 4, 2, 1, 1, 6.0f, 1.0f, 2},
    ElementFormatInfo{"e2m3", 6, 2, 3, 1, 7.5f, 1.0f, 2},
    ElementFormatInfo{"e3m2", 6, 3, 2, 3, 28.0f, 0.25f, 4},
    ElementFormatInfo{"e4m3", 8, 4, 3, 7, 448.0f, 0.015625f, 8},
    ElementFormatInfo{"e5m2", 8, 5, 2, 15, 57344.0f, 6.103515625e-05f, 15},
    ElementFormatInfo{"int8", 8, 0, 6, 0, 127.0f / 64.0f, 1.0f / 64.0f, 0},
};

std::uint8_t maxCode(const ElementFormatInfo& f) {
    // All ones below the sign, except E4M3 (0x7F is NaN -> 0x7E) and E5M2 (0x7C.. Inf/NaN).
    if (f.ebits == 4 && f.mbits == 3)
        return 0x7E;
    if (f.ebits == 5 && f.mbits == 2)
        return 0x7B;
    return static_cast<std::uint8_t>((1u << (f.ebits + f.mbits)) - 1u);
}

std::uint8_t encodeInt8(float x) {
    if (std::isnan(x))
        return 0;
    const float k = std::clamp(std::nearbyint(x * 64.0f), -127.0f, 127.0f);
    return static_cast<std::uint8_t>(static_cast<std::int8_t>(k));
}

// |x| (finite, >= 0) rounded half to even onto the format's grid, ignoring the top of its range
// (the caller compares with maxNormal). The grid step at the value's own exponent e, never
// below the subnormal exponent emin, is read off the float's bits: t = a / 2^(e - mbits) lies
// in [0, 2^(mbits+1)), so adding and subtracting 1.5 * 2^23 rounds it half to even, and the
// division and the product by a power of two are exact. (A zero or fp32-subnormal `a` takes
// e = emin.) `r` receives t rounded: the code's low bits when the result is subnormal.
float roundToGrid(const ElementFormatInfo& f, float a, float& r) {
    const int emin = 1 - f.bias;
    const auto bits = std::bit_cast<std::uint32_t>(a);
    const int e = std::max(static_cast<int>(bits >> 23) - 127, emin);
    const float quantum = std::bit_cast<float>(static_cast<std::uint32_t>(e - f.mbits + 127) << 23);
    constexpr float kMagic = 12582912.0f;
    r = (a / quantum + kMagic) - kMagic;
    return r * quantum;
}

} // namespace

const ElementFormatInfo& formatInfo(ElementFormat f) {
    return kInfo[static_cast<std::size_t>(f)];
}

std::uint8_t encodeElement(ElementFormat fmt, float x, Overflow o) {
    if (fmt == ElementFormat::Int8)
        return encodeInt8(x);
    const ElementFormatInfo& f = formatInfo(fmt);
    const unsigned signBit = 1u << (f.ebits + f.mbits);
    const unsigned sign = std::signbit(x) ? signBit : 0u;
    const bool isE4M3 = fmt == ElementFormat::E4M3;
    const bool isE5M2 = fmt == ElementFormat::E5M2;
    if (std::isnan(x))
        return static_cast<std::uint8_t>((isE4M3 || isE5M2) ? sign | 0x7F : 0u);
    const bool saturate = o == Overflow::Saturate || !(isE4M3 || isE5M2);
    const float a = std::fabs(x);
    auto overflow = [&]() {
        if (saturate)
            return static_cast<std::uint8_t>(sign | maxCode(f));
        return static_cast<std::uint8_t>(sign | (isE5M2 ? 0x7Cu : 0x7Fu));
    };
    if (std::isinf(a))
        return overflow();
    float r = 0;
    const float v = roundToGrid(f, a, r);
    if (v > f.maxNormal)
        return overflow();
    if (v < f.minNormal) // subnormal (E = 0): e = emin, so the code is r itself
        return static_cast<std::uint8_t>(sign | static_cast<unsigned>(r));
    const auto vb = std::bit_cast<std::uint32_t>(v); // on the grid: the low mantissa bits are 0
    const unsigned exponent = static_cast<unsigned>(static_cast<int>(vb >> 23) - 127 + f.bias);
    const unsigned mantissa = (vb >> (23 - f.mbits)) & ((1u << f.mbits) - 1u);
    return static_cast<std::uint8_t>(sign | (exponent << f.mbits) | mantissa);
}

float decodeElement(ElementFormat f, std::uint8_t code) {
    switch (f) {
    case ElementFormat::E2M1:
        return fp4E2M1ToFloat(code);
    case ElementFormat::E2M3:
        return fp6E2M3ToFloat(code);
    case ElementFormat::E3M2:
        return fp6E3M2ToFloat(code);
    case ElementFormat::E4M3:
        return fp8E4M3ToFloat(code);
    case ElementFormat::E5M2:
        return fp8E5M2ToFloat(code);
    case ElementFormat::Int8:
        return static_cast<float>(static_cast<std::int8_t>(code)) / 64.0f;
    }
    return 0.0f;
}

std::vector<float> elementValues(ElementFormat f) {
    const int codes = 1 << formatInfo(f).bits;
    std::vector<float> v;
    for (int c = 0; c < codes; ++c) {
        if (f == ElementFormat::Int8 && c == 0x80)
            continue; // -128/64 is unused in MXINT8
        const float x = decodeElement(f, static_cast<std::uint8_t>(c));
        if (std::isfinite(x))
            v.push_back(x == 0.0f ? 0.0f : x);
    }
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

float roundTripElement(ElementFormat f, float x, Overflow o) {
    if (f != ElementFormat::Int8 && std::isfinite(x)) { // in range: the grid value itself
        const ElementFormatInfo& info = formatInfo(f);
        float r = 0;
        const float v = roundToGrid(info, std::fabs(x), r);
        if (v <= info.maxNormal)
            return std::copysign(v, x);
    }
    return decodeElement(f, encodeElement(f, x, o));
}

std::uint8_t encodeE8M0(float x, E8M0Rounding r) {
    if (!std::isfinite(x))
        return 0xFF;
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(std::fabs(x));
    const std::uint32_t biased = bits >> 23;
    const std::uint32_t mantissa = bits & 0x7FFFFF;
    if (r == E8M0Rounding::Floor)
        return static_cast<std::uint8_t>(biased);
    // Byte 0 is 2^-127 (fp32 subnormal 0x00400000): subnormals round up past it only when above.
    const std::uint32_t up = biased == 0 ? (mantissa > 0x400000 ? 1 : 0) : (mantissa != 0 ? 1 : 0);
    return static_cast<std::uint8_t>(std::min<std::uint32_t>(biased + up, 0xFF));
}

} // namespace qs
