#include "analysis/fused_avx512.h"

#include <algorithm>
#include <atomic>
#include <limits>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QS_FUSED_AVX512 1
#endif

namespace qs::fused {

#ifdef QS_FUSED_AVX512
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
// GCC 12 warns that _mm512_undefined_ps's __Y "may be used uninitialized" inside its own
// AVX-512 intrinsics (GCC bug 105593, fixed in later releases): silenced for these kernels only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define QS_FUSED_AVX512_PRAGMA 1
#endif

namespace {

bool cpuHasAvx512() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
std::atomic<bool> useAvx512{cpuHasAvx512()};

bool cpuHasAvx2Fma() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
std::atomic<bool> useAvx2Fma{cpuHasAvx2Fma()};

// The code of 8 values of t (the number of thresholds <= t): a four-step binary search over
// the 15 thresholds padded with +inf, held in two registers of doubles.
__attribute__((target("avx512f"))) __m256i compandCode8(__m512d t, __m512d thrLo, __m512d thrHi) {
    __m512i idx = _mm512_setzero_si512();
    for (long long half : {8LL, 4LL, 2LL, 1LL}) { // thr[idx + half - 1] <= t: past them
        const __m512i probe = _mm512_add_epi64(idx, _mm512_set1_epi64(half - 1));
        const __mmask8 le =
            _mm512_cmp_pd_mask(_mm512_permutex2var_pd(thrLo, probe, thrHi), t, _CMP_LE_OQ);
        idx = _mm512_mask_add_epi64(idx, le, idx, _mm512_set1_epi64(half));
    }
    return _mm512_cvtepi64_epi32(idx);
}

// clamp(x / a, -1, 1) in double for 8 values.
__attribute__((target("avx512f"))) __m512d compandT(__m256 x, __m512d a) {
    const __m512d t = _mm512_div_pd(_mm512_cvtps_pd(x), a);
    return _mm512_min_pd(_mm512_max_pd(t, _mm512_set1_pd(-1.0)), _mm512_set1_pd(1.0));
}

template <bool Min> __attribute__((target("avx512f"))) inline __m512 minOrMax(__m512 a, __m512 b) {
    return Min ? _mm512_min_ps(a, b) : _mm512_max_ps(a, b);
}

// The min (Min) or max of each of 16 vectors' lanes, lane g of the result for v[g]: a
// transposing tree (pairs of vectors, then pairs of halves, of 128-bit lanes, of 256-bit
// halves), 45 operations for the 16 where a horizontal reduction of each takes 8 and an extract.
template <bool Min> __attribute__((target("avx512f"))) __m512 reduceLanes16(const __m512* v) {
    constexpr auto op = minOrMax<Min>;
    __m512 t[8], u[4], w[2];
    for (int i = 0; i < 8; ++i) // lane pairs (0, 2), (1, 3) of each 128 bits, v[2i] and v[2i + 1]
        t[i] = op(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]),
                  _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 4; ++i) // each 128 bits: v[4i .. 4i + 3], one lane each
        u[i] = op(_mm512_shuffle_ps(t[2 * i], t[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                  _mm512_shuffle_ps(t[2 * i], t[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    for (int i = 0; i < 2; ++i) // 128-bit lanes (0, 1) and (2, 3) combined
        w[i] = op(_mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                  _mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    return op(_mm512_shuffle_f32x4(w[0], w[1], _MM_SHUFFLE(2, 0, 2, 0)),
              _mm512_shuffle_f32x4(w[0], w[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

} // namespace

// groupMinMax for groupCols a multiple of 16, sixteen groups at a time: each group's vectors
// folded into one vector of minima and one of maxima, then the 16 groups' reduced together by
// reduceLanes16 (the min and max of a group of 32 took 4 steps of shuffle and min each, for
// each of min and max, and the extracts). NaN and Inf are flagged by an unordered compare of
// each vector with itself and by the infinite min or max.
__attribute__((target("avx512f"))) std::int64_t groupMinMax512(const float* x, std::int64_t groups,
                                                               std::int64_t groupCols, float* mn,
                                                               float* mx, bool& finite) {
    const std::int64_t vecs = groupCols / 16;
    const __m512 inf = _mm512_set1_ps(std::numeric_limits<float>::infinity());
    __mmask16 special = 0;
    std::int64_t g0 = 0;
    for (; g0 + 16 <= groups; g0 += 16) {
        __m512 lo[16], hi[16];
        for (int g = 0; g < 16; ++g) {
            const float* p = x + (g0 + g) * groupCols;
            __m512 a = _mm512_loadu_ps(p), b = a;
            special |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
            for (std::int64_t k = 1; k < vecs; ++k) {
                const __m512 v = _mm512_loadu_ps(p + 16 * k);
                special |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
                a = _mm512_min_ps(a, v);
                b = _mm512_max_ps(b, v);
            }
            lo[g] = a;
            hi[g] = b;
        }
        const __m512 l = reduceLanes16<true>(lo), h = reduceLanes16<false>(hi);
        special |= _mm512_cmp_ps_mask(l, _mm512_sub_ps(_mm512_setzero_ps(), inf), _CMP_EQ_OQ) |
                   _mm512_cmp_ps_mask(h, inf, _CMP_EQ_OQ);
        _mm512_storeu_ps(mn + g0, l);
        _mm512_storeu_ps(mx + g0, h);
    }
    finite = special == 0;
    return g0;
}

bool avx512Enabled() {
    return useAvx512.load(std::memory_order_relaxed);
}

bool fmaKernelsEnabled() {
    return useAvx2Fma.load(std::memory_order_relaxed);
}

void setSimdKernel(SimdKernel kernel) {
    useAvx512 = kernel == SimdKernel::Auto && cpuHasAvx512();
    useAvx2Fma = kernel == SimdKernel::Auto && cpuHasAvx2Fma();
}

// NfFamily's reconstruction: the level's index is the number of midpoints below t, found by a
// four-step binary search over the 15 midpoints (padded with +inf) held in one register, and the
// level is one permute of the 16 levels: 13 operations per 16 values where the selects take 30.
// The same numbers: t = clamp(x * (1/a), -1, 1) and level * a, as nfLevelsTimesA.
__attribute__((target("avx512f"))) void nfReconstruct512(const NfFamily& f,
                                                         const NfFamily::Group* g, const float* x,
                                                         std::int64_t n, std::int64_t groupCols,
                                                         float* out) {
    alignas(64) float mid16[16];
    std::copy(f.mid15.begin(), f.mid15.end(), mid16);
    mid16[15] = std::numeric_limits<float>::infinity();
    const __m512 mid = _mm512_load_ps(mid16), lev = _mm512_loadu_ps(f.lev16.data());
    const __m512 lo = _mm512_set1_ps(-1.0f), hi = _mm512_set1_ps(1.0f);
    for (std::int64_t c0 = 0; c0 < n; c0 += groupCols, ++g) {
        const std::int64_t len = std::min(groupCols, n - c0);
        if (!(g->a > 0.0f)) {
            std::fill(out + c0, out + c0 + len, f.levels[f.zeroCode] * g->a);
            continue;
        }
        const __m512 a = _mm512_set1_ps(g->a), inv = _mm512_set1_ps(1.0f / g->a);
        for (std::int64_t k = 0; k < len; k += 16) {
            const __mmask16 m =
                len - k >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (len - k)) - 1u);
            const __m512 xv = _mm512_maskz_loadu_ps(m, x + c0 + k);
            const __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(xv, inv), lo), hi);
            __m512i idx = _mm512_setzero_si512();
            for (int half : {8, 4, 2, 1}) { // mid[idx + half - 1] < t: the count passes it
                const __m512i probe = _mm512_add_epi32(idx, _mm512_set1_epi32(half - 1));
                const __mmask16 below =
                    _mm512_cmp_ps_mask(_mm512_permutexvar_ps(probe, mid), t, _CMP_LT_OQ);
                idx = _mm512_mask_add_epi32(idx, below, idx, _mm512_set1_epi32(half));
            }
            _mm512_mask_storeu_ps(out + c0 + k, m,
                                  _mm512_mul_ps(_mm512_permutexvar_ps(idx, lev), a));
        }
    }
}

// CompandFamily's reconstruction for up to 15 thresholds: each code by compandCode8 and the level
// by one permute, 24 operations per 16 values where the selects take 60. The same numbers as
// compandCounted: t = clamp(x / a, -1, 1) in double, level * a.
__attribute__((target("avx512f"))) void compandReconstruct512(const CompandFamily& f,
                                                              const CompandFamily::Group* g,
                                                              const float* x, std::int64_t n,
                                                              std::int64_t groupCols, float* out) {
    alignas(64) double thr16[16];
    std::copy(f.thresholds.begin(), f.thresholds.begin() + 15, thr16);
    thr16[15] = std::numeric_limits<double>::infinity();
    const __m512d thrLo = _mm512_load_pd(thr16), thrHi = _mm512_load_pd(thr16 + 8);
    const __m512 lev = _mm512_loadu_ps(f.lev16.data());
    for (std::int64_t c0 = 0; c0 < n; c0 += groupCols, ++g) {
        const std::int64_t len = std::min(groupCols, n - c0);
        if (!(g->a > 0.0f)) {
            std::fill(out + c0, out + c0 + len, 0.0f);
            continue;
        }
        const __m512d ad = _mm512_set1_pd(static_cast<double>(g->a));
        const __m512 a = _mm512_set1_ps(g->a);
        for (std::int64_t k = 0; k < len; k += 16) {
            const __mmask16 m =
                len - k >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (len - k)) - 1u);
            const __m512 xv = _mm512_maskz_loadu_ps(m, x + c0 + k);
            const __m256 upper = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xv), 1));
            const __m256i low =
                compandCode8(compandT(_mm512_castps512_ps256(xv), ad), thrLo, thrHi);
            const __m256i high = compandCode8(compandT(upper, ad), thrLo, thrHi);
            const __m512i codes = _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
            _mm512_mask_storeu_ps(out + c0 + k, m,
                                  _mm512_mul_ps(_mm512_permutexvar_ps(codes, lev), a));
        }
    }
}

#ifdef QS_FUSED_AVX512_PRAGMA
#pragma GCC diagnostic pop
#endif

#else // no AVX-512 kernels on this compiler or architecture

bool avx512Enabled() {
    return false;
}
bool fmaKernelsEnabled() {
    return false;
}
void setSimdKernel(SimdKernel) {}
void nfReconstruct512(const NfFamily&, const NfFamily::Group*, const float*, std::int64_t,
                      std::int64_t, float*) {}
void compandReconstruct512(const CompandFamily&, const CompandFamily::Group*, const float*,
                           std::int64_t, std::int64_t, float*) {}
std::int64_t groupMinMax512(const float*, std::int64_t, std::int64_t, float*, float*,
                            bool& finite) {
    finite = true;
    return 0;
}

#endif

} // namespace qs::fused
