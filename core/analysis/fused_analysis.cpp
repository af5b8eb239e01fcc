#include "analysis/fused_analysis.h"

#include "analysis/fused_families.h"
#include "analysis/fused_plan.h"
#include "analysis/fused_sums.h"
#include "analysis/row_blocks.h"

#include "quant/group_quant.h"
#include "util/buffer_recycler.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

namespace qs {
namespace {

using fused::Binner;
using fused::blockCount;
using fused::CompandFamily;
using fused::errorHistogramOf;
using fused::forEachBlock;
using fused::groupMaxError;
using fused::groupMinMax;
using fused::IntFamily;
using fused::NfFamily;
using fused::rowsPerBlock;
using fused::stretchCols;
using fused::Sums;

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
    // Every group is written in pass 1 (default-initialised: no pass to zero them first), in
    // scratch kept between analyses (no page faults).
    const ScratchBytes groupBytes(groupCount * sizeof(Group));
    Group* const groups = groupBytes.as<Group>(groupCount);
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
    // and per block of rows its first group of the largest bound and of the largest width. A
    // whole-tensor scale from a given range needs none of it.
    const bool rangeGiven = layout.wholeTensor && req.tensorRange;
    std::vector<std::pair<float, float>> rowRange(layout.wholeTensor && !rangeGiven ? w.rows : 0);
    std::vector<Widest> widest(static_cast<std::size_t>(blockCount(w)));
    std::atomic<bool> nonFinite{false};
    bool ok = true;
    if (!rangeGiven)
        ok = forEachBlock(
            w, 0.0, paramsEnd, progress, [&](std::int64_t b, std::int64_t r0, std::int64_t r1) {
                Widest& bw = widest[static_cast<std::size_t>(b)];
                std::vector<float> mn(static_cast<std::size_t>(groupsPerRow)), mx(mn.size());
                for (std::int64_t r = r0; r < r1; ++r) {
                    if (!groupMinMax(w.data + r * w.cols, w.cols, groupCols, mn.data(),
                                     mx.data())) {
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
        auto [mn, mx] = rangeGiven ? *req.tensorRange : rowRange[0];
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
                fam.reconstruct(&groups[gi], x, n, n, buf.data());
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
    if (req.keepReconstruction) // every value written below
        out.output.reconstruction = takeFloatBuffer(w.size());
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

bool compandCovered(const Scheme& s) {
    return (s.family == "mulaw" || s.family == "alaw") && s.bits >= 2 && s.bits <= 8 &&
           !s.doubleQuant && s.clip == Clip::MinMax && s.rounding == Rounding::Nearest &&
           s.extra.empty();
}

bool nfCovered(const Scheme& s) {
    return s.family == "nf" && s.bits >= 2 && s.bits <= 8 && !s.doubleQuant &&
           s.clip == Clip::MinMax && s.rounding == Rounding::Nearest && s.extra.empty() &&
           s.granularity != Granularity::Block;
}

} // namespace

bool fusedAnalysisCovers(const Scheme& s) {
    return intCovered(s) || nfCovered(s) || compandCovered(s) || planFusedCovers(s);
}

std::optional<std::pair<float, float>> finiteRange(const float* x, std::int64_t n) {
    struct Range {
        float mn = std::numeric_limits<float>::infinity(), mx = -mn;
        bool finite = true;
    };
    if (n <= 0)
        return std::nullopt;
    constexpr std::int64_t kBlock = std::int64_t{1} << 20; // values per task
    const Range r = tbb::parallel_reduce(
        tbb::blocked_range<std::int64_t>(0, (n + kBlock - 1) / kBlock), Range{},
        [&](const tbb::blocked_range<std::int64_t>& blocks, Range acc) {
            for (std::int64_t b = blocks.begin(); b < blocks.end(); ++b) {
                float mn, mx;
                bool finite;
                fused::minMax(x + b * kBlock, std::min(kBlock, n - b * kBlock), mn, mx, finite);
                acc = {std::min(acc.mn, mn), std::max(acc.mx, mx), acc.finite && finite};
            }
            return acc;
        },
        [](const Range& a, const Range& b) {
            return Range{std::min(a.mn, b.mn), std::max(a.mx, b.mx), a.finite && b.finite};
        });
    return r.finite ? std::optional(std::pair{r.mn, r.mx}) : std::nullopt;
}

bool fusedTakesTensorRange(const Scheme& s) {
    return (s.granularity == Granularity::Tensor || s.family == "nvfp4") && !s.doubleQuant &&
           s.rounding == Rounding::Nearest && fusedAnalysisCovers(s);
}

namespace {

std::optional<Result<FusedResult>>
runFused(const Scheme& s, MatrixView w, const FusedRequest& request, const ProgressFn& progress) {
    if (intCovered(s))
        return fusedGroups(IntFamily(s), s, w, request, progress);
    if (compandCovered(s))
        return fusedGroups(CompandFamily(s), s, w, request, progress);
    // NF blocks run over the flattened tensor: fused where they are whole groups of a row.
    if (nfCovered(s) && (s.granularity != Granularity::Group || w.cols % s.groupSize == 0))
        return fusedGroups(NfFamily(s), s, w, request, progress);
    return analyzePlanFused(s, w, request, progress);
}

} // namespace

std::optional<Result<FusedResult>> analyzeFused(const Scheme& s, MatrixView w,
                                                const FusedRequest& request,
                                                const ProgressFn& progress) {
    if (w.cols <= 0 || w.rows <= 0)
        return std::nullopt;
    auto result = runFused(s, w, request, progress);
    // A reconstruction past float's range (a finite input under an overflowing scale) gives
    // non-finite errors, which the plain passes count apart: theirs to answer.
    if (result && result->ok() && !std::isfinite(result->value().error.sumSqErr))
        return std::nullopt;
    return result;
}

} // namespace qs
