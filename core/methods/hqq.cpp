#include "methods/hqq.h"

#include "cuda/device_hqq.h"

#include "quant/group_quant.h"
#include "tensor/dtype.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>

namespace qs {
namespace {

struct Layout {
    std::int64_t n = 0, groupSize = 0, groups = 0;
    int axis = 1;
    std::int64_t index(std::int64_t j, std::int64_t k) const {
        return axis == 1 ? j * groupSize + k : j + k * groups;
    }
    std::int64_t members(std::int64_t j) const {
        return axis == 1 ? std::min(groupSize, n - j * groupSize) : groupSize;
    }
};

Result<Layout> layoutFor(const Scheme& s, MatrixView m, int axis) {
    Layout l;
    l.n = static_cast<std::int64_t>(m.size());
    l.axis = axis;
    if (s.granularity == Granularity::Tensor)
        l.groupSize = l.n;
    else if (s.granularity == Granularity::Channel)
        l.groupSize = axis == 1 ? m.cols : m.rows;
    else
        l.groupSize = s.groupSize;
    if (l.n == 0 || l.groupSize == 0)
        return l;
    if (axis == 0 && l.n % l.groupSize != 0)
        return makeError("scheme " + s.toString() +
                             ": with axis=0 the group size must divide the " + std::to_string(l.n) +
                             " elements (HQQ reshapes to [g, -1])",
                         ErrorKind::NotApplicable);
    l.groups = (l.n + l.groupSize - 1) / l.groupSize;
    return l;
}

} // namespace

Result<HqqOptions> hqqOptions(const Scheme& s) {
    HqqOptions o;
    if (auto it = s.extra.find("axis"); it != s.extra.end()) {
        if (it->second != "0" && it->second != "1")
            return makeError("scheme " + s.toString() + ": axis must be 0 or 1");
        o.axis = it->second == "0" ? 0 : 1;
    }
    if (auto it = s.extra.find("iters"); it != s.extra.end()) {
        char* end = nullptr;
        const long v = std::strtol(it->second.c_str(), &end, 10);
        if (it->second.empty() || *end || v < 1 || v > 1000)
            return makeError("scheme " + s.toString() + ": iters must be 1..1000");
        o.iterations = static_cast<int>(v);
    }
    return o;
}

Result<HqqQuantized> quantizeHqqCodes(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    auto opts = hqqOptions(s);
    if (!opts)
        return opts.error();
    if (s.bits < 2 || s.bits > 8)
        return makeError("scheme " + s.toString() + ": hqq2..hqq8");
    if (const auto bad = countNonFinite(m.data, static_cast<std::int64_t>(m.size())); bad > 0)
        return makeError("scheme " + s.toString() + ": HQQ needs finite weights (" +
                         std::to_string(bad) + " NaN or Inf values)");
    auto layout = layoutFor(s, m, opts->axis);
    if (!layout)
        return layout.error();
    const Layout l = *layout;
    const auto maxq = static_cast<float>((1 << s.bits) - 1);
    HqqQuantized q;
    q.groupSize = l.groupSize;
    q.groups = l.groups;
    q.axis = l.axis;
    q.codes.assign(static_cast<std::size_t>(l.n), 0);
    std::vector<dev::HqqParams> params(static_cast<std::size_t>(l.groups));
    const float* w = m.data;

    for (std::int64_t j = 0; j < l.groups; ++j) {
        float lo = w[l.index(j, 0)], hi = lo;
        for (std::int64_t k = 1; k < l.members(j); ++k) {
            lo = std::min(lo, w[l.index(j, k)]);
            hi = std::max(hi, w[l.index(j, k)]);
        }
        params[static_cast<std::size_t>(j)] = dev::hqqStart(lo, hi, s.bits);
    }

    // One solver step over all groups: updates the zero-points in place and returns the summed
    // |W - W^| of the zero-points it started from (HQQ measures the error before the update).
    float beta = opts->beta; // grows by kappa after each step, as HQQ's solver does
    auto step = [&] {
        const dev::HqqStepSettings settings = dev::hqqStepSettings(maxq, beta, opts->lpNorm);
        return tbb::parallel_reduce(
            tbb::blocked_range<std::int64_t>(0, l.groups), 0.0,
            [&](const tbb::blocked_range<std::int64_t>& r, double acc) {
                for (std::int64_t j = r.begin(); j != r.end(); ++j) {
                    dev::HqqParams& p = params[static_cast<std::size_t>(j)];
                    p.z = dev::hqqStep([&](std::int64_t k) { return w[l.index(j, k)]; },
                                       l.members(j), p, settings, acc);
                }
                return acc;
            },
            std::plus<double>());
    };

    const double n = static_cast<double>(std::max<std::int64_t>(l.n, 1));
    double best = 1e4; // HQQ's initial best_error
    for (int i = 0; i < opts->iterations && l.groups > 0; ++i) {
        const double err = step() / n;
        beta *= opts->kappa;
        if (i == 0)
            q.startMeanAbsError = err;
        q.iterationsRun = i + 1;
        if (!reportProgress(progress, static_cast<double>(i + 1) / opts->iterations))
            return cancelledError();
        if (err < best)
            best = err;
        else
            break; // as HQQ: the zero-points of this step are kept even so
    }
    q.bestMeanAbsError = best;

    q.scales.resize(static_cast<std::size_t>(l.groups));
    q.zeros.resize(static_cast<std::size_t>(l.groups));
    for (std::int64_t j = 0; j < l.groups; ++j) {
        const dev::HqqParams p = params[static_cast<std::size_t>(j)];
        for (std::int64_t k = 0; k < l.members(j); ++k) {
            const std::int64_t idx = l.index(j, k);
            q.codes[static_cast<std::size_t>(idx)] =
                static_cast<std::uint8_t>(dev::hqqCode(w[idx], p, maxq));
        }
        const dev::HqqStored stored = dev::hqqStored(p);
        q.scales[static_cast<std::size_t>(j)] = stored.scale;
        q.zeros[static_cast<std::size_t>(j)] = stored.zero;
    }
    return q;
}

std::vector<float> dequantizeHqq(const HqqQuantized& q, std::size_t elements) {
    std::vector<float> out(elements);
    Layout l{static_cast<std::int64_t>(elements), q.groupSize, q.groups, q.axis};
    for (std::int64_t j = 0; j < l.groups; ++j)
        for (std::int64_t k = 0; k < l.members(j); ++k) {
            const std::int64_t idx = l.index(j, k);
            out[static_cast<std::size_t>(idx)] =
                (static_cast<float>(q.codes[static_cast<std::size_t>(idx)]) -
                 q.zeros[static_cast<std::size_t>(j)]) *
                q.scales[static_cast<std::size_t>(j)];
        }
    return out;
}

void describeHqq(const Scheme& s, std::uint64_t elements, std::int64_t groups, int axis,
                 std::int64_t widest, float widestScale, float widestZero, int iterationsRun,
                 double startMeanAbsError, double bestMeanAbsError, QuantOutput& out) {
    out.cost.elements = elements;
    out.cost.payloadBits = elements * static_cast<std::uint64_t>(s.bits);
    out.cost.scaleBits = static_cast<std::uint64_t>(groups) * 16;
    out.cost.zeroBits = static_cast<std::uint64_t>(groups) * 16;
    if (groups > 0) {
        out.levels.clear();
        for (int c = 0; c < (1 << s.bits); ++c)
            out.levels.push_back((static_cast<float>(c) - widestZero) * widestScale);
        out.levelsNote = "levels of the widest group (" + std::to_string(widest) +
                         ", axis=" + std::to_string(axis) + ")";
    }
    out.diagnostics.push_back(
        {"hqq_iterations", static_cast<double>(iterationsRun),
         "solver iterations run (early stop when mean |error| stops falling)"});
    out.diagnostics.push_back(
        {"hqq_start_mean_abs_err", startMeanAbsError, "mean |W - W^| of the min/max start"});
    out.diagnostics.push_back(
        {"hqq_best_mean_abs_err", bestMeanAbsError, "best mean |W - W^| seen by the solver"});
}

Result<QuantOutput> quantizeHqq(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    auto q = quantizeHqqCodes(s, m, progress);
    if (!q)
        return q.error();
    QuantOutput out;
    out.reconstruction = dequantizeHqq(*q, m.size());
    std::size_t widest = 0;
    if (q->groups > 0)
        widest = static_cast<std::size_t>(std::max_element(q->scales.begin(), q->scales.end()) -
                                          q->scales.begin());
    describeHqq(s, m.size(), q->groups, q->axis, static_cast<std::int64_t>(widest),
                q->groups > 0 ? q->scales[widest] : 0.0f, q->groups > 0 ? q->zeros[widest] : 0.0f,
                q->iterationsRun, q->startMeanAbsError, q->bestMeanAbsError, out);
    return out;
}

} // namespace qs
