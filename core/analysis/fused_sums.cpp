#include "analysis/fused_sums.h"

#include "analysis/fused_avx512.h"
#include "util/simd_clones.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QS_FUSED_FMA_KERNEL 1
#endif

namespace qs::fused {

void Sums::add(const Sums& o) {
    se += o.se;
    sr += o.sr;
    sq += o.sq;
    dot += o.dot;
    maxAbs = std::max(maxAbs, o.maxAbs);
}

QS_SIMD_CLONES
void minMax(const float* x, std::int64_t n, float& mn, float& mx, bool& finite) {
    finite = minMaxLoop(x, n, mn, mx);
}

namespace {

QS_SIMD_CLONES
bool groupMinMaxLoops(const float* x, std::int64_t n, std::int64_t groupCols, float* mn,
                      float* mx) {
    bool finite = true;
    for (std::int64_t g = 0; g * groupCols < n; ++g)
        finite &=
            minMaxLoop(x + g * groupCols, std::min(groupCols, n - g * groupCols), mn[g], mx[g]);
    return finite;
}

} // namespace

bool groupMinMax(const float* x, std::int64_t n, std::int64_t groupCols, float* mn, float* mx) {
    std::int64_t done = 0; // groups
    bool finite = true;
    if (groupCols % 16 == 0 && groupCols <= 256 && avx512Enabled())
        done = groupMinMax512(x, n / groupCols, groupCols, mn, mx, finite);
    const std::int64_t start = done * groupCols;
    return finite &&
           (start >= n || groupMinMaxLoops(x + start, n - start, groupCols, mn + done, mx + done));
}

// The sums of computeErrorMetrics over one stretch, in double, each term fused into its sum.
QS_SIMD_CLONES_FMA
void accumulatePortable(const float* x, const float* r, std::int64_t n, Sums& s) {
    double se = 0, sr = 0, sq = 0, dot = 0, mx = 0;
#pragma omp simd reduction(+ : se, sr, sq, dot) reduction(max : mx)
    for (std::int64_t k = 0; k < n; ++k) {
        const double a = x[k], b = r[k], e = a - b;
        se = std::fma(e, e, se);
        sr = std::fma(a, a, sr);
        sq = std::fma(b, b, sq);
        dot = std::fma(a, b, dot);
        const double ae = e < 0 ? -e : e;
        mx = ae > mx ? ae : mx;
    }
    s.se += se;
    s.sr += sr;
    s.sq += sq;
    s.dot += dot;
    s.maxAbs = std::max(s.maxAbs, mx);
}

// max |x - w^| over one group.
QS_SIMD_CLONES
double groupMaxError(const float* x, const float* r, std::int64_t n) {
    double mx = 0;
#pragma omp simd reduction(max : mx)
    for (std::int64_t k = 0; k < n; ++k) {
        const double e = double(x[k]) - double(r[k]);
        const double ae = e < 0 ? -e : e;
        mx = ae > mx ? ae : mx;
    }
    return mx;
}

// accumulate()'s sums and each error's bin in one loop, for when the histogram's range, the
// exact max |error|, is known up front (so no max here).
QS_SIMD_CLONES_FMA
void accumulateAndBin(const float* x, const float* r, std::int64_t n, Sums& s, double m,
                      double perUnit, std::int32_t last, std::int32_t* idx) {
    double se = 0, sr = 0, sq = 0, dot = 0;
#pragma omp simd reduction(+ : se, sr, sq, dot)
    for (std::int64_t k = 0; k < n; ++k) {
        const double a = x[k], b = r[k], e = a - b;
        se = std::fma(e, e, se);
        sr = std::fma(a, a, sr);
        sq = std::fma(b, b, sq);
        dot = std::fma(a, b, dot);
        const auto i = static_cast<std::int32_t>((e + m) * perUnit);
        idx[k] = i < 0 ? 0 : i < last ? i : last; // 0: never, with m the exact max; no stray store
    }
    s.se += se;
    s.sr += sr;
    s.sq += sq;
    s.dot += dot;
}

#ifdef QS_FUSED_FMA_KERNEL
namespace {

__attribute__((target("avx2,fma"))) double sum4(__m256d a, __m256d b) {
    alignas(32) double t[4];
    _mm256_store_pd(t, _mm256_add_pd(a, b));
    return (t[0] + t[1]) + (t[2] + t[3]);
}

// The four sums of 8 values a step, two accumulators a sum (the kernels below).
struct FmaSums {
    __m256d se0, se1, sr0, sr1, sq0, sq1, dt0, dt1;

    __attribute__((target("avx2,fma"))) FmaSums()
        : se0(_mm256_setzero_pd()), se1(se0), sr0(se0), sr1(se0), sq0(se0), sq1(se0), dt0(se0),
          dt1(se0) {}
    // x[0, 8) and r[0, 8) added; e0, e1: their errors, in double.
    __attribute__((target("avx2,fma"))) void add(const float* x, const float* r, __m256d& e0,
                                                 __m256d& e1) {
        const __m256d a0 = _mm256_cvtps_pd(_mm_loadu_ps(x));
        const __m256d a1 = _mm256_cvtps_pd(_mm_loadu_ps(x + 4));
        const __m256d b0 = _mm256_cvtps_pd(_mm_loadu_ps(r));
        const __m256d b1 = _mm256_cvtps_pd(_mm_loadu_ps(r + 4));
        e0 = _mm256_sub_pd(a0, b0);
        e1 = _mm256_sub_pd(a1, b1);
        se0 = _mm256_fmadd_pd(e0, e0, se0);
        se1 = _mm256_fmadd_pd(e1, e1, se1);
        sr0 = _mm256_fmadd_pd(a0, a0, sr0);
        sr1 = _mm256_fmadd_pd(a1, a1, sr1);
        sq0 = _mm256_fmadd_pd(b0, b0, sq0);
        sq1 = _mm256_fmadd_pd(b1, b1, sq1);
        dt0 = _mm256_fmadd_pd(a0, b0, dt0);
        dt1 = _mm256_fmadd_pd(a1, b1, dt1);
    }
    __attribute__((target("avx2,fma"))) void into(Sums& s) const {
        s.se += sum4(se0, se1);
        s.sr += sum4(sr0, sr1);
        s.sq += sum4(sq0, sq1);
        s.dot += sum4(dt0, dt1);
    }
};

// Four bins counted, one into each table.
__attribute__((target("avx2,fma"))) inline void
count4(__m128i bins4, std::uint32_t* a, std::uint32_t* b, std::uint32_t* c, std::uint32_t* d) {
    const auto lo = static_cast<std::uint64_t>(_mm_cvtsi128_si64(bins4));
    const auto hi = static_cast<std::uint64_t>(_mm_extract_epi64(bins4, 1));
    ++a[static_cast<std::uint32_t>(lo)];
    ++b[lo >> 32];
    ++c[static_cast<std::uint32_t>(hi)];
    ++d[hi >> 32];
}

// The same numbers per value as accumulateAndBin (each term an FMA in double, the bin
// truncated from (e + m) * perUnit in double), 8 values a step in 256-bit vectors with two
// accumulators per sum: GCC's vectorisation of that loop keeps one accumulator per sum, and its
// AVX-512 copy spends the time converting (1.45 cycles a value against 1.1 here, on an AMD EPYC
// with AVX-512). Each step's bins go from the vector to two 64-bit registers and are counted at
// once, into tables 0-3 in turn: the table increments (a load and a store each) run beside the
// next steps' arithmetic. Binning into memory and counting in a second loop took a third longer
// (0.62 against 0.47 ns a value on an L1-resident stretch, the same EPYC); an AVX-512 copy of
// this loop, or bins packed into bytes, took longer still. Returns how many values it took (a
// multiple of 8).
__attribute__((target("avx2,fma"))) std::int64_t
accumulateAndCountFma(const float* x, const float* r, std::int64_t n, Sums& s, double m,
                      double perUnit, std::int32_t last, std::size_t bins, std::uint32_t* tables,
                      const float* next) {
    FmaSums sums;
    const __m256d vm = _mm256_set1_pd(m), vp = _mm256_set1_pd(perUnit);
    const __m128i vlast = _mm_set1_epi32(last), zero = _mm_setzero_si128();
    std::uint32_t* const t0 = tables;
    std::uint32_t* const t1 = tables + bins;
    std::uint32_t* const t2 = tables + 2 * bins;
    std::uint32_t* const t3 = tables + 3 * bins;
    std::int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256d e0, e1;
        sums.add(x + k, r + k, e0, e1);
        if ((k & 15) == 0) // one cache line of the next stretch, into L2 (countBins)
            __builtin_prefetch(next + k, 0, 2);
        const __m128i i0 = _mm256_cvttpd_epi32(_mm256_mul_pd(_mm256_add_pd(e0, vm), vp));
        const __m128i i1 = _mm256_cvttpd_epi32(_mm256_mul_pd(_mm256_add_pd(e1, vm), vp));
        count4(_mm_max_epi32(_mm_min_epi32(i0, vlast), zero), t0, t1, t2, t3);
        count4(_mm_max_epi32(_mm_min_epi32(i1, vlast), zero), t0, t1, t2, t3);
    }
    sums.into(s);
    return k;
}

// accumulate()'s sums and max |error| the same way (the max by _mm256_max_pd, which, like the
// loop above, passes over a NaN).
__attribute__((target("avx2,fma"))) void accumulateFma(const float* x, const float* r,
                                                       std::int64_t n, Sums& s) {
    FmaSums sums;
    __m256d mx0 = _mm256_setzero_pd(), mx1 = mx0;
    const __m256d abs = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFLL));
    std::int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256d e0, e1;
        sums.add(x + k, r + k, e0, e1);
        mx0 = _mm256_max_pd(_mm256_and_pd(e0, abs), mx0);
        mx1 = _mm256_max_pd(_mm256_and_pd(e1, abs), mx1);
    }
    sums.into(s);
    alignas(32) double t[4];
    _mm256_store_pd(t, _mm256_max_pd(mx0, mx1));
    s.maxAbs = std::max({s.maxAbs, t[0], t[1], t[2], t[3]});
    if (k < n)
        accumulatePortable(x + k, r + k, n - k, s);
}

} // namespace
#endif

void accumulate(const float* x, const float* r, std::int64_t n, Sums& s) {
#ifdef QS_FUSED_FMA_KERNEL
    if (fmaKernelsEnabled())
        return accumulateFma(x, r, n, s);
#endif
    accumulatePortable(x, r, n, s);
}

void accumulateAndCount(const float* x, const float* r, std::int64_t n, Sums& s, double m,
                        double perUnit, std::size_t bins, std::uint32_t* tables,
                        std::int32_t* scratch, const float* next) {
    const auto last = static_cast<std::int32_t>(bins - 1);
    std::int64_t done = 0;
#ifdef QS_FUSED_FMA_KERNEL
    if (fmaKernelsEnabled())
        done = accumulateAndCountFma(x, r, n, s, m, perUnit, last, bins, tables, next);
#endif
    if (done == n)
        return;
    accumulateAndBin(x + done, r + done, n - done, s, m, perUnit, last, scratch);
    countBins(scratch, n - done, bins, tables, next + done);
}

void countBins(const std::int32_t* idx, std::int64_t n, std::size_t bins, std::uint32_t* tables,
               const float* next) {
    std::int64_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __builtin_prefetch(next + k, 0, 2); // one cache line of the next stretch, into L2
        for (std::int64_t j = k; j < k + 16; j += 4) {
            ++tables[idx[j]];
            ++tables[bins + idx[j + 1]];
            ++tables[2 * bins + idx[j + 2]];
            ++tables[3 * bins + idx[j + 3]];
        }
    }
    for (; k < n; ++k)
        ++tables[idx[k]];
}

Binner::Binner(std::size_t bins, double m, std::int64_t stretch)
    : bins_(bins), m_(m), perUnit_(static_cast<double>(bins) / (m - -m)) {
    if (bins_ == 0)
        return;
    idx_.resize(static_cast<std::size_t>(stretch));
    tables_.assign(4 * bins_, 0);
    counts_.assign(bins_, 0);
}

void Binner::add(const float* x, const float* rec, std::int64_t n, Sums& s) {
    if (bins_ == 0) {
        accumulate(x, rec, n, s);
        return;
    }
    if (pending_ + static_cast<std::uint64_t>(n) > (std::uint64_t{1} << 31))
        flushTables();
    pending_ += static_cast<std::uint64_t>(n);
    if (static_cast<std::size_t>(n) > idx_.size())
        idx_.resize(static_cast<std::size_t>(n));
    // The stretches of a block are read in order, one after another in memory: x + n is next.
    accumulateAndCount(x, rec, n, s, m_, perUnit_, bins_, tables_.data(), idx_.data(), x + n);
}

void Binner::flushTables() {
    for (std::size_t i = 0; i < bins_; ++i)
        counts_[i] += std::uint64_t{tables_[i]} + tables_[bins_ + i] + tables_[2 * bins_ + i] +
                      tables_[3 * bins_ + i];
    std::fill(tables_.begin(), tables_.end(), 0u);
    pending_ = 0;
}

void Binner::countsInto(std::uint64_t* counts) {
    if (bins_ == 0)
        return;
    flushTables();
    for (std::size_t i = 0; i < bins_; ++i)
        counts[i] += counts_[i];
}

Histogram errorHistogramOf(const std::vector<std::uint64_t>& counts, std::size_t blocks,
                           std::size_t bins, double m) {
    Histogram h;
    h.lo = -m;
    h.hi = m;
    h.counts.assign(bins, 0);
    for (std::size_t b = 0; b < blocks; ++b)
        for (std::size_t i = 0; i < bins; ++i)
            h.counts[i] += counts[b * bins + i];
    return h;
}

} // namespace qs::fused
