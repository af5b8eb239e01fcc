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

// Code of a value already on the format's grid (|v| <= max, not NaN).
std::uint8_t codeOfGridValue(const ElementFormatInfo& f, float v) {
    const int emin = 1 - f.bias;
    if (v < f.minNormal)
        return static_cast<std::uint8_t>(std::ldexp(v, f.mbits - emin)); // subnormal: E = 0
    int exp = 0;
    std::frexp(v, &exp); // v = frac * 2^exp, frac in [0.5, 1)
    const int e = exp - 1;
    const auto man = static_cast<unsigned>(std::ldexp(v, f.mbits - e)) - (1u << f.mbits);
    return static_cast<std::uint8_t>((static_cast<unsigned>(e + f.bias) << f.mbits) | man);
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
    // Round to the grid at the value's own exponent (never below the subnormal exponent); the
    // division and multiplication by a power of two are exact, nearbyint is half-to-even.
    int exp = 0;
    std::frexp(a, &exp);
    const int e = std::max(exp - 1, 1 - f.bias);
    const float quantum = std::ldexp(1.0f, e - f.mbits);
    const float v = std::nearbyint(a / quantum) * quantum;
    if (v > f.maxNormal)
        return overflow();
    return static_cast<std::uint8_t>(sign | codeOfGridValue(f, v));
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
