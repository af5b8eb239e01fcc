#include "analysis/fused_analysis.h"

#include "analysis/fused_plan.h"
#include "analysis/fused_sums.h"
#include "analysis/row_blocks.h"

#include "quant/group_quant.h"
#include "quant/int_params.h"
#include "quant/int_quant.h"
#include "quant/nf_quant.h"
#include "quant/normal_float.h"
#include "util/simd_clones.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>

namespace qs {
namespace {

// out = scale * rne(clamp(x / scale, lo, hi)), lo = qmin - zero and hi = qmax - zero: the same
// number as scale * (clamp(rne(x / scale) + zero, qmin, qmax) - zero), since clamping to integer
// bounds commutes with rounding. Adding and subtracting 1.5 * 2^23 rounds half to even for
// |t| < 2^22, which the clamp guarantees, and vectorises without SSE4.1.
inline void intReconstruct(const float* x, std::int64_t n, float scale, float lo, float hi,
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

using fused::Binner;
using fused::blockCount;
using fused::errorHistogramOf;
using fused::forEachBlock;
using fused::groupMaxError;
using fused::groupMinMax;
using fused::rowsPerBlock;
using fused::stretchCols;
using fused::Sums;

// One int group's parameters and what bounds its error: |w - w^| <= scale * (1/2 + 2^-12) when
// no element clamps (rounding to the nearest code, plus float rounding of x/scale and of the
// product, far below 2^-12 for 8 bits), else <= 2 * scale.
// No member initialisers: fusedGroups allocates one per group without zeroing them first.
struct IntGroup {
    intq::GroupParams p;
    float lo, hi; // qmin - zero, qmax - zero
    float bound;
    float width() const { return p.scale; } // the widest group's levels are shown
};

IntGroup intGroup(intq::GroupParams p, intq::Range range, float mn, float mx) {
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

// intReconstruct of consecutive groups of groupCols values (the last may be shorter), g[i] the
// parameters of the i-th: one call per stretch of a row.
QS_SIMD_CLONES
void intReconstructGroups(const IntGroup* g, const float* x, std::int64_t n, std::int64_t groupCols,
                          float* out) {
    for (std::int64_t c0 = 0; c0 < n; c0 += groupCols, ++g)
        intReconstruct(x + c0, std::min(groupCols, n - c0), g->p.scale, g->lo, g->hi, out + c0);
}

// The int family: affine codes clamped to the code range.
struct IntFamily {
    const Scheme& s;
    intq::Range range;
    using Group = IntGroup;

    explicit IntFamily(const Scheme& scheme) : s(scheme), range(intq::codeRange(scheme)) {}
    Group group(float mn, float mx) const {
        return intGroup(intq::paramsFor(s, mn, mx), range, mn, mx);
    }
    void groups(const float* mn, const float* mx, std::int64_t count, Group* out) const {
        intGroups(s, range, mn, mx, count, out);
    }
    void reconstruct(const Group& g, const float* x, std::int64_t n, float* out) const {
        intReconstructGroups(&g, x, n, n, out);
    }
    void reconstruct(const Group* g, const float* x, std::int64_t n, std::int64_t groupCols,
                     float* out) const {
        intReconstructGroups(g, x, n, groupCols, out);
    }
    StorageCost cost(std::int64_t rows, std::int64_t cols) const {
        return intStorageCost(s, rows, cols);
    }
    // The levels of the widest group (the first with the largest scale), as quantizeInt.
    void describe(const Group& widest, std::size_t index, std::size_t groupCount, std::int64_t rows,
                  std::int64_t cols, QuantOutput& out) const {
        setWidestIntLevels(s, widest.p.scale, widest.p.zero, index, groupCount,
                           groupLayout(s, rows, cols).groupsPerRow, out);
    }
};

// NormalFloat codebooks (bitsandbytes' blockwise NF4 and its other widths), as
// quantizeNormalFloat: per block the absmax a, each code the nearest level of x/a (ties to the
// lower level), reconstructed as level * a. The blocks run over the flattened tensor; the fused
// path takes the layouts where they are whole groups of rows (see fusedNfLayout).
struct NfFamily {
    const Scheme& s;
    std::vector<float> levels, midpoints;
    std::uint8_t zeroCode = 0;
    float halfGap = 0; // the widest half gap between neighbouring levels
    struct Group {     // no member initialisers, as IntGroup
        float a;
        float bound;
        float width() const { return a; }
    };

    explicit NfFamily(const Scheme& scheme)
        : s(scheme), levels(normalFloatCodebook(scheme.bits)), midpoints(levelMidpoints(levels)) {
        zeroCode = static_cast<std::uint8_t>(std::find(levels.begin(), levels.end(), 0.0f) -
                                             levels.begin());
        for (std::size_t i = 0; i + 1 < levels.size(); ++i)
            halfGap = std::max(halfGap, 0.5f * (levels[i + 1] - levels[i]));
    }
    // |x - w^| <= a * halfGap for |x| <= a, plus the float rounding of x/a and of level * a,
    // which may also pick the other level beside a midpoint: far below a * 2^-20.
    Group group(float mn, float mx) const {
        Group g{};
        g.a = std::max(std::fabs(mn), std::fabs(mx));
        g.bound = g.a * (halfGap + 1.0f / 1048576.0f);
        return g;
    }
    void groups(const float* mn, const float* mx, std::int64_t count, Group* out) const {
        for (std::int64_t k = 0; k < count; ++k)
            out[k] = group(mn[k], mx[k]);
    }
    void reconstruct(const Group& g, const float* x, std::int64_t n, float* out) const {
        if (!(g.a > 0.0f)) {
            std::fill(out, out + n, levels[zeroCode] * g.a);
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
            nearestLevelIndices(midpoints, t, m, q);
            for (std::int64_t j = 0; j < m; ++j)
                out[k0 + j] = levels[q[j]] * g.a;
        }
    }
    void reconstruct(const Group* g, const float* x, std::int64_t n, std::int64_t groupCols,
                     float* out) const {
        for (std::int64_t c0 = 0; c0 < n; c0 += groupCols, ++g)
            reconstruct(*g, x + c0, std::min(groupCols, n - c0), out + c0);
    }
    StorageCost cost(std::int64_t rows, std::int64_t cols) const {
        QuantOutput o;
        describeNf(s, rows * cols, blockSize(rows, cols), blocks(rows, cols), 0, 0.0f, o);
        return o.cost;
    }
    std::int64_t blockSize(std::int64_t rows, std::int64_t cols) const {
        return nfBlockSize(s, MatrixView{nullptr, rows, cols});
    }
    std::uint64_t blocks(std::int64_t rows, std::int64_t cols) const {
        const std::int64_t b = std::max<std::int64_t>(1, blockSize(rows, cols));
        return static_cast<std::uint64_t>((rows * cols + b - 1) / b);
    }
    // The levels of the widest block (the first of the widest), as quantizeNormalFloat says it.
    void describe(const Group& widest, std::size_t index, std::size_t, std::int64_t rows,
                  std::int64_t cols, QuantOutput& out) const {
        describeNf(s, rows * cols, blockSize(rows, cols), blocks(rows, cols), index, widest.a, out);
    }
};

// The first group of the largest error bound and of the largest width, over the groups note()d
// in order (or blocks of them, in order).
struct Widest {
    float bound = -1, width = -1;
    std::size_t boundAt = 0, widthAt = 0;
    void note(float b, float wd, std::size_t at) { note(b, at, wd, at); }
    void note(const Widest& o) { note(o.bound, o.boundAt, o.width, o.widthAt); }

private:
    void note(float b, std::size_t bAt, float wd, std::size_t wdAt) {
        if (b > bound) {
            bound = b;
            boundAt = bAt;
        }
        if (wd > width) {
            width = wd;
            widthAt = wdAt;
        }
    }
};

// The `int` family, fused. With a histogram, its range (the exact max |error|) must be known
// before the main pass: a first pass finds every group's parameters and error bound, the
// groups whose bound reaches past the best exact maximum so far are quantized alone (a handful:
// the widest groups), and the main pass then reconstructs, sums and bins in one loop.
template <class Family>
std::optional<Result<FusedResult>> fusedGroups(const Family& fam, const Scheme& s, MatrixView w,
                                               const FusedRequest& req,
                                               const ProgressFn& progress) {
    using Group = typename Family::Group;
    const GroupLayout layout = groupLayout(s, w.rows, w.cols);
    FusedResult out;
    out.output.cost = fam.cost(w.rows, w.cols);
    const std::int64_t groupCols = layout.wholeTensor ? w.cols : layout.groupCols;
    const std::int64_t groupsPerRow = (w.cols + groupCols - 1) / groupCols;
    const std::size_t groupCount =
        layout.wholeTensor ? 1 : static_cast<std::size_t>(w.rows * groupsPerRow);
    // Every group is written in pass 1 (default-initialised: no pass to zero them first).
    const auto groups = std::make_unique_for_overwrite<Group[]>(groupCount);
    auto groupAt = [&](std::int64_t r, std::int64_t g) -> Group& {
        return groups[layout.wholeTensor ? 0 : static_cast<std::size_t>(r * groupsPerRow + g)];
    };
    auto span = [&](std::int64_t r, std::int64_t g) {
        const std::int64_t c0 = g * groupCols;
        return std::pair{w.data + r * w.cols + c0, std::min(w.cols - c0, groupCols)};
    };
    const bool histogram = req.errorHistogramBins > 0;
    const double paramsEnd = 0.1, mainEnd = 1.0;

    // Pass 1: min and max per group (per row for the whole-tensor scale), parameters, bounds,
    // and per block of rows its first group of the largest bound and of the largest width.
    std::vector<std::pair<float, float>> rowRange(layout.wholeTensor ? w.rows : 0);
    std::vector<Widest> widest(static_cast<std::size_t>(blockCount(w)));
    std::atomic<bool> nonFinite{false};
    bool ok = forEachBlock(
        w, 0.0, paramsEnd, progress, [&](std::int64_t b, std::int64_t r0, std::int64_t r1) {
            Widest& bw = widest[static_cast<std::size_t>(b)];
            std::vector<float> mn(static_cast<std::size_t>(groupsPerRow)), mx(mn.size());
            for (std::int64_t r = r0; r < r1; ++r) {
                if (!groupMinMax(w.data + r * w.cols, w.cols, groupCols, mn.data(), mx.data())) {
                    nonFinite = true;
                    return false;
                }
                if (layout.wholeTensor) {
                    rowRange[static_cast<std::size_t>(r)] = {mn[0], mx[0]};
                    continue;
                }
                Group* row = &groupAt(r, 0);
                fam.groups(mn.data(), mx.data(), groupsPerRow, row);
                for (std::int64_t g = 0; g < groupsPerRow; ++g)
                    bw.note(row[g].bound, row[g].width(),
                            static_cast<std::size_t>(r * groupsPerRow + g));
            }
            return true;
        });
    if (nonFinite)
        return std::nullopt;
    if (!ok)
        return Result<FusedResult>(cancelledError());
    if (layout.wholeTensor) {
        float mn = rowRange[0].first, mx = rowRange[0].second;
        for (const auto& [a, b] : rowRange) {
            mn = std::min(mn, a);
            mx = std::max(mx, b);
        }
        groups[0] = fam.group(mn, mx);
        widest.assign(1, Widest{});
        widest[0].note(groups[0].bound, groups[0].width(), 0);
    }
    Widest top;
    for (const Widest& bw : widest)
        top.note(bw);

    // The exact max |error|: only groups whose bound exceeds the widest group's maximum can
    // raise it. (The whole-tensor scale has one group: that is one extra pass.)
    double m = 0;
    if (histogram) {
        std::vector<float> buf(static_cast<std::size_t>(groupCols));
        auto exactMax = [&](std::size_t gi) {
            double mx = 0;
            const std::int64_t rows = layout.wholeTensor ? w.rows : 1;
            for (std::int64_t k = 0; k < rows; ++k) {
                const std::int64_t r =
                    layout.wholeTensor ? k : static_cast<std::int64_t>(gi) / groupsPerRow;
                const std::int64_t g =
                    layout.wholeTensor ? 0 : static_cast<std::int64_t>(gi) % groupsPerRow;
                const auto [x, n] = span(r, g);
                fam.reconstruct(groups[gi], x, n, buf.data());
                mx = std::max(mx, groupMaxError(x, buf.data(), n));
            }
            return mx;
        };
        // Any order gives the same maximum: a group skipped has exact max <= bound <= m.
        m = exactMax(top.boundAt);
        const auto perBlock = static_cast<std::size_t>(rowsPerBlock(w) * groupsPerRow);
        for (std::size_t b = 0; b < widest.size(); ++b) {
            if (!(widest[b].bound > m))
                continue;
            for (std::size_t gi = b * perBlock; gi < std::min(groupCount, (b + 1) * perBlock); ++gi)
                if (gi != top.boundAt && groups[gi].bound > m)
                    m = std::max(m, exactMax(gi));
        }
    }
    const double hm = m > 0 ? m : 1e-12;
    const auto bins = static_cast<std::size_t>(histogram ? req.errorHistogramBins : 0);

    // Pass 2: reconstruction, error sums and histogram bins, a stretch of groups at a time in L1.
    if (req.keepReconstruction)
        out.output.reconstruction.resize(w.size());
    const auto blocks = static_cast<std::size_t>(blockCount(w));
    const std::int64_t stretch = stretchCols(groupCols, w.cols);
    std::vector<Sums> partial(blocks);
    std::vector<std::uint64_t> counts(blocks * bins, 0);
    ok = forEachBlock(
        w, paramsEnd, mainEnd, progress, [&](std::int64_t b, std::int64_t r0, std::int64_t r1) {
            std::vector<float> buf(req.keepReconstruction ? 0 : static_cast<std::size_t>(stretch));
            Binner binner(bins, hm, stretch);
            Sums sums;
            for (std::int64_t r = r0; r < r1; ++r) {
                const float* row = w.data + r * w.cols;
                float* rec = req.keepReconstruction ? out.output.reconstruction.data() + r * w.cols
                                                    : buf.data();
                for (std::int64_t c0 = 0; c0 < w.cols; c0 += stretch) {
                    const std::int64_t n = std::min(stretch, w.cols - c0);
                    float* recStretch = req.keepReconstruction ? rec + c0 : rec;
                    // A stretch starts on a group boundary (it is whole groups but the last).
                    fam.reconstruct(&groupAt(r, c0 / groupCols), row + c0, n, groupCols,
                                    recStretch);
                    binner.add(row + c0, recStretch, n, sums);
                }
            }
            binner.countsInto(counts.data() + static_cast<std::size_t>(b) * bins);
            partial[static_cast<std::size_t>(b)] = sums;
            return true;
        });
    if (!ok)
        return Result<FusedResult>(cancelledError());
    Sums total;
    for (const Sums& p : partial)
        total.add(p);
    out.error.count = w.size();
    out.error.sumSqErr = total.se;
    out.error.sumSqRef = total.sr;
    out.error.sumSqRec = total.sq;
    out.error.dot = total.dot;
    out.error.maxAbsErr = histogram ? m : total.maxAbs;
    if (histogram)
        out.errorHistogram = errorHistogramOf(counts, blocks, bins, hm);
    fam.describe(groups[top.widthAt], top.widthAt, groupCount, w.rows, w.cols, out.output);
    return Result<FusedResult>(std::move(out));
}

bool intCovered(const Scheme& s) {
    return s.family == "int" && s.bits >= 2 && s.bits <= 8 && s.clip == Clip::MinMax &&
           s.rounding == Rounding::Nearest;
}

bool nfCovered(const Scheme& s) {
    return s.family == "nf" && s.bits >= 2 && s.bits <= 8 && !s.doubleQuant &&
           s.clip == Clip::MinMax && s.rounding == Rounding::Nearest && s.extra.empty() &&
           s.granularity != Granularity::Block;
}

} // namespace

bool fusedAnalysisCovers(const Scheme& s) {
    return intCovered(s) || nfCovered(s) || planFusedCovers(s);
}

std::optional<Result<FusedResult>> analyzeFused(const Scheme& s, MatrixView w,
                                                const FusedRequest& request,
                                                const ProgressFn& progress) {
    if (w.cols <= 0 || w.rows <= 0)
        return std::nullopt;
    if (intCovered(s))
        return fusedGroups(IntFamily(s), s, w, request, progress);
    // NF blocks run over the flattened tensor: fused where they are whole groups of a row.
    if (nfCovered(s) && (s.granularity != Granularity::Group || w.cols % s.groupSize == 0))
        return fusedGroups(NfFamily(s), s, w, request, progress);
    return analyzePlanFused(s, w, request, progress);
}

} // namespace qs
