#include "quant/int_quant.h"
#include "quant/int_params.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>

namespace qs {
using namespace intq;
namespace {

inline std::int32_t quantizeStochastic(float x, GroupParams p, Range r, float u) {
    return codeOf(std::floor(x / p.scale + u) + static_cast<float>(p.zero), p, r);
}

// GPTQ's MSE grid (quant.py find_params with mse=True): shrink the range by p = 1 - i/100 for
// i < 80 and keep the parameters with the least sum |x^ - x|^2.4.
GroupParams mseSearch(const Scheme& s, const float* x, std::int64_t n, float mn, float mx,
                      Range r) {
    constexpr int kGrid = 100;
    constexpr double kMaxShrink = 0.8;
    constexpr double kNorm = 2.4;
    GroupParams best = paramsFor(s, mn, mx);
    double bestErr = INFINITY;
    for (int i = 0; i < static_cast<int>(kMaxShrink * kGrid); ++i) {
        const float p = 1.0f - static_cast<float>(i) / static_cast<float>(kGrid);
        const GroupParams gp = paramsFor(s, p * std::min(mn, 0.0f), p * std::max(mx, 0.0f));
        double err = 0;
        for (std::int64_t k = 0; k < n; ++k) {
            const float rec = gp.scale * static_cast<float>(quantizeOne(x[k], gp, r) - gp.zero);
            err += std::pow(std::fabs(static_cast<double>(rec) - x[k]), kNorm);
        }
        if (err < bestErr) {
            bestErr = err;
            best = gp;
        }
    }
    return best;
}

// Scale and zero-point of one group under the scheme's clipping rule.
GroupParams groupParams(const Scheme& s, const float* x, std::int64_t n, Range r) {
    float mn = x[0], mx = x[0];
    for (std::int64_t k = 1; k < n; ++k) {
        mn = std::min(mn, x[k]);
        mx = std::max(mx, x[k]);
    }
    switch (s.clip) {
    case Clip::MinMax:
        return paramsFor(s, mn, mx);
    case Clip::Mse:
        return mseSearch(s, x, n, mn, mx, r);
    case Clip::Percentile: {
        std::vector<float> v(x, x + n);
        if (s.symmetric) {
            for (auto& e : v)
                e = std::fabs(e);
            const float a = percentile(v, s.clipPercentile);
            return paramsFor(s, -a, a);
        }
        const float hi = percentile(v, s.clipPercentile);
        const float lo = percentile(v, 100.0 - s.clipPercentile);
        return paramsFor(s, lo, hi);
    }
    }
    return paramsFor(s, mn, mx);
}

void quantizeSpan(const Scheme& s, const float* x, std::int32_t* codes, std::int64_t n,
                  std::uint64_t firstIndex, GroupParams p, Range r) {
    if (s.rounding == Rounding::Stochastic) {
        const std::uint64_t seed = stochasticSeed(s);
        for (std::int64_t k = 0; k < n; ++k)
            codes[k] = quantizeStochastic(
                x[k], p, r, uniformAt(seed, firstIndex + static_cast<std::uint64_t>(k)));
    } else {
        for (std::int64_t k = 0; k < n; ++k)
            codes[k] = quantizeOne(x[k], p, r);
    }
}

} // namespace

std::size_t IntQuantized::groupIndex(std::int64_t r, std::int64_t c) const {
    if (scales.size() == 1)
        return 0;
    return static_cast<std::size_t>(r * groupsPerRow + c / groupCols);
}

StorageCost intStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    const auto layout = groupLayout(s, rows, cols);
    const auto groups = static_cast<std::uint64_t>(rows * cols > 0 ? layout.groupCount(rows) : 0);
    StorageCost c;
    c.elements = static_cast<std::uint64_t>(rows * cols);
    c.payloadBits = c.elements * static_cast<std::uint64_t>(s.bits);
    c.scaleBits = groups * 16;
    c.zeroBits = s.symmetric ? 0 : groups * static_cast<std::uint64_t>(s.bits);
    return c;
}

Result<IntQuantized> quantizeIntCodes(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    if (s.family != "int" || s.bits < 2 || s.bits > 8)
        return makeError("quantizeIntCodes needs an int2..int8 scheme, got " + s.toString());
    const Range range = codeRange(s);
    const GroupLayout layout = groupLayout(s, m.rows, m.cols);
    IntQuantized out;
    out.rows = m.rows;
    out.cols = m.cols;
    out.qmin = range.qmin;
    out.qmax = range.qmax;
    out.groupCols = layout.groupCols;
    out.groupsPerRow = layout.groupsPerRow;
    out.codes.assign(m.size(), 0);
    if (m.size() == 0)
        return out;

    if (layout.wholeTensor) {
        // One group: parameters from the whole tensor (min/max reduced in parallel; the
        // percentile and MSE rules need all values at once).
        GroupParams p;
        if (s.clip == Clip::MinMax) {
            using MinMax = std::pair<float, float>;
            const MinMax mm = tbb::parallel_reduce(
                tbb::blocked_range<std::size_t>(0, m.size(), 1 << 16), MinMax{INFINITY, -INFINITY},
                [&](const tbb::blocked_range<std::size_t>& r, MinMax acc) {
                    for (std::size_t i = r.begin(); i != r.end(); ++i) {
                        acc.first = std::min(acc.first, m.data[i]);
                        acc.second = std::max(acc.second, m.data[i]);
                    }
                    return acc;
                },
                [](MinMax a, MinMax b) {
                    return MinMax{std::min(a.first, b.first), std::max(a.second, b.second)};
                });
            p = paramsFor(s, mm.first, mm.second);
        } else {
            p = groupParams(s, m.data, static_cast<std::int64_t>(m.size()), range);
        }
        out.scales = {p.scale};
        out.zeros = {p.zero};
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m.size(), 1 << 16),
                          [&](const tbb::blocked_range<std::size_t>& r) {
                              quantizeSpan(s, m.data + r.begin(), out.codes.data() + r.begin(),
                                           static_cast<std::int64_t>(r.size()), r.begin(), p,
                                           range);
                          });
        if (!reportProgress(progress, 1.0))
            return cancelledError();
        return out;
    }

    const std::size_t groups = static_cast<std::size_t>(m.rows * layout.groupsPerRow);
    out.scales.resize(groups);
    out.zeros.resize(groups);
    const bool finished = parallelRows(m.rows, progress, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r != r1; ++r) {
            const float* row = m.data + r * m.cols;
            for (std::int64_t g = 0; g < layout.groupsPerRow; ++g) {
                const std::int64_t c0 = g * layout.groupCols;
                const std::int64_t c1 = std::min(m.cols, c0 + layout.groupCols);
                const GroupParams p = groupParams(s, row + c0, c1 - c0, range);
                const auto gi = static_cast<std::size_t>(r * layout.groupsPerRow + g);
                out.scales[gi] = p.scale;
                out.zeros[gi] = p.zero;
                quantizeSpan(s, row + c0, out.codes.data() + r * m.cols + c0, c1 - c0,
                             static_cast<std::uint64_t>(r * m.cols + c0), p, range);
            }
        }
    });
    if (!finished)
        return cancelledError();
    return out;
}

std::vector<float> dequantizeInt(const IntQuantized& q) {
    std::vector<float> out(q.codes.size());
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, q.rows),
                      [&](const tbb::blocked_range<std::int64_t>& rr) {
                          for (std::int64_t r = rr.begin(); r != rr.end(); ++r)
                              for (std::int64_t c = 0; c < q.cols; ++c) {
                                  const auto gi = q.groupIndex(r, c);
                                  const auto i = static_cast<std::size_t>(r * q.cols + c);
                                  out[i] =
                                      q.scales[gi] * static_cast<float>(q.codes[i] - q.zeros[gi]);
                              }
                      });
    return out;
}

void setIntLevels(const Scheme& s, std::span<const float> scales,
                  std::span<const std::int32_t> zeros, std::int64_t groupsPerRow,
                  QuantOutput& out) {
    if (scales.empty())
        return;
    const auto widest =
        static_cast<std::size_t>(std::max_element(scales.begin(), scales.end()) - scales.begin());
    setWidestIntLevels(s, scales[widest], zeros[widest], widest, scales.size(), groupsPerRow, out);
}

void setWidestIntLevels(const Scheme& s, float scale, std::int32_t zero, std::size_t widest,
                        std::size_t groupCount, std::int64_t groupsPerRow, QuantOutput& out) {
    const Range range = codeRange(s);
    out.levels.clear();
    for (int code = range.qmin; code <= range.qmax; ++code)
        out.levels.push_back(scale * static_cast<float>(code - zero));
    if (groupCount > 1) {
        const auto row =
            static_cast<std::int64_t>(widest) / std::max<std::int64_t>(1, groupsPerRow);
        const auto grp =
            static_cast<std::int64_t>(widest) % std::max<std::int64_t>(1, groupsPerRow);
        out.levelsNote = s.granularity == Granularity::Channel
                             ? "levels of the widest row (" + std::to_string(row) + ")"
                             : "levels of the widest group (row " + std::to_string(row) +
                                   ", group " + std::to_string(grp) + ")";
    } else {
        out.levelsNote = "levels of the tensor scale";
    }
}

Result<QuantOutput> quantizeInt(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    auto q = quantizeIntCodes(s, m, progress);
    if (!q)
        return q.error();
    QuantOutput out;
    out.reconstruction = dequantizeInt(*q);
    out.cost = intStorageCost(s, m.rows, m.cols);
    setIntLevels(s, q->scales, q->zeros, q->groupsPerRow, out);
    return out;
}

std::vector<float> intUnitLevels(const Scheme& s) {
    // Unit scale: the codes themselves; asym codes are shown centred on a mid-range zero-point
    // 2^(b-1), i.e. q - 2^(b-1) for q in [0, 2^b - 1].
    const Range r = codeRange(s);
    const int shift = s.symmetric ? 0 : (1 << (s.bits - 1));
    std::vector<float> levels;
    for (int q = r.qmin; q <= r.qmax; ++q)
        levels.push_back(static_cast<float>(q - shift));
    return levels;
}

} // namespace qs
