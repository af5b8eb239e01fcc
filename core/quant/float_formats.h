#pragma once
// Float ENCODERS for the small element formats (the decoders live in tensor/dtype.h): fp32 ->
// OCP E2M1 (FP4), E2M3 / E3M2 (FP6), E4M3 "fn" / E5M2 (FP8), the MX INT8 element (k/64), and the
// E8M0 scale. All are pure functions, callable from any thread.
//
// Rounding is round-to-nearest-even on the format's grid, subnormals included (PyTorch c10 and
// torchao's `_f32_to_floatx_unpacked` agree on this). Overflow:
//   Saturate (the default; torchao / compressed-tensors practice, NVIDIA .satfinite): anything
//     that rounds above the largest finite value, and +-Inf, becomes +-max.
//   NonSaturating (PyTorch's eager float8 casts before 2.13, c10 semantics): E4M3 gives NaN
//     (0x7F with the sign) for |x| that rounds above 448, i.e. |x| > 464; E5M2 gives +-Inf for
//     |x| >= 61440; FP6/FP4 have neither, so they saturate in both modes.
// NaN input gives the format's NaN (E4M3 0x7F, E5M2 0x7F, sign kept); formats without NaN (FP6,
// FP4, INT8) return the +0 code -- the quantizers handle NaN before encoding and say so.
// The sign of zero is kept (-0.0 -> 0x80 / 0x20 / 0x08).

#include <cstdint>
#include <string_view>
#include <vector>

namespace qs {

enum class ElementFormat { E2M1, E2M3, E3M2, E4M3, E5M2, Int8 };
enum class Overflow { Saturate, NonSaturating };

struct ElementFormatInfo {
    std::string_view name;  // "e2m1", ...
    int bits;               // code width: 4, 6, 8
    int ebits, mbits, bias; // Int8: 0 exponent bits, 6 fraction bits
    float maxNormal;        // largest finite value
    float minNormal;        // smallest normal (Int8: 1/64, its step)
    int emaxPow2;           // largest power of two the format holds: MX's "emax_elem"
};

const ElementFormatInfo& formatInfo(ElementFormat f);

std::uint8_t encodeElement(ElementFormat f, float x, Overflow o = Overflow::Saturate);
float decodeElement(ElementFormat f, std::uint8_t code);
// Every finite value the format represents, sorted ascending, zero once.
std::vector<float> elementValues(ElementFormat f);

inline std::uint8_t encodeE4M3(float x, Overflow o = Overflow::Saturate) {
    return encodeElement(ElementFormat::E4M3, x, o);
}
inline std::uint8_t encodeE5M2(float x, Overflow o = Overflow::Saturate) {
    return encodeElement(ElementFormat::E5M2, x, o);
}
inline std::uint8_t encodeFp6E2M3(float x) {
    return encodeElement(ElementFormat::E2M3, x);
}
inline std::uint8_t encodeFp6E3M2(float x) {
    return encodeElement(ElementFormat::E3M2, x);
}
inline std::uint8_t encodeFp4E2M1(float x) {
    return encodeElement(ElementFormat::E2M1, x);
}
// Value after a round trip through the format (RNE, saturating), e.g. the E4M3 block scales.
float roundTripElement(ElementFormat f, float x, Overflow o = Overflow::Saturate);

// E8M0 (2^(e-127), 0xFF = NaN, no zero). Floor: the fp32 exponent field of |x| (values below
// 2^-126, zero included, give 0 = 2^-127). RoundUp: the smallest power of two >= |x| (torchao
// `_f32_to_e8m0_rceil`, cvt.rp.ue8m0: fp32 subnormals above 2^-127 round to 2^-126). Both give
// 0xFF for NaN/Inf and for values that would need 2^128.
enum class E8M0Rounding { Floor, RoundUp };
std::uint8_t encodeE8M0(float x, E8M0Rounding r);

} // namespace qs
