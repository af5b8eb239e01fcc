// ggml's dequantize_row_* for the codebook (IQ1/IQ2/IQ3), ternary (TQ1_0/TQ2_0), FP4 (MXFP4,
// NVFP4) and 1-/2-bit (Q1_0, Q2_0) types, read from GGUF files. Every product keeps ggml's
// operand order and grouping (e.g. IQ2: (db * grid) * sign, IQ1: dl * (grid + delta)) so the
// floats are bit-identical to ggml's scalar to_float; tests/core/test_ggml_oracle.cpp checks it.

#include "quant/ggml_iq_grids.h"
#include "quant/ggml_rows.h"
#include "quant/ggml_search.h"

#include <cmath>

namespace qs::ggml {
namespace {

constexpr float kIq1sDelta = 0.125f; // IQ1S_DELTA, also used by IQ1_M

// kvalues_mxfp4: E2M1 values doubled; the scale decoders below halve to compensate.
constexpr std::int8_t kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

float signOf(std::uint8_t signs, int j) {
    return (signs >> j) & 1 ? -1.f : 1.f;
}

std::uint16_t u16At(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

std::uint32_t u32At(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// ggml_e8m0_to_fp32_half: 2^(e-128) built from bits (subnormal below e = 2); no NaN for 0xFF.
float e8m0Half(std::uint8_t e) {
    const std::uint32_t bits = e < 2 ? 0x00200000u << e : static_cast<std::uint32_t>(e - 1) << 23;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// ggml_ue4m3_to_fp32: half the UE4M3 value; bit 7 is ignored and 0x7F (the NaN code) reads 0.
float ue4m3Half(std::uint8_t x) {
    if (x == 0 || x == 0x7F)
        return 0.0f;
    const int exp = (x >> 3) & 0xF, man = x & 0x7;
    const float raw = exp == 0 ? std::ldexp(static_cast<float>(man), -9)
                               : std::ldexp(1.0f + static_cast<float>(man) / 8.0f, exp - 7);
    return raw * 0.5f;
}

// Eight values of a 2-bit-grid point with sign bits, as IQ2_XXS/XS/S write them.
void gridSigned8(std::uint64_t entry, std::uint8_t signs, float db, float* y) {
    for (int j = 0; j < 8; ++j)
        y[j] = db * static_cast<float>(gridByte(entry, j)) * signOf(signs, j);
}

// Eight values from two 4-value IQ3 grid points sharing one sign byte.
void gridPair3(std::uint32_t g1, std::uint32_t g2, std::uint8_t signs, float db, float* y) {
    for (int j = 0; j < 4; ++j) {
        y[j + 0] = db * static_cast<float>(gridByte(g1, j)) * signOf(signs, j);
        y[j + 4] = db * static_cast<float>(gridByte(g2, j)) * signOf(signs, j + 4);
    }
}

// Eight values of an IQ1 grid point (entries are -1, 0, +1) shifted by delta.
void grid1(std::uint16_t index, float dl, float delta, float* y) {
    const std::uint64_t entry = kIq1sGrid[index & 2047];
    for (int j = 0; j < 8; ++j)
        y[j] = dl * (static_cast<float>(static_cast<std::int8_t>(gridByte(entry, j))) + delta);
}

// TQ1_0: a byte holds five base-3 digits as a fixed-point fraction; multiplying by 3^n (mod 256)
// moves digit n to the top, and (q * 3) >> 8 reads it out.
int trit(std::uint8_t byte, int n) {
    constexpr std::uint8_t kPow3[6] = {1, 3, 9, 27, 81, 243};
    const auto q = static_cast<std::uint8_t>(byte * kPow3[n]);
    return static_cast<std::int16_t>((static_cast<std::uint16_t>(q) * 3) >> 8);
}

} // namespace

void dequantizeIq2Xxs(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockIq2Xxs>(src, i);
        const float d = fromHalf(b.d);
        const auto* q8 = reinterpret_cast<const std::uint8_t*>(b.qs);
        for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32, q8 += 8) {
            // four grid indices in the first word; four 7-bit sign groups and a scale in the second
            const std::uint32_t aux1 = u32At(q8 + 4);
            const float db = d * (0.5f + static_cast<float>(aux1 >> 28)) * 0.25f;
            for (int l = 0; l < 4; ++l, y += 8)
                gridSigned8(kIq2xxsGrid[q8[l]], ksignsIq2xs((aux1 >> 7 * l) & 127), db, y);
        }
    }
}

void dequantizeIq2Xs(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockIq2Xs>(src, i);
        const float d = fromHalf(b.d);
        for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
            const float db[2] = {d * (0.5f + static_cast<float>(b.scales[ib32] & 0xf)) * 0.25f,
                                 d * (0.5f + static_cast<float>(b.scales[ib32] >> 4)) * 0.25f};
            for (int l = 0; l < 4; ++l, y += 8) {
                const std::uint16_t q = b.qs[4 * ib32 + l];
                gridSigned8(kIq2xsGrid[q & 511], ksignsIq2xs(q >> 9), db[l / 2], y);
            }
        }
    }
}

void dequantizeIq2S(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockIq2S>(src, i);
        const float d = fromHalf(b.d);
        const std::uint8_t* qs = b.qs;
        const std::uint8_t* signs = b.qs + kQK_K / 8; // the second half of qs holds signs
        for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32, qs += 4, signs += 4) {
            const float db[2] = {d * (0.5f + static_cast<float>(b.scales[ib32] & 0xf)) * 0.25f,
                                 d * (0.5f + static_cast<float>(b.scales[ib32] >> 4)) * 0.25f};
            for (int l = 0; l < 4; ++l, y += 8) {
                const int index = qs[l] | ((b.qh[ib32] << (8 - 2 * l)) & 0x300);
                gridSigned8(kIq2sGrid[index], signs[l], db[l / 2], y);
            }
        }
    }
}

void dequantizeIq3Xxs(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockIq3Xxs>(src, i);
        const float d = fromHalf(b.d);
        const std::uint8_t* qs = b.qs;
        const std::uint8_t* scalesAndSigns = b.qs + kQK_K / 4;
        for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32, qs += 8) {
            const std::uint32_t aux = u32At(scalesAndSigns + 4 * ib32);
            const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
            for (int l = 0; l < 4; ++l, y += 8)
                gridPair3(kIq3xxsGrid[qs[2 * l]], kIq3xxsGrid[qs[2 * l + 1]],
                          ksignsIq2xs((aux >> 7 * l) & 127), db, y);
        }
    }
}

void dequantizeIq3S(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockIq3S>(src, i);
        const float d = fromHalf(b.d);
        const std::uint8_t* qs = b.qs;
        const std::uint8_t* signs = b.signs;
        for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32, qs += 8, signs += 4) {
            // one 4-bit scale per pair of 32s; the ninth index bit of each point comes from qh
            const int sc = (b.scales[ib32 / 2] >> (4 * (ib32 % 2))) & 0xf;
            const float db = d * static_cast<float>(1 + 2 * sc);
            const std::uint8_t qh = b.qh[ib32];
            for (int l = 0; l < 4; ++l, y += 8) {
                const int i1 = qs[2 * l + 0] | ((qh << (8 - 2 * l)) & 256);
                const int i2 = qs[2 * l + 1] | ((qh << (7 - 2 * l)) & 256);
                gridPair3(kIq3sGrid[i1], kIq3sGrid[i2], signs[l], db, y);
            }
        }
    }
}

void dequantizeIq1S(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockIq1S>(src, i);
        const float d = fromHalf(b.d);
        const std::uint8_t* qs = b.qs;
        for (int ib = 0; ib < kQK_K / 32; ++ib, qs += 4) {
            const std::uint16_t qh = b.qh[ib];
            const float dl = d * static_cast<float>(2 * ((qh >> 12) & 7) + 1);
            const float delta = qh & 0x8000 ? -kIq1sDelta : kIq1sDelta;
            for (int l = 0; l < 4; ++l, y += 8)
                grid1(static_cast<std::uint16_t>(qs[l] | (((qh >> 3 * l) & 7) << 8)), dl, delta, y);
        }
    }
}

void dequantizeIq1M(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockIq1M>(src, i);
        std::uint16_t sc[4];
        for (int j = 0; j < 4; ++j)
            sc[j] = u16At(b.scales + 2 * j);
        // the fp16 super-block scale is spread over the top nibbles of the four scale words
        const auto scaleBits = static_cast<std::uint16_t>(
            (sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
        const float d = fromHalf(scaleBits);
        const std::uint8_t* qs = b.qs;
        const std::uint8_t* qh = b.qh;
        for (int ib = 0; ib < kQK_K / 32; ++ib, qs += 4, qh += 2) {
            const int shift = 6 * (ib % 2);
            const float dl1 = d * static_cast<float>(2 * ((sc[ib / 2] >> shift) & 0x7) + 1);
            const float dl2 = d * static_cast<float>(2 * ((sc[ib / 2] >> (shift + 3)) & 0x7) + 1);
            const std::uint16_t idx[4] = {
                static_cast<std::uint16_t>(qs[0] | ((qh[0] << 8) & 0x700)),
                static_cast<std::uint16_t>(qs[1] | ((qh[0] << 4) & 0x700)),
                static_cast<std::uint16_t>(qs[2] | ((qh[1] << 8) & 0x700)),
                static_cast<std::uint16_t>(qs[3] | ((qh[1] << 4) & 0x700))};
            const float delta[4] = {
                qh[0] & 0x08 ? -kIq1sDelta : kIq1sDelta, qh[0] & 0x80 ? -kIq1sDelta : kIq1sDelta,
                qh[1] & 0x08 ? -kIq1sDelta : kIq1sDelta, qh[1] & 0x80 ? -kIq1sDelta : kIq1sDelta};
            for (int l = 0; l < 4; ++l, y += 8)
                grid1(idx[l], l < 2 ? dl1 : dl2, delta[l], y);
        }
    }
}

void dequantizeTq1_0(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockTq1_0>(src, i);
        const float d = fromHalf(b.d);
        constexpr int kQs = sizeof(b.qs), kFull = kQs - kQs % 32;
        for (int j = 0; j < kFull; j += 32)
            for (int n = 0; n < 5; ++n)
                for (int m = 0; m < 32; ++m)
                    *y++ = static_cast<float>(trit(b.qs[j + m], n) - 1) * d;
        for (int j = kFull; j < kQs; j += 16)
            for (int n = 0; n < 5; ++n)
                for (int m = 0; m < 16; ++m)
                    *y++ = static_cast<float>(trit(b.qs[j + m], n) - 1) * d;
        for (int n = 0; n < 4; ++n)
            for (int j = 0; j < static_cast<int>(sizeof(b.qh)); ++j)
                *y++ = static_cast<float>(trit(b.qh[j], n) - 1) * d;
    }
}

void dequantizeTq2_0(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockTq2_0>(src, i);
        const float d = fromHalf(b.d);
        for (int j = 0; j < static_cast<int>(sizeof(b.qs)); j += 32)
            for (int l = 0; l < 4; ++l)
                for (int m = 0; m < 32; ++m)
                    *y++ = static_cast<float>(((b.qs[j + m] >> (l * 2)) & 3) - 1) * d;
    }
}

void dequantizeMxfp4(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_MXFP4; ++i, y += kQK_MXFP4) {
        const auto b = loadBlock<BlockMxfp4>(src, i);
        const float d = e8m0Half(b.e);
        for (int j = 0; j < kQK_MXFP4 / 2; ++j) {
            y[j] = static_cast<float>(kMxfp4Values[b.qs[j] & 0x0F]) * d;
            y[j + kQK_MXFP4 / 2] = static_cast<float>(kMxfp4Values[b.qs[j] >> 4]) * d;
        }
    }
}

void dequantizeNvfp4(const void* src, float* y, std::int64_t k) {
    constexpr int kSub = 16; // QK_NVFP4_SUB: one UE4M3 scale per 16 values
    for (std::int64_t i = 0; i < k / kQK_NVFP4; ++i) {
        const auto b = loadBlock<BlockNvfp4>(src, i);
        for (int s = 0; s < kQK_NVFP4 / kSub; ++s, y += kSub) {
            const float d = ue4m3Half(b.d[s]);
            for (int j = 0; j < kSub / 2; ++j) {
                const std::uint8_t q = b.qs[s * (kSub / 2) + j];
                y[j] = static_cast<float>(kMxfp4Values[q & 0x0F]) * d;
                y[j + kSub / 2] = static_cast<float>(kMxfp4Values[q >> 4]) * d;
            }
        }
    }
}

void dequantizeQ1_0(const void* src, float* y, std::int64_t k) {
    constexpr int kBytes = kQK1_0 / 8;
    const auto* p = static_cast<const std::uint8_t*>(src);
    for (std::int64_t i = 0; i < k / kQK1_0; ++i, p += 2 + kBytes, y += kQK1_0) {
        const float d = fromHalf(u16At(p)); // block_q1_0 {half d; u8 qs[16]}: one sign bit each
        for (int j = 0; j < kQK1_0; ++j)
            y[j] = (p[2 + j / 8] >> (j % 8)) & 1 ? d : -d;
    }
}

void dequantizeQ2_0(const void* src, float* y, std::int64_t k) {
    constexpr int kBytes = kQK2_0 / 4;
    const auto* p = static_cast<const std::uint8_t*>(src);
    for (std::int64_t i = 0; i < k / kQK2_0; ++i, p += 2 + kBytes, y += kQK2_0) {
        const float d = fromHalf(u16At(p)); // block_q2_0 {half d; u8 qs[16]}: codes -1..2
        for (int j = 0; j < kQK2_0; ++j)
            y[j] = static_cast<float>(((p[2 + j / 4] >> ((j % 4) * 2)) & 3) - 1) * d;
    }
}

} // namespace qs::ggml
