// quantize_row_q8_0_ref at the speed of the hardware: AVX-512 and AVX2 copies of the portable
// loop (ggml_legacy.cpp), chosen once at run time. Each does what the portable loop does, in
// the same order for every value: max |x| over the block (exact in any order), d = amax/127,
// id = 1/d, and each code rounded half away from zero as roundf does, by truncating and
// stepping when the dropped part is at least one half. Blocks holding a NaN or an infinity go
// through the portable loop, which keeps ggml's scalar comparison order for them.

#include "quant/ggml_rows.h"
#include "quant/ggml_search.h"

#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_ps(), which its own
// -Wmaybe-uninitialized reports (GCC bug 105593); nothing here reads an undefined value.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define QS_Q8_0_X86 1
#endif

namespace qs::ggml {
namespace {

constexpr int kQk = 32;
constexpr std::size_t kBlockBytes = sizeof(BlockQ8_0);

// d then the 32 codes, as BlockQ8_0 lays them out.
inline std::byte* blockAt(void* dst, std::int64_t i) {
    return static_cast<std::byte*>(dst) + i * static_cast<std::int64_t>(kBlockBytes);
}

inline void storeScale(std::byte* block, float d) {
    const std::uint16_t h = toHalf(d);
    std::memcpy(block, &h, sizeof h);
}

#ifdef QS_Q8_0_X86

// roundf's rule: t = trunc(v), f = v - t (exact), and 2f, exact too, truncates to -1, 0 or 1
// as |f| reaches one half: t + trunc(2f).
__attribute__((target("avx512f"))) inline __m512i roundHalfAway512(__m512 v) {
    constexpr int kTrunc = _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC;
    const __m512 t = _mm512_roundscale_ps(v, kTrunc);
    const __m512 f = _mm512_sub_ps(v, t);
    return _mm512_cvttps_epi32(_mm512_add_ps(t, _mm512_roundscale_ps(_mm512_add_ps(f, f), kTrunc)));
}

// One block whose max |x| is known and finite.
__attribute__((target("avx512f"))) inline void storeCodes512(const float* xb, std::byte* block,
                                                             float id) {
    const __m512 vid = _mm512_set1_ps(id);
    const __m512 a = _mm512_loadu_ps(xb);
    const __m512 b = _mm512_loadu_ps(xb + 16);
    const __m128i qa = _mm512_cvtepi32_epi8(roundHalfAway512(_mm512_mul_ps(a, vid)));
    const __m128i qb = _mm512_cvtepi32_epi8(roundHalfAway512(_mm512_mul_ps(b, vid)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(block + 2), qa);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(block + 18), qb);
}

// The largest lane of each of m[0..15], in lane g of the result: pairs of vectors folded into one
// (each lane's max with its partner's), four times, then the lanes back in block order (the folds
// leave them bit-reversed). 30 two-source permutes and 15 maxima for 16 blocks, where a
// horizontal reduction per block takes 8 steps.
__attribute__((target("avx512f"))) inline __m512i fold(__m512i a, __m512i b, __m512i lo,
                                                       __m512i hi) {
    return _mm512_max_epu32(_mm512_permutex2var_epi32(a, lo, b),
                            _mm512_permutex2var_epi32(a, hi, b));
}

__attribute__((target("avx512f"))) inline __m512i laneMaxima16(const __m512i* m) {
    const __m512i lo1 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    const __m512i hi1 =
        _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    const __m512i lo2 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
    const __m512i hi2 =
        _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    const __m512i lo3 = _mm512_setr_epi32(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
    const __m512i hi3 =
        _mm512_setr_epi32(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    const __m512i lo4 =
        _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    const __m512i hi4 =
        _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    __m512i a[8], b[4], c[2];
    for (int j = 0; j < 8; ++j) // a[j]: blocks 2j and 2j+1, 8 lanes each
        a[j] = fold(m[2 * j], m[2 * j + 1], lo1, hi1);
    for (int k = 0; k < 4; ++k) // b[k]: blocks 4k, 4k+2, 4k+1, 4k+3, 4 lanes each
        b[k] = fold(a[2 * k], a[2 * k + 1], lo2, hi2);
    for (int l = 0; l < 2; ++l)
        c[l] = fold(b[2 * l], b[2 * l + 1], lo3, hi3);
    const __m512i d = fold(c[0], c[1], lo4, hi4); // blocks 0, 8, 4, 12, 2, 10, ...: bit-reversed
    const __m512i order = _mm512_setr_epi32(0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15);
    return _mm512_permutexvar_epi32(order, d);
}

// Blocks go 16 at a time: their maxima first (as integers: the bits of |x| order as its values
// do, and a NaN's or an infinity's are the largest, from 0x7F800000 up, so one comparison finds
// them), then d = amax/127, id = 1/d and the f16 of d for all 16 in vector lanes (the same IEEE
// divisions; F16C's conversion rounds to nearest even as floatToHalf does), then the codes. A
// group holding a NaN or an infinity goes block by block through the portable loop.
__attribute__((target("avx512f,f16c"))) void quantizeQ8_0Avx512(const float* x, void* dst,
                                                                std::int64_t nb) {
    constexpr int kGroup = 16;
    const __m512i absMask = _mm512_set1_epi32(0x7FFFFFFF);
    std::int64_t i = 0;
    for (; i + kGroup <= nb; i += kGroup) {
        __m512i m[kGroup];
        for (int g = 0; g < kGroup; ++g) {
            const float* xb = x + (i + g) * kQk;
            const __m512i a = _mm512_and_si512(_mm512_loadu_si512(xb), absMask);
            const __m512i b = _mm512_and_si512(_mm512_loadu_si512(xb + 16), absMask);
            m[g] = _mm512_max_epu32(a, b);
        }
        const __m512i maxBits = laneMaxima16(m);
        if (_mm512_cmpge_epu32_mask(maxBits, _mm512_set1_epi32(0x7F800000))) {
            quantizeQ8_0Portable(x + i * kQk, blockAt(dst, i), kGroup * kQk);
            continue;
        }
        const __m512 vmax = _mm512_castsi512_ps(maxBits);
        const __m512 d = _mm512_div_ps(vmax, _mm512_set1_ps(static_cast<float>((1 << 7) - 1)));
        const __mmask16 nonzero = _mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_NEQ_OQ);
        alignas(64) float id[kGroup];
        _mm512_store_ps(id, _mm512_maskz_div_ps(nonzero, _mm512_set1_ps(1.0f), d));
        alignas(32) std::uint16_t half[kGroup];
        _mm256_store_si256(reinterpret_cast<__m256i*>(half),
                           _mm512_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        for (int g = 0; g < kGroup; ++g) {
            std::byte* block = blockAt(dst, i + g);
            std::memcpy(block, &half[g], sizeof half[g]);
            storeCodes512(x + (i + g) * kQk, block, id[g]);
        }
    }
    for (; i < nb; ++i) {
        const float* xb = x + i * kQk;
        std::byte* block = blockAt(dst, i);
        const __m512 a = _mm512_loadu_ps(xb);
        const __m512 b = _mm512_loadu_ps(xb + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
        const __mmask16 nan =
            _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
        if (nan || std::isinf(amax)) {
            quantizeQ8_0Portable(xb, block, kQk);
            continue;
        }
        const float d = amax / ((1 << 7) - 1);
        storeScale(block, d);
        storeCodes512(xb, block, d != 0 ? 1.0f / d : 0.0f);
    }
}

// As roundHalfAway512.
__attribute__((target("avx2"))) inline __m256i roundHalfAway256(__m256 v) {
    constexpr int kTrunc = _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC;
    const __m256 t = _mm256_round_ps(v, kTrunc);
    const __m256 f = _mm256_sub_ps(v, t);
    return _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_round_ps(_mm256_add_ps(f, f), kTrunc)));
}

__attribute__((target("avx2"))) void quantizeQ8_0Avx2(const float* x, void* dst, std::int64_t nb) {
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    // _mm256_packs_* interleave 128-bit halves; this puts the 32 codes back in order.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (std::int64_t i = 0; i < nb; ++i) {
        const float* xb = x + i * kQk;
        __m256 v[4];
        __m256 m = _mm256_setzero_ps();
        __m256 nan = _mm256_setzero_ps();
        for (int k = 0; k < 4; ++k) {
            v[k] = _mm256_loadu_ps(xb + 8 * k);
            m = _mm256_max_ps(m, _mm256_and_ps(v[k], absMask));
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(v[k], v[k], _CMP_UNORD_Q));
        }
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        const float amax = _mm_cvtss_f32(h);
        std::byte* block = blockAt(dst, i);
        if (_mm256_movemask_ps(nan) || std::isinf(amax)) {
            quantizeQ8_0Portable(xb, block, kQk);
            continue;
        }
        const float d = amax / ((1 << 7) - 1);
        const float id = d != 0 ? 1.0f / d : 0.0f;
        storeScale(block, d);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; ++k)
            q[k] = roundHalfAway256(_mm256_mul_ps(v[k], vid));
        // |codes| <= 127 (amax * (1/(amax/127)) rounds to 127), so saturation never acts
        const __m256i w01 = _mm256_packs_epi32(q[0], q[1]);
        const __m256i w23 = _mm256_packs_epi32(q[2], q[3]);
        const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w01, w23), order);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(block + 2), bytes);
    }
}

using RowFn = void (*)(const float*, void*, std::int64_t);
RowFn pickQ8_0() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) // every AVX-512 CPU has F16C (clang cannot ask)
        return quantizeQ8_0Avx512;
    if (__builtin_cpu_supports("avx2"))
        return quantizeQ8_0Avx2;
    return
        [](const float* x, void* dst, std::int64_t nb) { quantizeQ8_0Portable(x, dst, nb * kQk); };
}

#endif

} // namespace

bool quantizeQ8_0With(Q8_0Kernel k, const float* x, void* dst, std::int64_t n) {
    switch (k) {
    case Q8_0Kernel::Portable:
        quantizeQ8_0Portable(x, dst, n);
        return true;
#ifdef QS_Q8_0_X86
    case Q8_0Kernel::Avx2:
        if (!__builtin_cpu_supports("avx2"))
            return false;
        quantizeQ8_0Avx2(x, dst, n / kQk);
        return true;
    case Q8_0Kernel::Avx512:
        if (!__builtin_cpu_supports("avx512f"))
            return false;
        quantizeQ8_0Avx512(x, dst, n / kQk);
        return true;
#endif
    default:
        return false;
    }
}

void quantizeQ8_0(const float* x, void* dst, std::int64_t n, const float*) {
#ifdef QS_Q8_0_X86
    static const RowFn row = pickQ8_0();
    row(x, dst, n / kQk);
#else
    quantizeQ8_0Portable(x, dst, n);
#endif
}

} // namespace qs::ggml
