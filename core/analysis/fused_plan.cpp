#include "analysis/fused_plan.h"

#include "analysis/fused_sums.h"
#include "analysis/plan_bounds.h"
#include "analysis/row_blocks.h"
#include "cuda/device_plan.h"
#include "util/buffer_recycler.h"
#include "util/simd_clones.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>

namespace qs {
namespace {

using namespace fused;

// One group's reconstruction and flags: a plain loop over the family's element function, which
// vectorises (inlined into the cloned per-stretch functions below). `f` is a local copy, so no
// store changes it.
// Finite: MX's recFinite (a block whose scale is known to be finite).
template <bool Finite = false, class Fam>
QS_CLONE_INLINE unsigned reconstructLoop(const Fam f, const typename Fam::Group g,
                                         const float* __restrict x, std::int64_t n,
                                         float* __restrict out) {
    if constexpr (!std::is_same_v<Fam, dev::MxFam>) { // no flags to gather
        unsigned ignored = 0;
#pragma omp simd
        for (std::int64_t k = 0; k < n; ++k)
            out[k] = f.rec(g, x[k], ignored);
        return 0;
    } else {
        unsigned flags = 0;
#pragma omp simd reduction(| : flags)
        for (std::int64_t k = 0; k < n; ++k) {
            if constexpr (Finite)
                out[k] = f.recFinite(g, x[k], flags);
            else
                out[k] = f.rec(g, x[k], flags);
        }
        return flags;
    }
}

QS_CLONE_INLINE unsigned reconstructGroup(const dev::FpFam& fam, const dev::FpFam::Group& p,
                                          const float* x, std::int64_t n, float* out) {
    return reconstructLoop(fam, p, x, n, out);
}

// ggml's legacy types: one loop per kind, the kind a constant in each (as MX below).
QS_CLONE_INLINE unsigned reconstructGroup(const dev::LegacyFam& fam, const dev::LegacyFam::Group& p,
                                          const float* x, std::int64_t n, float* out) {
    dev::LegacyFam f = fam;
    switch (fam.kind) {
    case dev::LegacyKind::Q4_0:
        f.kind = dev::LegacyKind::Q4_0;
        return reconstructLoop(f, p, x, n, out);
    case dev::LegacyKind::Q4_1:
        f.kind = dev::LegacyKind::Q4_1;
        return reconstructLoop(f, p, x, n, out);
    case dev::LegacyKind::Q5_0:
        f.kind = dev::LegacyKind::Q5_0;
        return reconstructLoop(f, p, x, n, out);
    case dev::LegacyKind::Q5_1:
        break;
    }
    f.kind = dev::LegacyKind::Q5_1;
    return reconstructLoop(f, p, x, n, out);
}

QS_CLONE_INLINE unsigned reconstructGroup(const dev::Q8Fam& fam, const dev::Q8Fam::Group& p,
                                          const float* x, std::int64_t n, float* out) {
    return reconstructLoop(fam, p, x, n, out);
}

// MX: a NaN scale (a block of NaN), else one loop per kind of element (nvfp4, MX INT8, MX
// floats), the kind a constant in each, so each loop is branch-free.
QS_CLONE_INLINE unsigned reconstructGroup(const dev::MxFam& fam, const dev::MxFam::Group& p,
                                          const float* x, std::int64_t n, float* out) {
    if (!(p.scale == p.scale)) {
        std::fill(out, out + n, p.scale);
        return dev::kNanBlock;
    }
    dev::MxFam f = fam;
    if (fam.nv) {
        f.nv = true;
        f.elem.int8 = false;
        return reconstructLoop<true>(f, p, x, n, out);
    }
    f.nv = false;
    if (fam.elem.int8) {
        f.elem.int8 = true;
        return reconstructLoop<true>(f, p, x, n, out);
    }
    f.elem.int8 = false;
    return reconstructLoop<true>(f, p, x, n, out);
}

// What the walk notes of each group of a stretch.
template <class Fam> struct GroupInfo {
    typename Fam::Group p;
    unsigned flags;
    float mn, mx;
};

// firstOfMagnitude (q4_0 / q5_0's signed maximum, the first element of largest magnitude) from
// the block's min and max: whichever is larger in magnitude, unless they tie as -a and +a; then
// the first of them, by a min reduction over the indices (the scan's early exit mispredicted).
QS_CLONE_INLINE float signedMaxOf(const float* x, std::int64_t n, float mn, float mx) {
    const float a = std::fabs(mn), b = std::fabs(mx);
    if (a != b)
        return a > b ? mn : mx;
    if (a == 0.0f || mn == mx) // all zero (+0, as the scan), or all one value
        return a == 0.0f ? 0.0f : mn;
    const auto count = static_cast<std::int32_t>(n); // a block: 32 values
    std::int32_t first = count;
#pragma omp simd reduction(min : first)
    for (std::int32_t k = 0; k < count; ++k)
        first = std::fabs(x[k]) == a && k < first ? k : first;
    return x[first];
}

// One group's parameters, its min and max (or the tensor's) and, for q4_0 / q5_0, its signed
// maximum (0 for the other families).
template <class Fam> struct Measured {
    typename Fam::Group p;
    float mn, mx, signedMax;
};

// q4_0 / q5_0's block parameters from their min, max and signed maximum, a vector loop per kind
// (the kind a constant in each, as in reconstructGroup).
QS_CLONE_INLINE void symmetricLegacyGroups(const dev::LegacyFam& fam, const float* mn,
                                           const float* mx, const float* signedMax,
                                           std::int64_t count, dev::LegacyFam::Group* out) {
    dev::LegacyFam f = fam;
    if (fam.kind == dev::LegacyKind::Q4_0) {
        f.kind = dev::LegacyKind::Q4_0;
#pragma omp simd
        for (std::int64_t i = 0; i < count; ++i)
            out[i] = f.group(mn[i], mx[i], signedMax[i]);
    } else {
        f.kind = dev::LegacyKind::Q5_0;
#pragma omp simd
        for (std::int64_t i = 0; i < count; ++i)
            out[i] = f.group(mn[i], mx[i], signedMax[i]);
    }
}

// The groups of a stretch (whole groups of groupCols but the last) a chunk of kChunk groups at a
// time: their min and max by groupMinMax (or the tensor's), their parameters, then onGroup(i, x
// of the group, its length, Measured) for the i-th, in order. False: NaN/Inf seen.
template <class Fam, class OnGroup>
QS_CLONE_INLINE bool measureStretch(const Fam& fam, const float* x, std::int64_t n,
                                    std::int64_t groupCols, bool wholeTensor, float tmin,
                                    float tmax, OnGroup onGroup) {
    constexpr std::int64_t kChunk = 64;
    float mn[kChunk], mx[kChunk];
    for (std::int64_t c0 = 0, i0 = 0; c0 < n; c0 += kChunk * groupCols, i0 += kChunk) {
        const std::int64_t len = std::min(kChunk * groupCols, n - c0);
        const std::int64_t count = (len + groupCols - 1) / groupCols;
        if (wholeTensor) {
            std::fill(mn, mn + count, tmin);
            std::fill(mx, mx + count, tmax);
        } else if (!groupMinMax(x + c0, len, groupCols, mn, mx)) {
            return false;
        }
        // The groups' parameters in vector loops: Fam::group group by group (not inlined, with
        // its family's branches) was a third of nvfp4's analysis. MX: the blocks' scales
        // (nvfp4) or exponents in one loop; the others: group() itself, which vectorises.
        const Fam f = fam; // a local copy: the loops' stores do not change it
        typename Fam::Group p[kChunk];
        float signedMax[kChunk] = {};
        if constexpr (std::is_same_v<Fam, dev::MxFam>) {
            float scale[kChunk];
            int exponent[kChunk];
            if (f.nv) {
#pragma omp simd
                for (std::int64_t i = 0; i < count; ++i)
                    scale[i] = f.nvScale(dev::absMaxOf(mn[i], mx[i]));
            } else {
#pragma omp simd
                for (std::int64_t i = 0; i < count; ++i)
                    exponent[i] = f.scaleExponent(dev::absMaxOf(mn[i], mx[i]));
            }
            for (std::int64_t i = 0; i < count; ++i)
                p[i] = f.nv ? dev::MxFam::nvGroup(scale[i]) : dev::MxFam::mxGroup(exponent[i]);
        } else if constexpr (std::is_same_v<Fam, dev::LegacyFam>) {
            if (f.symmetric()) { // q4_0, q5_0
                for (std::int64_t i = 0; i < count; ++i)
                    signedMax[i] =
                        signedMaxOf(x + c0 + i * groupCols,
                                    std::min(groupCols, len - i * groupCols), mn[i], mx[i]);
                symmetricLegacyGroups(f, mn, mx, signedMax, count, p);
            } else { // q4_1 / q5_1 group by group: a loop of their group()s first, vectorised
                     // or not, came out 7-12 % slower
                for (std::int64_t i = 0; i < count; ++i)
                    onGroup(i0 + i, x + c0 + i * groupCols,
                            std::min(groupCols, len - i * groupCols),
                            Measured<Fam>{fam.group(mn[i], mx[i], 0.0f), mn[i], mx[i], 0.0f});
                continue;
            }
        } else {
#pragma omp simd
            for (std::int64_t i = 0; i < count; ++i)
                p[i] = f.group(mn[i], mx[i]);
        }
        for (std::int64_t i = 0; i < count; ++i)
            onGroup(i0 + i, x + c0 + i * groupCols, std::min(groupCols, len - i * groupCols),
                    Measured<Fam>{p[i], mn[i], mx[i], signedMax[i]});
    }
    return true;
}

// The groups of one stretch: min/max (or the tensor's), parameters, reconstruction into out, and
// info[i] for the i-th. False: NaN/Inf seen.
template <class Fam>
QS_CLONE_INLINE bool stretchGroups(const Fam& fam, const float* x, std::int64_t n,
                                   std::int64_t groupCols, bool wholeTensor, float tmin, float tmax,
                                   GroupInfo<Fam>* info, float* out) {
    return measureStretch(fam, x, n, groupCols, wholeTensor, tmin, tmax,
                          [&](std::int64_t i, const float* xg, std::int64_t len,
                              const Measured<Fam>& g) QS_LAMBDA_INLINE {
                              float* o = out + (xg - x);
                              info[i] = {g.p, reconstructGroup(fam, g.p, xg, len, o), g.mn, g.mx};
                          });
}

// The error bounds of the groups of one stretch (analysis/plan_bounds.h), as floats no smaller,
// into bound[i] for the i-th. False: NaN/Inf seen.
template <class Fam>
QS_CLONE_INLINE bool stretchBounds(const Fam& fam, const float* x, std::int64_t n,
                                   std::int64_t groupCols, float* bound) {
    const bounds::GroupBound<Fam> boundOf(fam);
    return measureStretch(
        fam, x, n, groupCols, false, 0.0f, 0.0f,
        [&](std::int64_t i, const float*, std::int64_t, const Measured<Fam>& g) QS_LAMBDA_INLINE {
            bound[i] = bounds::asFloatUp(boundOf(g.p, g.mn, g.mx, g.signedMax));
        });
}

// stretchGroups per family, one call per stretch (cloned for AVX2/AVX-512 as a whole).
#define QS_STRETCH_GROUPS(Fam)                                                                     \
    QS_SIMD_CLONES                                                                                 \
    bool reconstructStretch(const Fam& fam, const float* x, std::int64_t n,                        \
                            std::int64_t groupCols, bool wholeTensor, float tmin, float tmax,      \
                            GroupInfo<Fam>* info, float* out) {                                    \
        return stretchGroups(fam, x, n, groupCols, wholeTensor, tmin, tmax, info, out);            \
    }                                                                                              \
    QS_SIMD_CLONES                                                                                 \
    bool boundStretch(const Fam& fam, const float* x, std::int64_t n, std::int64_t groupCols,      \
                      float* bound) {                                                              \
        return stretchBounds(fam, x, n, groupCols, bound);                                         \
    }
QS_STRETCH_GROUPS(dev::FpFam)
QS_STRETCH_GROUPS(dev::LegacyFam)
QS_STRETCH_GROUPS(dev::Q8Fam)
QS_STRETCH_GROUPS(dev::MxFam)
#undef QS_STRETCH_GROUPS

bool covered(const DevicePlan& p) {
    return p.family == DeviceFamily::Fp || p.family == DeviceFamily::Mx ||
           p.family == DeviceFamily::Q8_0 || p.family == DeviceFamily::Legacy;
}

// Per group of rows [r0, r1): its min/max (or the tensor's), parameters, reconstruction.
template <class Fam> struct Walker {
    const Fam& fam;
    const DevicePlan& plan;
    MatrixView w;
    float tmin, tmax;

    std::int64_t stretch() const { return stretchCols(plan.groupCols, plan.cols); }

    // Per group, onGroup(group, row, gi, flags, mn, mx) once it is reconstructed; per stretch of
    // groups (stretch() columns of a row at most), onStretch(x, rec, n). buf: stretch() floats,
    // unless out (the whole reconstruction) is given. False: NaN/Inf seen.
    template <class OnGroup, class OnStretch>
    bool run(std::int64_t r0, std::int64_t r1, float* out, std::vector<float>& buf, OnGroup onGroup,
             OnStretch onStretch) const {
        const std::int64_t span = stretch();
        std::vector<GroupInfo<Fam>> info(static_cast<std::size_t>(span / plan.groupCols + 1));
        for (std::int64_t r = r0; r < r1; ++r)
            for (std::int64_t s0 = 0; s0 < plan.cols; s0 += span) {
                const std::int64_t width = std::min(span, plan.cols - s0);
                const float* xs = w.data + r * w.cols + s0;
                float* recs = out ? out + (xs - w.data) : buf.data();
                if (!reconstructStretch(fam, xs, width, plan.groupCols, plan.wholeTensor, tmin,
                                        tmax, info.data(), recs))
                    return false;
                const std::int64_t g0 = s0 / plan.groupCols;
                for (std::int64_t g = g0; g * plan.groupCols < s0 + width; ++g) {
                    const GroupInfo<Fam>& i = info[static_cast<std::size_t>(g - g0)];
                    onGroup(i.p, r, r * plan.groupsPerRow + g, i.flags, i.mn, i.mx);
                }
                onStretch(xs, recs, width);
            }
        return true;
    }
};

struct BlockResult {
    Sums sums;
    unsigned long long widestKey = 0;
    std::int64_t saturated = 0, flushed = 0, nanBlocks = 0;
};

enum class Outcome { Done, NonFinite, Cancelled };

// The exact max |error| over the tensor into m, with progress from 0 to `to`. Groups with
// their own parameters: every group's error bound (analysis/plan_bounds.h, from its min and
// max); the exact maximum of each block's group of the largest bound; then, in parallel, that of
// every group whose bound passes the largest exact maximum found so far. A group skipped has
// exact max <= its bound <= a maximum found, so m is the exact maximum in any order. One group
// over the whole tensor (every row's bound alike): every row reconstructed, as before a bound
// could spare any.
template <class Fam>
Outcome exactMaxError(const Walker<Fam>& walk, double to, const ProgressFn& progress, double& m) {
    const MatrixView w = walk.w;
    const DevicePlan& plan = walk.plan;
    const auto blocks = static_cast<std::size_t>(blockCount(w));
    std::atomic<bool> nonFinite{false};
    std::vector<double> maxima(blocks, 0.0);
    auto outcome = [&](bool ok) {
        return nonFinite ? Outcome::NonFinite : ok ? Outcome::Done : Outcome::Cancelled;
    };
    if (plan.wholeTensor) {
        const bool ok = forEachBlock(
            w, 0.0, to, progress, [&](std::int64_t b, std::int64_t r0, std::int64_t r1) {
                std::vector<float> buf(static_cast<std::size_t>(walk.stretch()));
                double mx = 0;
                const auto noNote = [](const auto&, std::int64_t, std::int64_t, unsigned, float,
                                       float) {};
                const bool finite = walk.run(r0, r1, nullptr, buf, noNote,
                                             [&](const float* x, const float* rec, std::int64_t n) {
                                                 mx = std::max(mx, groupMaxError(x, rec, n));
                                             });
                if (!finite)
                    nonFinite = true;
                maxima[static_cast<std::size_t>(b)] = mx;
                return finite;
            });
        m = *std::max_element(maxima.begin(), maxima.end());
        return outcome(ok);
    }

    const std::int64_t perRow = plan.groupsPerRow, groupCols = plan.groupCols;
    const std::int64_t span = walk.stretch();
    // Every group's bound is written below; scratch kept between analyses (no page faults).
    const auto groups = static_cast<std::size_t>(w.rows * perRow);
    const ScratchBytes boundBytes(groups * sizeof(float));
    float* const bound = boundBytes.as<float>(groups);
    std::vector<std::pair<float, std::int64_t>> top(blocks, {-1.0f, 0}); // per block, its first
    bool ok = forEachBlock(
        w, 0.0, to / 2, progress, [&](std::int64_t b, std::int64_t r0, std::int64_t r1) {
            auto& t = top[static_cast<std::size_t>(b)];
            for (std::int64_t r = r0; r < r1; ++r)
                for (std::int64_t s0 = 0; s0 < w.cols; s0 += span) {
                    const std::int64_t gi = r * perRow + s0 / groupCols;
                    float* out = bound + gi;
                    const std::int64_t width = std::min(span, w.cols - s0);
                    if (!boundStretch(walk.fam, w.data + r * w.cols + s0, width, groupCols, out)) {
                        nonFinite = true;
                        return false;
                    }
                    for (std::int64_t i = 0; i * groupCols < width; ++i)
                        if (out[i] > t.first)
                            t = {out[i], gi + i};
                }
            return true;
        });
    if (!ok)
        return outcome(false);

    auto exact = [&](std::int64_t gi, std::vector<float>& buf) {
        const std::int64_t c0 = (gi % perRow) * groupCols, len = std::min(groupCols, w.cols - c0);
        const float* x = w.data + (gi / perRow) * w.cols + c0;
        GroupInfo<Fam> info;
        reconstructStretch(walk.fam, x, len, groupCols, false, 0.0f, 0.0f, &info, buf.data());
        return groupMaxError(x, buf.data(), len);
    };
    // Each block's first group of its largest bound.
    ok = forEachBlock(w, to / 2, to * 0.6, progress,
                      [&](std::int64_t b, std::int64_t, std::int64_t) {
                          std::vector<float> scratch(static_cast<std::size_t>(groupCols));
                          maxima[static_cast<std::size_t>(b)] =
                              exact(top[static_cast<std::size_t>(b)].second, scratch);
                          return true;
                      });
    if (!ok)
        return outcome(false);
    // Then the groups whose bound passes the largest exact maximum found so far, shared by the
    // threads (any order gives the same maximum).
    std::atomic<double> found{*std::max_element(maxima.begin(), maxima.end())};
    ok = forEachBlock(
        w, to * 0.6, to, progress, [&](std::int64_t b, std::int64_t r0, std::int64_t r1) {
            if (!(top[static_cast<std::size_t>(b)].first > found.load(std::memory_order_relaxed)))
                return true;
            std::vector<float> scratch(static_cast<std::size_t>(groupCols));
            for (std::int64_t gi = r0 * perRow; gi < r1 * perRow; ++gi) {
                double sofar = found.load(std::memory_order_relaxed);
                if (!(bound[gi] > sofar))
                    continue;
                const double e = exact(gi, scratch);
                while (e > sofar &&
                       !found.compare_exchange_weak(sofar, e, std::memory_order_relaxed)) {
                }
            }
            return true;
        });
    m = found;
    return outcome(ok);
}

template <class Fam>
std::optional<Result<FusedResult>> runPlan(const Fam& fam, const DevicePlan& plan, const Scheme& s,
                                           MatrixView w, DeviceSummary summary,
                                           const FusedRequest& req, const ProgressFn& progress) {
    const Walker<Fam> walk{fam, plan, w, summary.tensorMin, summary.tensorMax};
    const bool histogram = req.errorHistogramBins > 0;
    const auto blocks = static_cast<std::size_t>(blockCount(w));
    FusedResult out;
    if (req.keepReconstruction) // every value written below
        out.output.reconstruction = takeFloatBuffer(w.size());
    float* keep = req.keepReconstruction ? out.output.reconstruction.data() : nullptr;
    const bool isMx = plan.family == DeviceFamily::Mx;
    std::atomic<bool> nonFinite{false};
    auto note = [&](BlockResult& br, const auto& p, std::int64_t r, std::int64_t gi, unsigned flags,
                    float mn, float mx) {
        if (p.key == p.key) {
            const auto index = static_cast<std::uint32_t>(isMx ? r : gi);
            br.widestKey = std::max(br.widestKey, dev::widestKey(p.key, index));
        }
        if (isMx) {
            if (flags & dev::kNanBlock) {
                ++br.nanBlocks;
            } else {
                br.saturated += (flags & dev::kSaturated) ? 1 : 0;
                br.flushed +=
                    !(flags & dev::kNonZero) && std::max(std::fabs(mn), std::fabs(mx)) > 0.0f ? 1
                                                                                              : 0;
            }
        }
    };

    // Pass 1 (with a histogram): the exact max |error|, which sets the histogram's range.
    double m = 0;
    const double firstEnd = histogram ? 0.25 : 0.0;
    if (histogram) {
        const Outcome found = exactMaxError(walk, firstEnd, progress, m);
        if (found == Outcome::NonFinite)
            return std::nullopt;
        if (found == Outcome::Cancelled)
            return Result<FusedResult>(cancelledError());
    }
    const double hm = m > 0 ? m : 1e-12;
    const auto bins = static_cast<std::size_t>(histogram ? req.errorHistogramBins : 0);

    // Pass 2: reconstruction, sums, bins, the widest group and the block counts.
    std::vector<BlockResult> partial(blocks);
    std::vector<std::uint64_t> counts(blocks * bins, 0);
    const bool ok = forEachBlock(
        w, firstEnd, 1.0, progress, [&](std::int64_t b, std::int64_t r0, std::int64_t r1) {
            std::vector<float> buf(keep ? 0 : static_cast<std::size_t>(walk.stretch()));
            Binner binner(bins, hm, walk.stretch());
            BlockResult& br = partial[static_cast<std::size_t>(b)];
            const bool finite = walk.run(
                r0, r1, keep, buf,
                [&](const auto& p, std::int64_t r, std::int64_t gi, unsigned flags, float mn,
                    float mx) { note(br, p, r, gi, flags, mn, mx); },
                [&](const float* x, const float* rec, std::int64_t n) {
                    binner.add(x, rec, n, br.sums);
                });
            if (!finite) {
                nonFinite = true;
                return false;
            }
            binner.countsInto(counts.data() + static_cast<std::size_t>(b) * bins);
            return true;
        });
    if (nonFinite)
        return std::nullopt;
    if (!ok)
        return Result<FusedResult>(cancelledError());

    BlockResult total;
    for (const BlockResult& br : partial) {
        total.sums.add(br.sums);
        total.widestKey = std::max(total.widestKey, br.widestKey);
        total.saturated += br.saturated;
        total.flushed += br.flushed;
        total.nanBlocks += br.nanBlocks;
    }
    out.error.count = w.size();
    out.error.sumSqErr = total.sums.se;
    out.error.sumSqRef = total.sums.sr;
    out.error.sumSqRec = total.sums.sq;
    out.error.dot = total.sums.dot;
    out.error.maxAbsErr = histogram ? m : total.sums.maxAbs;
    if (histogram)
        out.errorHistogram = errorHistogramOf(counts, blocks, bins, hm);
    summary.widestKey = total.widestKey;
    summary.saturated = total.saturated;
    summary.flushed = total.flushed;
    summary.nanBlocks = total.nanBlocks;
    describeDeviceResult(s, plan, w, summary, out.output);
    return Result<FusedResult>(std::move(out));
}

// An all-zero nvfp4 tensor: reconstructed as zero, no error (quantizeMx says nothing more).
FusedResult allZero(const Scheme& s, const DevicePlan& plan, MatrixView w,
                    const DeviceSummary& summary, const FusedRequest& req) {
    FusedResult out;
    if (req.keepReconstruction)
        out.output.reconstruction.assign(w.size(), 0.0f);
    out.error.count = w.size();
    if (req.errorHistogramBins > 0)
        out.errorHistogram = zeroDifferenceHistogram(req.errorHistogramBins, w.size());
    describeDeviceResult(s, plan, w, summary, out.output);
    return out;
}

} // namespace

bool planFusedCovers(const Scheme& s) {
    // Coverage does not depend on the shape for these families, except q8_0's whole blocks.
    const auto plan = devicePlanFor(s, 1, 64); // 64: whole blocks of 32 for the ggml types
    return plan && covered(*plan);
}

std::optional<Result<FusedResult>> analyzePlanFused(const Scheme& s, MatrixView w,
                                                    const FusedRequest& req,
                                                    const ProgressFn& progress) {
    auto plan = devicePlanFor(s, w.rows, w.cols);
    if (!plan || !covered(*plan))
        return std::nullopt;
    DeviceSummary summary;
    if (plan->needsTensorStats()) {
        // The tensor's min and max: given (w a run of its rows), or these rows'.
        const auto range = req.tensorRange
                               ? req.tensorRange
                               : finiteRange(w.data, static_cast<std::int64_t>(w.size()));
        if (!range)
            return std::nullopt;
        const auto [mn, mx] = *range;
        summary.tensorMin = mn;
        summary.tensorMax = mx;
        if (plan->mxFam.nv) {
            plan->mxFam.tensorScale = nvfp4TensorScale(mn, mx);
            if (plan->mxFam.tensorScale == 0.0f)
                return Result<FusedResult>(allZero(s, *plan, w, summary, req));
        }
    }
    switch (plan->family) {
    case DeviceFamily::Fp:
        return runPlan(plan->fpFam, *plan, s, w, summary, req, progress);
    case DeviceFamily::Mx:
        return runPlan(plan->mxFam, *plan, s, w, summary, req, progress);
    case DeviceFamily::Q8_0:
        return runPlan(plan->q8Fam, *plan, s, w, summary, req, progress);
    case DeviceFamily::Legacy:
        return runPlan(plan->legacyFam, *plan, s, w, summary, req, progress);
    default:
        return std::nullopt;
    }
}

} // namespace qs
