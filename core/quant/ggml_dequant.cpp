// ggml's dequantize_row_* for every type Quantscope quantizes, plus Q8_1 and Q8_K for reading.
// Each product is evaluated as ggml writes it (e.g. Q4_K: (d*sc)*q - dmin*m) so values are
// bit-identical to ggml's scalar to_float.

#include "quant/ggml_rows.h"
#include "quant/ggml_search.h"

namespace qs::ggml {
namespace {

// Writes one 32-element legacy block: element j from the low nibble of qs[j] (plus high bit j),
// element j+16 from the high nibble (plus high bit j+16).
template <class F> void forEachNibblePair(const std::uint8_t* qs, F f) {
    for (int j = 0; j < 16; ++j)
        f(j, qs[j] & 0x0F, qs[j] >> 4);
}

std::uint32_t highBits(const std::uint8_t* qh) {
    return static_cast<std::uint32_t>(qh[0]) | static_cast<std::uint32_t>(qh[1]) << 8 |
           static_cast<std::uint32_t>(qh[2]) << 16 | static_cast<std::uint32_t>(qh[3]) << 24;
}

} // namespace

void dequantizeQ4_0(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK4_0; ++i, y += kQK4_0) {
        const auto b = loadBlock<BlockQ4_0>(src, i);
        const float d = fromHalf(b.d);
        forEachNibblePair(b.qs, [&](int j, int lo, int hi) {
            y[j] = static_cast<float>(lo - 8) * d;
            y[j + 16] = static_cast<float>(hi - 8) * d;
        });
    }
}

void dequantizeQ4_1(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK4_0; ++i, y += kQK4_0) {
        const auto b = loadBlock<BlockQ4_1>(src, i);
        const float d = fromHalf(b.d), m = fromHalf(b.m);
        forEachNibblePair(b.qs, [&](int j, int lo, int hi) {
            y[j] = static_cast<float>(lo) * d + m;
            y[j + 16] = static_cast<float>(hi) * d + m;
        });
    }
}

void dequantizeQ5_0(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK4_0; ++i, y += kQK4_0) {
        const auto b = loadBlock<BlockQ5_0>(src, i);
        const float d = fromHalf(b.d);
        const std::uint32_t qh = highBits(b.qh);
        forEachNibblePair(b.qs, [&](int j, int lo, int hi) {
            const int h0 = static_cast<int>((qh >> j) & 1) << 4;
            const int h1 = static_cast<int>((qh >> (j + 16)) & 1) << 4;
            y[j] = static_cast<float>((lo | h0) - 16) * d;
            y[j + 16] = static_cast<float>((hi | h1) - 16) * d;
        });
    }
}

void dequantizeQ5_1(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK4_0; ++i, y += kQK4_0) {
        const auto b = loadBlock<BlockQ5_1>(src, i);
        const float d = fromHalf(b.d), m = fromHalf(b.m);
        const std::uint32_t qh = highBits(b.qh);
        forEachNibblePair(b.qs, [&](int j, int lo, int hi) {
            const int h0 = static_cast<int>((qh >> j) & 1) << 4;
            const int h1 = static_cast<int>((qh >> (j + 16)) & 1) << 4;
            y[j] = static_cast<float>(lo | h0) * d + m;
            y[j + 16] = static_cast<float>(hi | h1) * d + m;
        });
    }
}

void dequantizeQ8_0(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK4_0; ++i, y += kQK4_0) {
        const auto b = loadBlock<BlockQ8_0>(src, i);
        const float d = fromHalf(b.d);
        for (int j = 0; j < 32; ++j)
            y[j] = static_cast<float>(b.qs[j]) * d;
    }
}

void dequantizeQ8_1(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK4_0; ++i, y += kQK4_0) {
        const auto b = loadBlock<BlockQ8_1>(src, i);
        const float d = fromHalf(b.d);
        for (int j = 0; j < 32; ++j)
            y[j] = static_cast<float>(b.qs[j]) * d;
    }
}

void dequantizeQ2_K(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockQ2_K>(src, i);
        const float d = fromHalf(b.d), min = fromHalf(b.dmin);
        const std::uint8_t* q = b.qs;
        int is = 0;
        for (int n = 0; n < kQK_K; n += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; ++half) {
                    const std::uint8_t sc = b.scales[is++];
                    const float dl = d * static_cast<float>(sc & 0xF);
                    const float ml = min * static_cast<float>(sc >> 4);
                    for (int l = 0; l < 16; ++l)
                        *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
                }
            }
            q += 32;
        }
    }
}

void dequantizeQ3_K(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockQ3_K>(src, i);
        const float dAll = fromHalf(b.d);
        // the sixteen 6-bit scales: low nibbles from scales[0..7], high 2 bits from [8..11]
        int scales[16];
        for (int j = 0; j < 16; ++j) {
            const int low = j < 8 ? b.scales[j] & 0xF : b.scales[j - 8] >> 4;
            const int high = (b.scales[8 + j % 4] >> (2 * (j / 4))) & 3;
            scales[j] = (low | (high << 4)) - 32;
        }
        const std::uint8_t* q = b.qs;
        std::uint8_t m = 1;
        int is = 0;
        for (int n = 0; n < kQK_K; n += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; ++half) {
                    const float dl = dAll * static_cast<float>(scales[is++]);
                    for (int l = 0; l < 16; ++l) {
                        const int idx = l + 16 * half;
                        const int v = ((q[idx] >> shift) & 3) - ((b.hmask[idx] & m) ? 0 : 4);
                        *y++ = dl * static_cast<float>(v);
                    }
                }
                m = static_cast<std::uint8_t>(m << 1);
            }
            q += 32;
        }
    }
}

void dequantizeQ4_K(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockQ4_K>(src, i);
        const float d = fromHalf(b.d), min = fromHalf(b.dmin);
        const std::uint8_t* q = b.qs;
        for (int is = 0; is < 8; is += 2, q += 32) {
            std::uint8_t sc = 0, m = 0;
            getScaleMinK4(is, b.scales, &sc, &m);
            const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(m);
            getScaleMinK4(is + 1, b.scales, &sc, &m);
            const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(m);
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

void dequantizeQ5_K(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockQ5_K>(src, i);
        const float d = fromHalf(b.d), min = fromHalf(b.dmin);
        const std::uint8_t* ql = b.qs;
        std::uint8_t u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32) {
            std::uint8_t sc = 0, m = 0;
            getScaleMinK4(is, b.scales, &sc, &m);
            const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(m);
            getScaleMinK4(is + 1, b.scales, &sc, &m);
            const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(m);
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (b.qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * static_cast<float>((ql[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) - m2;
            u1 = static_cast<std::uint8_t>(u1 << 2);
            u2 = static_cast<std::uint8_t>(u2 << 2);
        }
    }
}

void dequantizeQ6_K(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockQ6_K>(src, i);
        const float d = fromHalf(b.d);
        const std::uint8_t* ql = b.ql;
        const std::uint8_t* qh = b.qh;
        const std::int8_t* sc = b.scales;
        for (int n = 0; n < kQK_K; n += 128) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
                y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
                y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
                y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

void dequantizeQ8_K(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i, y += kQK_K) {
        const auto b = loadBlock<BlockQ8_K>(src, i);
        for (int j = 0; j < kQK_K; ++j)
            y[j] = b.d * static_cast<float>(b.qs[j]);
    }
}

void dequantizeIq4Nl(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK4_NL; ++i, y += kQK4_NL) {
        const auto b = loadBlock<BlockIq4Nl>(src, i);
        const float d = fromHalf(b.d);
        forEachNibblePair(b.qs, [&](int j, int lo, int hi) {
            y[j] = d * static_cast<float>(kIq4nlValues[lo]);
            y[j + 16] = d * static_cast<float>(kIq4nlValues[hi]);
        });
    }
}

void dequantizeIq4Xs(const void* src, float* y, std::int64_t k) {
    for (std::int64_t i = 0; i < k / kQK_K; ++i) {
        const auto b = loadBlock<BlockIq4Xs>(src, i);
        const float d = fromHalf(b.d);
        const std::uint8_t* qs = b.qs;
        for (int ib = 0; ib < kQK_K / 32; ++ib, y += 32, qs += 16) {
            const int ls =
                ((b.scalesL[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((b.scalesH >> 2 * ib) & 3) << 4);
            const float dl = d * static_cast<float>(ls - 32);
            forEachNibblePair(qs, [&](int j, int lo, int hi) {
                y[j] = dl * static_cast<float>(kIq4nlValues[lo]);
                y[j + 16] = dl * static_cast<float>(kIq4nlValues[hi]);
            });
        }
    }
}

} // namespace qs::ggml
