#include "analysis/fused_families.h"

#include "analysis/fused_avx512.h"
#include "quant/companding_quant.h"
#include "quant/group_quant.h"
#include "quant/int_quant.h"
#include "quant/nf_quant.h"
#include "quant/normal_float.h"
#include "util/simd_clones.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs::fused {
namespace {

// out = scale * rne(clamp(x / scale, lo, hi)), lo = qmin - zero and hi = qmax - zero: the same
// number as scale * (clamp(rne(x / scale) + zero, qmin, qmax) - zero), since clamping to integer
// bounds commutes with rounding. Adding and subtracting 1.5 * 2^23 rounds half to even for
// |t| < 2^22, which the clamp guarantees, and vectorises without SSE4.1.
QS_CLONE_INLINE void intReconstruct(const float* x, std::int64_t n, float scale, float lo, float hi,
                                    float* out) {
    constexpr float kMagic = 12582912.0f;
#pragma omp simd
    for (std::int64_t k = 0; k < n; ++k) {
        float t = x[k] / scale;
        t = t < lo ? lo : t;
        t = t > hi ? hi : t;
        out[k] = scale * ((t + kMagic) - kMagic);
    }
}

QS_CLONE_INLINE IntGroup intGroup(intq::GroupParams p, intq::Range range, float mn, float mx) {
    IntGroup g{};
    g.p = p;
    g.lo = static_cast<float>(range.qmin - g.p.zero);
    g.hi = static_cast<float>(range.qmax - g.p.zero);
    const float tLo = intq::roundHalfEven(mn / g.p.scale),
                tHi = intq::roundHalfEven(mx / g.p.scale);
    const bool clamps = tLo < g.lo || tHi > g.hi;
    g.bound = g.p.scale * (clamps ? 2.0f : 0.5f + 1.0f / 4096.0f);
    return g;
}

// intGroup of each group's min and max, vectorised through structure-of-arrays scratch.
QS_SIMD_CLONES
void intGroups(const Scheme& s, intq::Range range, const float* mn, const float* mx,
               std::int64_t count, IntGroup* out) {
    constexpr std::int64_t kChunk = 64;
    float scale[kChunk], lo[kChunk], hi[kChunk], bound[kChunk];
    std::int32_t zero[kChunk];
    // The scheme's branch outside the loops: each loop is straight-line code.
    auto chunk = [&](const float* a, const float* b, std::int64_t n, auto params) {
#pragma omp simd
        for (std::int64_t k = 0; k < n; ++k) {
            const IntGroup g = intGroup(params(a[k], b[k]), range, a[k], b[k]);
            scale[k] = g.p.scale;
            zero[k] = g.p.zero;
            lo[k] = g.lo;
            hi[k] = g.hi;
            bound[k] = g.bound;
        }
    };
    const float symDenom = intq::symmetricDenominator(s), affDenom = intq::affineDenominator(s);
    for (std::int64_t g0 = 0; g0 < count; g0 += kChunk) {
        const std::int64_t n = std::min(kChunk, count - g0);
        if (s.symmetric)
            chunk(mn + g0, mx + g0, n,
                  [=](float a, float b) { return intq::symmetricParams(symDenom, a, b); });
        else
            chunk(mn + g0, mx + g0, n,
                  [=](float a, float b) { return intq::affineParams(affDenom, a, b); });
        for (std::int64_t k = 0; k < n; ++k)
            out[g0 + k] = IntGroup{{scale[k], zero[k]}, lo[k], hi[k], bound[k]};
    }
}

QS_SIMD_CLONES
void intReconstructGroups(const IntGroup* g, const float* x, std::int64_t n, std::int64_t groupCols,
                          float* out) {
    for (std::int64_t c0 = 0; c0 < n; c0 += groupCols, ++g)
        intReconstruct(x + c0, std::min(groupCols, n - c0), g->p.scale, g->lo, g->hi, out + c0);
}

// level * a for x/a clamped to [-1, 1], the level the one past the midpoints below it (as
// nearestLevelIndices: ties and NaN to the lower level), picked by selects over Count midpoints
// padded with +inf, so the loop over values vectorises.
template <int Count>
QS_CLONE_INLINE void nfLevelsTimesA(const float* mid, const float* lev, float a, const float* x,
                                    std::int64_t n, float* out) {
    const float inv = 1.0f / a;
#pragma omp simd
    for (std::int64_t k = 0; k < n; ++k) {
        float t = x[k] * inv;
        t = t < -1.0f ? -1.0f : t;
        t = t > 1.0f ? 1.0f : t;
        float level = lev[0];
#pragma GCC unroll 16
        for (int i = 0; i < Count; ++i)
            level = t > mid[i] ? lev[i + 1] : level;
        out[k] = level * a;
    }
}

// NF codebooks of up to 16 levels; an all-zero block (a = 0) is the zero level times a.
QS_SIMD_CLONES
void nfReconstructGroups(const NfFamily& f, const NfFamily::Group* g, const float* x,
                         std::int64_t n, std::int64_t groupCols, float* out) {
    float mid[15], lev[16]; // copies: no store to `out` can change them
    std::copy(f.mid15.begin(), f.mid15.end(), mid);
    std::copy(f.lev16.begin(), f.lev16.end(), lev);
    const std::size_t count = f.midpoints.size();
    for (std::int64_t c0 = 0; c0 < n; c0 += groupCols, ++g) {
        const std::int64_t len = std::min(groupCols, n - c0);
        if (!(g->a > 0.0f))
            std::fill(out + c0, out + c0 + len, f.levels[f.zeroCode] * g->a);
        else if (count <= 3)
            nfLevelsTimesA<3>(mid, lev, g->a, x + c0, len, out + c0);
        else if (count <= 7)
            nfLevelsTimesA<7>(mid, lev, g->a, x + c0, len, out + c0);
        else
            nfLevelsTimesA<15>(mid, lev, g->a, x + c0, len, out + c0);
    }
}

// Wider codebooks: the level indices (nearestLevelIndices), then the levels.
void nfReconstructWide(const NfFamily& f, const NfFamily::Group& g, const float* x, std::int64_t n,
                       float* out) {
    if (!(g.a > 0.0f)) {
        std::fill(out, out + n, f.levels[f.zeroCode] * g.a);
        return;
    }
    const float inv = 1.0f / g.a;
    constexpr std::int64_t kStretch = 256;
    float t[kStretch];
    std::uint8_t q[kStretch];
    for (std::int64_t k0 = 0; k0 < n; k0 += kStretch) {
        const std::int64_t m = std::min(kStretch, n - k0);
        for (std::int64_t j = 0; j < m; ++j)
            t[j] = std::clamp(x[k0 + j] * inv, -1.0f, 1.0f);
        nearestLevelIndices(f.midpoints, t, m, q);
        for (std::int64_t j = 0; j < m; ++j)
            out[k0 + j] = f.levels[q[j]] * g.a;
    }
}

// levels[code] * a for t = clamp(x / a, -1, 1) in double, the code the number of thresholds <= t:
// for up to Count (15) thresholds padded with +inf, by selects, so the loop over values
// vectorises; for more (padded to 255), by a branch-free binary search.
template <int Count>
QS_CLONE_INLINE void compandCounted(const double* thr, const float* lev, float a, const float* x,
                                    std::int64_t n, float* out) {
#pragma omp simd
    for (std::int64_t k = 0; k < n; ++k) {
        double t = static_cast<double>(x[k]) / static_cast<double>(a);
        t = t < -1.0 ? -1.0 : t;
        t = t > 1.0 ? 1.0 : t;
        float level = lev[0];
#pragma GCC unroll 16
        for (int i = 0; i < Count; ++i)
            level = t >= thr[i] ? lev[i + 1] : level;
        out[k] = level * a;
    }
}

// More thresholds: the code is the number below t's bucket plus those in the bucket up to t
// (bucketOf is monotone, so a threshold in a lower bucket is below t and one in a higher above).
QS_CLONE_INLINE void compandBucketed(const CompandFamily& f, float a, const float* x,
                                     std::int64_t n, float* out) {
    const double* thr = f.thresholds.data();
    for (std::int64_t k = 0; k < n; ++k) {
        double t = static_cast<double>(x[k]) / static_cast<double>(a);
        t = t < -1.0 ? -1.0 : t;
        t = t > 1.0 ? 1.0 : t;
        int code = f.below[static_cast<std::size_t>(CompandFamily::bucketOf(t))];
        for (int j = 0; j < f.perBucket; ++j)
            code += t >= thr[code] ? 1 : 0;
        out[k] = f.levels[static_cast<std::size_t>(code)] * a;
    }
}

QS_SIMD_CLONES
void compandReconstructGroups(const CompandFamily& f, const CompandFamily::Group* g, const float* x,
                              std::int64_t n, std::int64_t groupCols, float* out) {
    const bool counted = f.thresholds.size() == 15;
    double thr[15];
    float lev[16]; // copies: no store to `out` can change them
    if (counted) {
        std::copy(f.thresholds.begin(), f.thresholds.end(), thr);
        std::copy(f.lev16.begin(), f.lev16.end(), lev);
    }
    for (std::int64_t c0 = 0; c0 < n; c0 += groupCols, ++g) {
        const std::int64_t len = std::min(groupCols, n - c0);
        if (!(g->a > 0.0f))
            std::fill(out + c0, out + c0 + len, 0.0f);
        else if (counted)
            compandCounted<15>(thr, lev, g->a, x + c0, len, out + c0);
        else
            compandBucketed(f, g->a, x + c0, len, out + c0);
    }
}

} // namespace

IntFamily::IntFamily(const Scheme& scheme) : s(scheme), range(intq::codeRange(scheme)) {}

IntGroup IntFamily::group(float mn, float mx) const {
    return intGroup(intq::paramsFor(s, mn, mx), range, mn, mx);
}

void IntFamily::groups(const float* mn, const float* mx, std::int64_t count, Group* out) const {
    intGroups(s, range, mn, mx, count, out);
}

void IntFamily::reconstruct(const Group* g, const float* x, std::int64_t n, std::int64_t groupCols,
                            float* out) const {
    intReconstructGroups(g, x, n, groupCols, out);
}

StorageCost IntFamily::cost(std::int64_t rows, std::int64_t cols) const {
    return intStorageCost(s, rows, cols);
}

void IntFamily::describe(const Group& widest, std::size_t index, std::size_t groupCount,
                         std::int64_t rows, std::int64_t cols, QuantOutput& out) const {
    setWidestIntLevels(s, widest.p.scale, widest.p.zero, index, groupCount,
                       groupLayout(s, rows, cols).groupsPerRow, out);
}

NfFamily::NfFamily(const Scheme& scheme)
    : s(scheme), levels(normalFloatCodebook(scheme.bits)), midpoints(levelMidpoints(levels)) {
    zeroCode =
        static_cast<std::uint8_t>(std::find(levels.begin(), levels.end(), 0.0f) - levels.begin());
    for (std::size_t i = 0; i + 1 < levels.size(); ++i)
        halfGap = std::max(halfGap, 0.5f * (levels[i + 1] - levels[i]));
    mid15.fill(std::numeric_limits<float>::infinity());
    lev16.fill(levels.back());
    std::copy_n(midpoints.begin(), std::min(midpoints.size(), mid15.size()), mid15.begin());
    std::copy_n(levels.begin(), std::min(levels.size(), lev16.size()), lev16.begin());
}

// |x - w^| <= a * halfGap for |x| <= a, plus the float rounding of x/a and of level * a, which
// may also pick the other level beside a midpoint: far below a * 2^-20.
NfFamily::Group NfFamily::group(float mn, float mx) const {
    Group g{};
    g.a = std::max(std::fabs(mn), std::fabs(mx));
    g.bound = g.a * (halfGap + 1.0f / 1048576.0f);
    return g;
}

void NfFamily::groups(const float* mn, const float* mx, std::int64_t count, Group* out) const {
    for (std::int64_t k = 0; k < count; ++k)
        out[k] = group(mn[k], mx[k]);
}

void NfFamily::reconstruct(const Group* g, const float* x, std::int64_t n, std::int64_t groupCols,
                           float* out) const {
    if (midpoints.size() <= mid15.size()) {
        if (avx512Enabled())
            return nfReconstruct512(*this, g, x, n, groupCols, out);
        return nfReconstructGroups(*this, g, x, n, groupCols, out);
    }
    for (std::int64_t c0 = 0; c0 < n; c0 += groupCols, ++g)
        nfReconstructWide(*this, *g, x + c0, std::min(groupCols, n - c0), out + c0);
}

StorageCost NfFamily::cost(std::int64_t rows, std::int64_t cols) const {
    QuantOutput o;
    describeNf(s, rows * cols, blockSize(rows, cols), blocks(rows, cols), 0, 0.0f, o);
    return o.cost;
}

std::int64_t NfFamily::blockSize(std::int64_t rows, std::int64_t cols) const {
    return nfBlockSize(s, MatrixView{nullptr, rows, cols});
}

std::uint64_t NfFamily::blocks(std::int64_t rows, std::int64_t cols) const {
    const std::int64_t b = std::max<std::int64_t>(1, blockSize(rows, cols));
    return static_cast<std::uint64_t>((rows * cols + b - 1) / b);
}

void NfFamily::describe(const Group& widest, std::size_t index, std::size_t, std::int64_t rows,
                        std::int64_t cols, QuantOutput& out) const {
    describeNf(s, rows * cols, blockSize(rows, cols), blocks(rows, cols), index, widest.a, out);
}

CompandFamily::CompandFamily(const Scheme& scheme) : s(scheme) {
    CompandingTable table = *compandingTable(scheme); // compandCovered: mulaw / alaw only
    levels = std::move(table.levels);
    thresholds = std::move(table.thresholds);
    const std::size_t count = thresholds.size();
    thresholds.resize(count <= 15 ? 15 : 256, std::numeric_limits<double>::infinity());
    if (count > 15) {
        std::vector<int> in(kBuckets, 0); // thresholds per bucket
        for (std::size_t i = 0; i < count; ++i)
            if (thresholds[i] <= 1.0)
                ++in[static_cast<std::size_t>(bucketOf(thresholds[i]))];
        below.assign(kBuckets, 0);
        int sum = 0;
        for (int b = 0; b < kBuckets; ++b) {
            below[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(sum);
            sum += in[static_cast<std::size_t>(b)];
            perBucket = std::max(perBucket, in[static_cast<std::size_t>(b)]);
        }
    }
    lev16.fill(levels.back());
    std::copy_n(levels.begin(), std::min(levels.size(), lev16.size()), lev16.begin());
    for (std::size_t i = 0; i + 1 < levels.size(); ++i)
        maxGap = std::max(maxGap, levels[i + 1] - levels[i]);
}

// A value's level is never further from it (in units of a) than the widest gap: each level lies
// in its own interval of t; plus float rounding, far below a * 2^-20.
CompandFamily::Group CompandFamily::group(float mn, float mx) const {
    Group g{};
    g.a = std::max(std::fabs(mn), std::fabs(mx));
    g.bound = g.a * (maxGap + 1.0f / 1048576.0f);
    return g;
}

void CompandFamily::groups(const float* mn, const float* mx, std::int64_t count, Group* out) const {
    for (std::int64_t k = 0; k < count; ++k)
        out[k] = group(mn[k], mx[k]);
}

void CompandFamily::reconstruct(const Group* g, const float* x, std::int64_t n,
                                std::int64_t groupCols, float* out) const {
    if (thresholds.size() == 15 && avx512Enabled())
        return compandReconstruct512(*this, g, x, n, groupCols, out);
    compandReconstructGroups(*this, g, x, n, groupCols, out);
}

StorageCost CompandFamily::cost(std::int64_t rows, std::int64_t cols) const {
    return compandingStorageCost(s, rows, cols);
}

void CompandFamily::describe(const Group& widest, std::size_t index, std::size_t, std::int64_t rows,
                             std::int64_t cols, QuantOutput& out) const {
    setCompandingLevels(s, rows, cols, index, widest.a, out);
}

} // namespace qs::fused
