#pragma once
// Stored element types and their conversion to float. Every type a reader can meet is listed;
// `bitsOf` gives the storage size, `isNumeric` whether it can be analysed as real numbers.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace qs {

enum class DType {
    Bool,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F16,
    BF16,
    F32,
    F64,
    F8_E4M3,
    F8_E5M2,
    F8_E4M3FNUZ,
    F8_E5M2FNUZ,
    F8_E8M0,
    F6_E2M3,
    F6_E3M2,
    F4,
    C64,
};

std::string_view dtypeName(DType t); // "F32", "BF16", ... (safetensors spelling)
std::optional<DType> dtypeFromName(std::string_view name);
int bitsOf(DType t);     // storage bits per element (4, 6, 8, ..., 64)
bool isNumeric(DType t); // real-valued (everything but complex)
bool isFloat(DType t);

// Scalar decoders (bit-exact, including subnormals, Inf and NaN where the format has them).
// Inline, on the bits (no ldexp): decoding an f16 tensor was three quarters of its analysis.
inline float halfToFloat(std::uint16_t h) {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
    if (exp == 0x1F) // Inf, or NaN as the quiet NaN with h's sign
        return std::bit_cast<float>(sign | (man ? 0x7FC00000u : 0x7F800000u));
    if (exp == 0) { // zero or subnormal: man * 2^-24, exact
        const float v = static_cast<float>(man) * 5.9604644775390625e-08f;
        return sign ? -v : v;
    }
    return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (man << 13));
}
// Inline: a shift, which decoding loops then vectorise (out of line, called per element from
// position-independent code, it took a third of an `analyze` of a bf16 checkpoint).
inline float bf16ToFloat(std::uint16_t b) {
    return std::bit_cast<float>(std::uint32_t(b) << 16);
}
std::uint16_t floatToHalf(float f);       // round-to-nearest-even, overflow to Inf
std::uint16_t floatToBf16(float f);       // round-to-nearest-even, NaN kept quiet
float fp8E4M3ToFloat(std::uint8_t v);     // OCP E4M3 "fn": no Inf, 0x7F/0xFF NaN
float fp8E5M2ToFloat(std::uint8_t v);     // OCP E5M2: IEEE-like
float fp8E4M3FnuzToFloat(std::uint8_t v); // bias 8, 0x80 is the only NaN, no -0
float fp8E5M2FnuzToFloat(std::uint8_t v); // bias 16, 0x80 is the only NaN, no -0
float e8m0ToFloat(std::uint8_t v);        // 2^(v-127), 0xFF NaN
float fp6E2M3ToFloat(std::uint8_t code);  // low 6 bits used
float fp6E3M2ToFloat(std::uint8_t code);
float fp4E2M1ToFloat(std::uint8_t code); // low 4 bits used

// Decodes `count` little-endian elements of type `t` from `src` into `dst`. Sub-byte types are
// packed: F4 two per byte, low nibble first; F6 four per three bytes as a little-endian bit
// stream. Returns false for types that have no real value (C64).
bool decodeToFloat(DType t, std::span<const std::byte> src, std::span<float> dst);

} // namespace qs
