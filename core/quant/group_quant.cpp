#include "quant/group_quant.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cmath>

namespace qs {

GroupLayout groupLayout(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    GroupLayout g;
    (void)rows;
    switch (s.granularity) {
    case Granularity::Tensor:
        g.wholeTensor = true;
        g.groupCols = cols;
        g.groupsPerRow = 1;
        break;
    case Granularity::Channel:
        g.groupCols = cols;
        g.groupsPerRow = cols > 0 ? 1 : 0;
        break;
    case Granularity::Group:
    case Granularity::Block:
        g.groupCols = s.groupSize;
        g.groupsPerRow = (cols + s.groupSize - 1) / s.groupSize;
        break;
    }
    return g;
}

std::string widestGroupNote(const Scheme& s, const GroupLayout& layout, std::size_t groupIndex) {
    if (layout.wholeTensor)
        return "levels of the tensor scale";
    const auto per = std::max<std::int64_t>(1, layout.groupsPerRow);
    const auto row = static_cast<std::int64_t>(groupIndex) / per;
    const auto grp = static_cast<std::int64_t>(groupIndex) % per;
    if (s.granularity == Granularity::Channel)
        return "levels of the widest row (" + std::to_string(row) + ")";
    return "levels of the widest group (row " + std::to_string(row) + ", group " +
           std::to_string(grp) + ")";
}

bool parallelRows(std::int64_t rows, const ProgressFn& progress,
                  const std::function<void(std::int64_t, std::int64_t)>& body) {
    std::atomic<bool> cancelled{false};
    std::atomic<std::int64_t> rowsDone{0};
    tbb::parallel_for(
        tbb::blocked_range<std::int64_t>(0, rows), [&](const tbb::blocked_range<std::int64_t>& rr) {
            if (cancelled.load(std::memory_order_relaxed))
                return;
            body(rr.begin(), rr.end());
            const auto done = rowsDone.fetch_add(rr.size()) + static_cast<std::int64_t>(rr.size());
            if (progress && !progress(static_cast<double>(done) / static_cast<double>(rows)))
                cancelled = true;
        });
    return !cancelled;
}

std::uint64_t stochasticSeed(const Scheme& s) {
    const auto it = s.extra.find("seed");
    return it == s.extra.end() ? 0 : std::stoull(it->second);
}

float percentile(std::vector<float>& v, double pct) {
    std::sort(v.begin(), v.end());
    const double pos = pct / 100.0 * static_cast<double>(v.size() - 1);
    const auto i = static_cast<std::size_t>(pos);
    const double frac = pos - static_cast<double>(i);
    if (i + 1 >= v.size())
        return v.back();
    return static_cast<float>(v[i] + frac * (static_cast<double>(v[i + 1]) - v[i]));
}

float finiteAbsmax(const float* x, std::int64_t n) {
    float a = 0.0f;
    for (std::int64_t k = 0; k < n; ++k)
        if (std::isfinite(x[k]))
            a = std::max(a, std::fabs(x[k]));
    return a;
}

std::int64_t countNonFinite(const float* x, std::int64_t n) {
    std::int64_t c = 0;
    for (std::int64_t k = 0; k < n; ++k)
        c += std::isfinite(x[k]) ? 0 : 1;
    return c;
}

float clippedAbsmax(const Scheme& s, const float* x, std::int64_t n,
                    const std::function<double(float)>& errorOf) {
    const float absmax = finiteAbsmax(x, n);
    switch (s.clip) {
    case Clip::MinMax:
        return absmax;
    case Clip::Percentile: {
        std::vector<float> v;
        v.reserve(static_cast<std::size_t>(n));
        for (std::int64_t k = 0; k < n; ++k)
            if (std::isfinite(x[k]))
                v.push_back(std::fabs(x[k]));
        return v.empty() ? 0.0f : percentile(v, s.clipPercentile);
    }
    case Clip::Mse: {
        // The shrink grid GPTQ uses (p = 1 - i/100, i < 80), scored by the family's own error.
        constexpr int kGrid = 100;
        constexpr int kSteps = 80;
        float best = absmax;
        double bestErr = INFINITY;
        for (int i = 0; i < kSteps && absmax > 0.0f; ++i) {
            const float cand = absmax * (1.0f - static_cast<float>(i) / kGrid);
            const double err = errorOf(cand);
            if (err < bestErr) {
                bestErr = err;
                best = cand;
            }
        }
        return best;
    }
    }
    return absmax;
}

std::vector<float> levelMidpoints(std::span<const float> l) {
    std::vector<float> m;
    // The exact midpoint rounded once to float32, like bnb's CUDA threshold literals.
    for (std::size_t i = 0; i + 1 < l.size(); ++i)
        m.push_back(static_cast<float>((static_cast<double>(l[i]) + l[i + 1]) * 0.5));
    return m;
}

std::size_t nearestLevelIndex(std::span<const float> midpoints, float x) {
    if (std::isnan(x))
        return 0;
    // Number of midpoints strictly below x: a tie (x == midpoint) stays on the lower level.
    return static_cast<std::size_t>(std::lower_bound(midpoints.begin(), midpoints.end(), x) -
                                    midpoints.begin());
}

std::size_t stochasticLevelIndex(std::span<const float> l, float x, float u) {
    if (l.empty() || std::isnan(x) || x <= l.front())
        return 0;
    if (x >= l.back())
        return l.size() - 1;
    const auto hi = static_cast<std::size_t>(std::upper_bound(l.begin(), l.end(), x) - l.begin());
    const std::size_t lo = hi - 1;
    const float p = (x - l[lo]) / (l[hi] - l[lo]);
    return u < p ? hi : lo;
}

} // namespace qs

namespace qs {
namespace {

void reconstructSpan(const Scheme& s, const float* x, float* out, std::int64_t n,
                     std::uint64_t firstIndex, float scale, const ElementReconstructFn& fn) {
    const bool stochastic = s.rounding == Rounding::Stochastic;
    const std::uint64_t seed = stochastic ? stochasticSeed(s) : 0;
    for (std::int64_t k = 0; k < n; ++k) {
        if (std::isnan(x[k])) {
            out[k] = x[k];
            continue;
        }
        const float u =
            stochastic ? uniformAt(seed, firstIndex + static_cast<std::uint64_t>(k)) : -1.0f;
        out[k] = fn(x[k], scale, u);
    }
}

float groupAbsmax(const Scheme& s, const float* x, std::int64_t n, float divisor,
                  const ElementReconstructFn& fn) {
    return clippedAbsmax(s, x, n, [&](float a) {
        const float scale = a / divisor;
        double err = 0;
        for (std::int64_t k = 0; k < n; ++k) {
            if (!std::isfinite(x[k]))
                continue;
            const double d = static_cast<double>(fn(x[k], scale, -1.0f)) - x[k];
            err += d * d;
        }
        return err;
    });
}

} // namespace

std::size_t ScaledGroups::widestGroup() const {
    return static_cast<std::size_t>(std::max_element(scales.begin(), scales.end()) -
                                    scales.begin());
}

Result<ScaledGroups> quantizeScaledGroups(const Scheme& s, MatrixView m, float scaleDivisor,
                                          const ElementReconstructFn& fn,
                                          const ProgressFn& progress) {
    ScaledGroups out;
    out.layout = groupLayout(s, m.rows, m.cols);
    out.reconstruction.assign(m.size(), 0.0f);
    if (m.size() == 0)
        return out;
    const auto n = static_cast<std::int64_t>(m.size());
    out.nonFinite = countNonFinite(m.data, n);
    if (out.layout.wholeTensor) {
        const float scale = groupAbsmax(s, m.data, n, scaleDivisor, fn) / scaleDivisor;
        out.scales = {scale};
        const bool ok = parallelRows(m.rows, progress, [&](std::int64_t r0, std::int64_t r1) {
            reconstructSpan(s, m.data + r0 * m.cols, out.reconstruction.data() + r0 * m.cols,
                            (r1 - r0) * m.cols, static_cast<std::uint64_t>(r0 * m.cols), scale, fn);
        });
        if (!ok)
            return cancelledError();
        return out;
    }
    const auto& layout = out.layout;
    out.scales.assign(static_cast<std::size_t>(layout.groupCount(m.rows)), 0.0f);
    const bool ok = parallelRows(m.rows, progress, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r != r1; ++r) {
            for (std::int64_t g = 0; g < layout.groupsPerRow; ++g) {
                const std::int64_t c0 = g * layout.groupCols;
                const std::int64_t len = std::min(m.cols, c0 + layout.groupCols) - c0;
                const std::int64_t at = r * m.cols + c0;
                const float scale =
                    groupAbsmax(s, m.data + at, len, scaleDivisor, fn) / scaleDivisor;
                out.scales[static_cast<std::size_t>(r * layout.groupsPerRow + g)] = scale;
                reconstructSpan(s, m.data + at, out.reconstruction.data() + at, len,
                                static_cast<std::uint64_t>(at), scale, fn);
            }
        }
    });
    if (!ok)
        return cancelledError();
    return out;
}

void addNonFiniteDiagnostic(std::vector<Diagnostic>& d, std::int64_t count) {
    if (count > 0)
        d.push_back({"nonfinite_inputs", static_cast<double>(count),
                     "NaN/Inf inputs (NaN kept, Inf saturated; scales ignore them)"});
}

} // namespace qs
