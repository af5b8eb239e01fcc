#include "tensor/dtype.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace qs {
namespace {

struct DTypeRow {
    DType type;
    std::string_view name;
    int bits;
};

constexpr std::array kRows{
    DTypeRow{DType::Bool, "BOOL", 8},
    DTypeRow{DType::U8, "U8", 8},
    DTypeRow{DType::I8, "I8", 8},
    DTypeRow{DType::U16, "U16", 16},
    DTypeRow{DType::I16, "I16", 16},
    DTypeRow{DType::U32, "U32", 32},
    DTypeRow{DType::I32, "I32", 32},
    DTypeRow{DType::U64, "U64", 64},
    DTypeRow{DType::I64, "I64", 64},
    DTypeRow{DType::F16, "F16", 16},
    DTypeRow{DType::BF16, "BF16", 16},
    DTypeRow{DType::F32, "F32", 32},
    DTypeRow{DType::F64, "F64", 64},
    DTypeRow{DType::F8_E4M3, "F8_E4M3", 8},
    DTypeRow{DType::F8_E5M2, "F8_E5M2", 8},
    DTypeRow{DType::F8_E4M3FNUZ, "F8_E4M3FNUZ", 8},
    DTypeRow{DType::F8_E5M2FNUZ, "F8_E5M2FNUZ", 8},
    DTypeRow{DType::F8_E8M0, "F8_E8M0", 8},
    DTypeRow{DType::F6_E2M3, "F6_E2M3", 6},
    DTypeRow{DType::F6_E3M2, "F6_E3M2", 6},
    DTypeRow{DType::F4, "F4", 4},
    DTypeRow{DType::C64, "C64", 64},
};

const DTypeRow& row(DType t) {
    for (const auto& r : kRows)
        if (r.type == t)
            return r;
    return kRows[0];
}

template <class T> T load(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Generic minifloat decoder: 1 sign bit, `e` exponent bits, `m` mantissa bits, given bias.
float decodeMinifloat(unsigned code, int e, int m, int bias) {
    const unsigned sign = (code >> (e + m)) & 1u;
    const unsigned exp = (code >> m) & ((1u << e) - 1u);
    const unsigned man = code & ((1u << m) - 1u);
    float v;
    if (exp == 0)
        v = std::ldexp(static_cast<float>(man), 1 - bias - m);
    else
        v = std::ldexp(static_cast<float>(man + (1u << m)), static_cast<int>(exp) - bias - m);
    return sign ? -v : v;
}

} // namespace

std::string_view dtypeName(DType t) {
    return row(t).name;
}

std::optional<DType> dtypeFromName(std::string_view name) {
    for (const auto& r : kRows)
        if (r.name == name)
            return r.type;
    return std::nullopt;
}

int bitsOf(DType t) {
    return row(t).bits;
}
bool isNumeric(DType t) {
    return t != DType::C64;
}

bool isFloat(DType t) {
    switch (t) {
    case DType::F16:
    case DType::BF16:
    case DType::F32:
    case DType::F64:
    case DType::F8_E4M3:
    case DType::F8_E5M2:
    case DType::F8_E4M3FNUZ:
    case DType::F8_E5M2FNUZ:
    case DType::F8_E8M0:
    case DType::F6_E2M3:
    case DType::F6_E3M2:
    case DType::F4:
        return true;
    default:
        return false;
    }
}

std::uint16_t floatToBf16(float f) {
    std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    if (std::isnan(f))
        return static_cast<std::uint16_t>((u >> 16) | 0x40);
    u += 0x7FFF + ((u >> 16) & 1);
    return static_cast<std::uint16_t>(u >> 16);
}

std::uint16_t floatToHalf(float f) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000);
    const std::uint32_t a = u & 0x7FFFFFFF;
    if (a > 0x7F800000)
        return sign | 0x7E00;
    if (a >= 0x477FF000) // rounds to >= 65520 -> Inf
        return sign | 0x7C00;
    if (a < 0x38800000) { // below half's min normal 2^-14: subnormal or zero
        // Scale to units of 2^-24 and round half to even via float arithmetic.
        const float scaled = std::bit_cast<float>(a) * 16777216.0f; // * 2^24, exact
        const float r = std::nearbyint(scaled);
        return sign | static_cast<std::uint16_t>(r);
    }
    // Normal: rebias exponent, round mantissa 23 -> 10 bits, half to even.
    std::uint32_t v = a - (112u << 23); // exponent bias 127 -> 15
    v += 0xFFF + ((v >> 13) & 1);
    return sign | static_cast<std::uint16_t>(v >> 13);
}

float fp8E4M3ToFloat(std::uint8_t v) {
    if ((v & 0x7F) == 0x7F)
        return kNaN;
    return decodeMinifloat(v, 4, 3, 7);
}

float fp8E5M2ToFloat(std::uint8_t v) {
    if ((v & 0x7C) == 0x7C)
        return (v & 0x03) ? kNaN : ((v & 0x80) ? -kInf : kInf);
    return decodeMinifloat(v, 5, 2, 15);
}

float fp8E4M3FnuzToFloat(std::uint8_t v) {
    if (v == 0x80)
        return kNaN;
    return decodeMinifloat(v, 4, 3, 8);
}

float fp8E5M2FnuzToFloat(std::uint8_t v) {
    if (v == 0x80)
        return kNaN;
    return decodeMinifloat(v, 5, 2, 16);
}

float e8m0ToFloat(std::uint8_t v) {
    if (v == 0xFF)
        return kNaN;
    return std::ldexp(1.0f, int(v) - 127);
}

float fp6E2M3ToFloat(std::uint8_t code) {
    return decodeMinifloat(code & 0x3F, 2, 3, 1);
}
float fp6E3M2ToFloat(std::uint8_t code) {
    return decodeMinifloat(code & 0x3F, 3, 2, 3);
}
float fp4E2M1ToFloat(std::uint8_t code) {
    return decodeMinifloat(code & 0x0F, 2, 1, 1);
}

bool decodeToFloat(DType t, std::span<const std::byte> src, std::span<float> dst) {
    const std::byte* p = src.data();
    const size_t n = dst.size();
    auto each = [&](auto fn) {
        for (size_t i = 0; i < n; ++i)
            dst[i] = fn(i);
    };
    // The 8-bit float formats through a table of their 256 values (the scalar decoders call ldexp;
    // the table holds exactly what they return).
    auto byTable = [&](float (*decode)(std::uint8_t)) {
        float table[256];
        for (unsigned c = 0; c < 256; ++c)
            table[c] = decode(static_cast<std::uint8_t>(c));
        each([&](size_t i) { return table[load<std::uint8_t>(p + i)]; });
    };
    switch (t) {
    case DType::Bool:
        each([&](size_t i) { return load<std::uint8_t>(p + i) ? 1.0f : 0.0f; });
        break;
    case DType::U8:
        each([&](size_t i) { return float(load<std::uint8_t>(p + i)); });
        break;
    case DType::I8:
        each([&](size_t i) { return float(load<std::int8_t>(p + i)); });
        break;
    case DType::U16:
        each([&](size_t i) { return float(load<std::uint16_t>(p + 2 * i)); });
        break;
    case DType::I16:
        each([&](size_t i) { return float(load<std::int16_t>(p + 2 * i)); });
        break;
    case DType::U32:
        each([&](size_t i) { return float(load<std::uint32_t>(p + 4 * i)); });
        break;
    case DType::I32:
        each([&](size_t i) { return float(load<std::int32_t>(p + 4 * i)); });
        break;
    case DType::U64:
        each([&](size_t i) { return float(load<std::uint64_t>(p + 8 * i)); });
        break;
    case DType::I64:
        each([&](size_t i) { return float(load<std::int64_t>(p + 8 * i)); });
        break;
    case DType::F16:
        each([&](size_t i) { return halfToFloat(load<std::uint16_t>(p + 2 * i)); });
        break;
    case DType::BF16:
        each([&](size_t i) { return bf16ToFloat(load<std::uint16_t>(p + 2 * i)); });
        break;
    case DType::F32:
        if (n) // an empty tensor's spans may be null, which memcpy must never see
            std::memcpy(dst.data(), p, n * sizeof(float));
        break;
    case DType::F64:
        each([&](size_t i) { return float(load<double>(p + 8 * i)); });
        break;
    case DType::F8_E4M3:
        byTable(fp8E4M3ToFloat);
        break;
    case DType::F8_E5M2:
        byTable(fp8E5M2ToFloat);
        break;
    case DType::F8_E4M3FNUZ:
        byTable(fp8E4M3FnuzToFloat);
        break;
    case DType::F8_E5M2FNUZ:
        byTable(fp8E5M2FnuzToFloat);
        break;
    case DType::F8_E8M0:
        byTable(e8m0ToFloat);
        break;
    case DType::F4:
        each([&](size_t i) {
            const auto b = load<std::uint8_t>(p + i / 2);
            return fp4E2M1ToFloat((i & 1) ? std::uint8_t(b >> 4) : std::uint8_t(b & 0xF));
        });
        break;
    case DType::F6_E2M3:
    case DType::F6_E3M2:
        each([&](size_t i) {
            const size_t bit = 6 * i;
            unsigned word = load<std::uint8_t>(p + bit / 8);
            if (bit % 8 > 2)
                word |= unsigned(load<std::uint8_t>(p + bit / 8 + 1)) << 8;
            const auto code = std::uint8_t((word >> (bit % 8)) & 0x3F);
            return t == DType::F6_E2M3 ? fp6E2M3ToFloat(code) : fp6E3M2ToFloat(code);
        });
        break;
    case DType::C64:
        return false;
    }
    return true;
}

} // namespace qs
