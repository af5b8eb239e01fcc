// ggml's legacy 32-element formats Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 (NUMERICS.md §5.7).
// Without importance weights each function is ggml's quantize_row_*_ref; with weights it is the
// matching quantize_row_*_impl (a weighted scale search), as ggml's quantize_q* dispatches.

#include "quant/ggml_rows.h"
#include "quant/ggml_search.h"
#include "util/simd_clones.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace qs::ggml {
namespace {

constexpr int kQk = 32;

// Packs 32 codes: element j in the low nibble of byte j, element j+16 in the high nibble.
template <class Codes> void packNibbles(const Codes* L, std::uint8_t* qs) {
    for (int j = 0; j < 16; ++j)
        qs[j] = static_cast<std::uint8_t>((L[j] & 0x0F) | ((L[j + 16] & 0x0F) << 4));
}

// The fifth bit of each code into a little-endian uint32: element j at bit j.
template <class Codes> void packHighBits(const Codes* L, std::uint8_t* qh) {
    std::uint32_t bits = 0;
    for (int j = 0; j < kQk; ++j)
        bits |= static_cast<std::uint32_t>((L[j] & 0x10) >> 4) << j;
    for (int b = 0; b < 4; ++b)
        qh[b] = static_cast<std::uint8_t>(bits >> (8 * b));
}

// The signed value of largest magnitude, the first one on ties (ggml's strict `<`).
float signedAbsMax(const float* x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQk; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

void minMax(const float* x, float& min, float& max) {
    min = FLT_MAX;
    max = -FLT_MAX;
    for (int j = 0; j < kQk; ++j) {
        if (x[j] < min)
            min = x[j];
        if (x[j] > max)
            max = x[j];
    }
}

// roundf (half away from zero) without a libm call, so the loop around it vectorises: truncate,
// then step away from zero when the dropped part (exact: v - trunc(v)) is at least one half.
// Equal to (int)roundf(v) for finite |v| < 2^31.
inline int roundHalfAway(float v) {
    const int i = static_cast<int>(v);
    const float f = v - static_cast<float>(i);
    return i + (f >= 0.5f ? 1 : 0) - (f <= -0.5f ? 1 : 0);
}

// max |x| over a block and whether it holds a NaN (then ggml's scalar comparison order decides).
inline float blockAbsMax(const float* x, bool& hasNan) {
    float amax = 0.0f;
    int nan = 0;
#pragma omp simd reduction(max : amax) reduction(| : nan)
    for (int j = 0; j < kQk; ++j) {
        amax = std::max(amax, std::fabs(x[j]));
        nan |= x[j] != x[j];
    }
    hasNan = nan != 0;
    return amax;
}

// signedAbsMax for a block without NaN: the first element whose |x| is the maximum; +0 when
// the block is all zeros (as ggml's loop, which never moves off its initial 0).
inline float signedAbsMaxFinite(const float* x, float amax) {
    if (amax == 0.0f)
        return 0.0f;
    int first = kQk;
#pragma omp simd reduction(min : first)
    for (int j = 0; j < kQk; ++j)
        if (std::fabs(x[j]) == amax)
            first = std::min(first, j);
    return x[first];
}

// sigma2 of the imatrix paths: mean square over the whole row.
float rowSigma2(const float* x, std::int64_t n) {
    float sumX2 = 0;
    for (std::int64_t j = 0; j < n; ++j)
        sumX2 += x[j] * x[j];
    return sumX2 / static_cast<float>(n);
}

void importance(const float* xb, const float* qw, float sigma2, float* weight) {
    importanceWeights(xb, qw, sigma2, kQk, weight);
}

// quantize_row_q{4,5}_1_impl's make_qkx3_quants, kQkxBatch blocks of the row at a time: at(i)
// for the blocks in order (a batch is searched when its first block is asked for).
struct ImatrixBlock {
    std::uint8_t L[kQk];
    float d = 0, theMin = 0;
};
class ImatrixSearch {
public:
    ImatrixSearch(const float* x, const float* qw, float sigma2, int nmax, std::int64_t blocks)
        : m_x(x), m_qw(qw), m_sigma2(sigma2), m_nmax(nmax), m_count(blocks) {}
    const ImatrixBlock& at(std::int64_t i) {
        const std::int64_t first = i - i % kQkxBatch;
        if (first != m_first) {
            m_first = first;
            const int count = static_cast<int>(std::min<std::int64_t>(kQkxBatch, m_count - first));
            float x[kQk * kQkxBatch], w[kQk * kQkxBatch], d[kQkxBatch], mn[kQkxBatch];
            std::uint8_t L[kQk * kQkxBatch];
            for (int b = 0; b < count; ++b) {
                const float* xb = m_x + (first + b) * kQk;
                std::copy_n(xb, kQk, x + b * kQk);
                importance(xb, m_qw + (first + b) * kQk, m_sigma2, w + b * kQk);
            }
            makeQkxQuantsBlocks(kQk, m_nmax, x, w, count, L, d, mn, -0.9f, 0.05f, 36, false, true);
            for (int b = 0; b < count; ++b) {
                std::copy_n(L + b * kQk, kQk, m_blocks[b].L);
                m_blocks[b].d = d[b];
                m_blocks[b].theMin = mn[b];
            }
        }
        return m_blocks[i - first];
    }

private:
    const float* m_x;
    const float* m_qw;
    float m_sigma2;
    int m_nmax;
    std::int64_t m_count;
    std::int64_t m_first = -1;
    ImatrixBlock m_blocks[kQkxBatch];
};

} // namespace

// quantize_row_q4_0_ref / quantize_row_q4_0_impl
QS_SIMD_CLONES void quantizeQ4_0(const float* x, void* dst, std::int64_t n, const float* qw) {
    const std::int64_t nb = n / kQk;
    const float sigma2 = qw ? rowSigma2(x, n) : 0.0f;
    for (std::int64_t i = 0; i < nb; ++i) {
        const float* xb = x + i * kQk;
        BlockQ4_0 b{};
        std::uint8_t L[kQk];
        if (qw) {
            float weight[kQk];
            std::int8_t Lq[kQk];
            importance(xb, qw + i * kQk, sigma2, weight);
            b.d = toHalf(makeQxQuants(kQk, 8, xb, Lq, 1, weight));
            for (int j = 0; j < kQk; ++j)
                L[j] = static_cast<std::uint8_t>(Lq[j]);
        } else {
            bool hasNan = false;
            const float amax = blockAbsMax(xb, hasNan);
            const float d = (hasNan ? signedAbsMax(xb) : signedAbsMaxFinite(xb, amax)) / -8;
            const float id = d != 0 ? 1.0f / d : 0.0f;
            b.d = toHalf(d);
#pragma omp simd
            for (int j = 0; j < kQk; ++j) {
                // truncation of a value >= 0.5: round half up; the extreme lands on 0
                const int q = static_cast<int>(xb[j] * id + 8.5f);
                L[j] = static_cast<std::uint8_t>(q < 15 ? q : 15);
            }
        }
        packNibbles(L, b.qs);
        storeBlock(dst, i, b);
    }
}

// quantize_row_q4_1_ref / quantize_row_q4_1_impl
void quantizeQ4_1(const float* x, void* dst, std::int64_t n, const float* qw) {
    const std::int64_t nb = n / kQk;
    const float sigma2 = qw ? rowSigma2(x, n) : 0.0f;
    ImatrixSearch search(x, qw, sigma2, 15, nb);
    for (std::int64_t i = 0; i < nb; ++i) {
        const float* xb = x + i * kQk;
        BlockQ4_1 b{};
        std::uint8_t L[kQk];
        if (qw) {
            const ImatrixBlock& q = search.at(i);
            std::copy_n(q.L, kQk, L);
            b.d = toHalf(q.d);
            b.m = toHalf(-q.theMin);
        } else {
            float min = 0, max = 0;
            minMax(xb, min, max);
            const float d = (max - min) / ((1 << 4) - 1);
            const float id = d != 0 ? 1.0f / d : 0.0f;
            b.d = toHalf(d);
            b.m = toHalf(min);
            for (int j = 0; j < kQk; ++j) {
                const auto q = static_cast<std::int8_t>((xb[j] - min) * id + 0.5f);
                L[j] = static_cast<std::uint8_t>(q < 15 ? q : 15);
            }
        }
        packNibbles(L, b.qs);
        storeBlock(dst, i, b);
    }
}

// quantize_row_q5_0_ref / quantize_row_q5_0_impl
void quantizeQ5_0(const float* x, void* dst, std::int64_t n, const float* qw) {
    const std::int64_t nb = n / kQk;
    const float sigma2 = qw ? rowSigma2(x, n) : 0.0f;
    for (std::int64_t i = 0; i < nb; ++i) {
        const float* xb = x + i * kQk;
        BlockQ5_0 b{};
        std::uint8_t L[kQk];
        if (qw) {
            float weight[kQk];
            std::int8_t Lq[kQk];
            importance(xb, qw + i * kQk, sigma2, weight);
            b.d = toHalf(makeQxQuants(kQk, 16, xb, Lq, 1, weight));
            for (int j = 0; j < kQk; ++j)
                L[j] = static_cast<std::uint8_t>(Lq[j]);
        } else {
            const float d = signedAbsMax(xb) / -16;
            const float id = d != 0 ? 1.0f / d : 0.0f;
            b.d = toHalf(d);
            for (int j = 0; j < kQk; ++j) {
                const auto q = static_cast<std::int8_t>(xb[j] * id + 16.5f);
                L[j] = static_cast<std::uint8_t>(q < 31 ? q : 31);
            }
        }
        packNibbles(L, b.qs);
        packHighBits(L, b.qh);
        storeBlock(dst, i, b);
    }
}

// quantize_row_q5_1_ref / quantize_row_q5_1_impl
void quantizeQ5_1(const float* x, void* dst, std::int64_t n, const float* qw) {
    const std::int64_t nb = n / kQk;
    const float sigma2 = qw ? rowSigma2(x, n) : 0.0f;
    ImatrixSearch search(x, qw, sigma2, 31, nb);
    for (std::int64_t i = 0; i < nb; ++i) {
        const float* xb = x + i * kQk;
        BlockQ5_1 b{};
        std::uint8_t L[kQk];
        if (qw) {
            const ImatrixBlock& q = search.at(i);
            std::copy_n(q.L, kQk, L);
            b.d = toHalf(q.d);
            b.m = toHalf(-q.theMin);
        } else {
            float min = 0, max = 0;
            minMax(xb, min, max);
            const float d = (max - min) / ((1 << 5) - 1);
            const float id = d != 0 ? 1.0f / d : 0.0f;
            b.d = toHalf(d);
            b.m = toHalf(min);
            for (int j = 0; j < kQk; ++j) // no clamp to 31 here: ggml has none either
                L[j] = static_cast<std::uint8_t>((xb[j] - min) * id + 0.5f);
        }
        packNibbles(L, b.qs);
        packHighBits(L, b.qh);
        storeBlock(dst, i, b);
    }
}

// quantize_row_q8_0_ref in portable code (quantizeQ8_0 in ggml_q8_0.cpp picks this or an
// AVX2/AVX-512 copy of it)
QS_SIMD_CLONES void quantizeQ8_0Portable(const float* x, void* dst, std::int64_t n) {
    const std::int64_t nb = n / kQk;
    for (std::int64_t i = 0; i < nb; ++i) {
        const float* xb = x + i * kQk;
        bool hasNan = false;
        float amax = blockAbsMax(xb, hasNan);
        if (hasNan) { // ggml's MAX(amax, |x|) in order: a NaN sticks until a number follows it
            amax = 0.0f;
            for (int j = 0; j < kQk; ++j) {
                const float a = std::fabs(xb[j]);
                amax = amax > a ? amax : a;
            }
        }
        const float d = amax / ((1 << 7) - 1);
        const float id = d != 0 ? 1.0f / d : 0.0f;
        BlockQ8_0 b;
        b.d = toHalf(d);
#pragma omp simd
        for (int j = 0; j < kQk; ++j)
            b.qs[j] = static_cast<std::int8_t>(roundHalfAway(xb[j] * id)); // roundf's rule
        storeBlock(dst, i, b);
    }
}

} // namespace qs::ggml
