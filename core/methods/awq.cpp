#include "methods/awq.h"

#include "methods/method_options.h"
#include "quant/group_quant.h"
#include "quant/int_quant.h"

#include <Eigen/Dense>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

namespace qs {
namespace {

// Row-major, like the input: a scale group is a contiguous run of one row. float32, as the
// reference computes.
using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VecF = Eigen::VectorXf;

struct Settings {
    int bits = 4;
    bool sym = false;
    std::int64_t groupCols = 0;
    int grid = 20;
    bool clip = true;
};

// llm-awq's pseudo_quantize_tensor on one group, in place (NUMERICS.md §5.6).
void pseudoQuantizeGroup(float* w, std::int64_t n, int bits, bool sym) {
    if (sym) {
        float absmax = 0;
        for (std::int64_t i = 0; i < n; ++i)
            absmax = std::max(absmax, std::fabs(w[i]));
        const float maxInt = static_cast<float>((1 << (bits - 1)) - 1);
        const float minInt = -static_cast<float>(1 << (bits - 1));
        const float scale = std::max(absmax, 1e-5f) / maxInt;
        for (std::int64_t i = 0; i < n; ++i)
            w[i] = std::clamp(std::nearbyint(w[i] / scale), minInt, maxInt) * scale;
        return;
    }
    const auto [lo, hi] = std::minmax_element(w, w + n);
    const float maxq = static_cast<float>((1 << bits) - 1);
    const float scale = std::max(*hi - *lo, 1e-5f) / maxq;
    const float zero = std::clamp(-std::nearbyint(*lo / scale), 0.0f, maxq);
    for (std::int64_t i = 0; i < n; ++i)
        w[i] = (std::clamp(std::nearbyint(w[i] / scale) + zero, 0.0f, maxq) - zero) * scale;
}

void pseudoQuantize(RowMajorF& w, const Settings& st) {
    for (Eigen::Index r = 0; r < w.rows(); ++r)
        for (std::int64_t c = 0; c < w.cols(); c += st.groupCols)
            pseudoQuantizeGroup(w.row(r).data() + c, std::min(st.groupCols, w.cols() - c), st.bits,
                                st.sym);
}

Result<Settings> readSettings(const Scheme& s, std::int64_t cols) {
    if (s.granularity == Granularity::Tensor)
        return makeError("scheme " + s.toString() +
                         ": AWQ quantizes per output channel (channel) or per group (gN), "
                         "not per tensor");
    auto grid = numericOption(s, "grid", 20, 1, 1000);
    if (!grid)
        return grid.error();
    Settings st;
    st.bits = s.bits;
    st.sym = s.symmetric;
    st.groupCols = s.granularity == Granularity::Channel ? cols : s.groupSize;
    st.grid = static_cast<int>(*grid);
    st.clip = !flagOption(s, "no_clip");
    return st;
}

// auto_scale: the per-input-channel scale whose quantized layer best reproduces X W^T.
VecF searchScale(const RowMajorF& W, const Eigen::Map<const RowMajorF>& X, const Settings& st,
                 double& bestRatio, const ProgressFn& progress, bool& cancelled) {
    const VecF xMean = X.cwiseAbs().colwise().mean().transpose();
    VecF best = VecF::Ones(W.cols());
    double bestLoss = std::numeric_limits<double>::infinity();
    const double outputs = static_cast<double>(X.rows()) * static_cast<double>(W.rows());
    for (int i = 0; i < st.grid; ++i) {
        const float ratio = static_cast<float>(i) / static_cast<float>(st.grid);
        VecF s = xMean.array().pow(ratio).max(1e-4f).matrix();
        s /= std::sqrt(s.maxCoeff() * s.minCoeff());
        RowMajorF q = W * s.asDiagonal();
        pseudoQuantize(q, st);
        q = q.array().rowwise() / s.transpose().array();
        // The output difference directly: X (Q - W)^T, not X Q^T - X W^T, to avoid cancellation.
        const double loss = (X * (q - W).transpose()).squaredNorm() / outputs;
        if (loss < bestLoss) {
            bestLoss = loss;
            bestRatio = ratio;
            best = s;
        }
        if (!reportProgress(progress, 0.5 * (i + 1) / st.grid)) {
            cancelled = true;
            return best;
        }
    }
    return best;
}

// auto_clip on the scaled weight Ws with the scaled inputs Xs (every `step`-th token): per row
// and group, clamp to the shrunken absmax with the least output error of the group.
bool searchClip(RowMajorF& Ws, const RowMajorF& Xs, const Settings& st, std::int64_t& clipped,
                const ProgressFn& progress) {
    constexpr int kGrid = 20, kSteps = kGrid / 2; // max_shrink 0.5 of a grid of 20
    const Eigen::Index cols = Ws.cols(), tokens = Xs.rows();
    const std::int64_t groups = (cols + st.groupCols - 1) / st.groupCols;
    // mean_t (x_g . d)^2 = d^T G d / T with G = X_g^T X_g: cheaper when groups are narrower
    // than the token count; wide (per channel) groups multiply by X_g directly.
    const bool useGram = st.groupCols <= tokens;
    std::vector<Eigen::MatrixXf> gram;
    if (useGram)
        for (std::int64_t g = 0; g < groups; ++g) {
            const auto xg =
                Xs.middleCols(g * st.groupCols, std::min(st.groupCols, cols - g * st.groupCols));
            gram.emplace_back(xg.transpose() * xg);
        }
    std::atomic<std::int64_t> clippedCount{0};
    const bool done = parallelRows(Ws.rows(), progress, [&](std::int64_t r0, std::int64_t r1) {
        VecF w, q, d;
        for (std::int64_t r = r0; r < r1; ++r)
            for (std::int64_t g = 0; g < groups; ++g) {
                const std::int64_t c0 = g * st.groupCols, n = std::min(st.groupCols, cols - c0);
                auto row = Ws.row(r).segment(c0, n);
                w = row.transpose();
                const float orgMax = w.cwiseAbs().maxCoeff();
                float bestMax = orgMax;
                double minErr = std::numeric_limits<double>::infinity();
                for (int i = 0; i < kSteps; ++i) {
                    const float maxVal = orgMax * (1.0f - static_cast<float>(i) / kGrid);
                    q = w.cwiseMax(-maxVal).cwiseMin(maxVal);
                    pseudoQuantizeGroup(q.data(), n, st.bits, st.sym);
                    d = q - w;
                    const double err =
                        useGram ? static_cast<double>(d.dot(gram[static_cast<std::size_t>(g)] * d))
                                : static_cast<double>((Xs.middleCols(c0, n) * d).squaredNorm());
                    if (err < minErr) {
                        minErr = err;
                        bestMax = maxVal;
                    }
                }
                if (bestMax < orgMax) {
                    row = row.cwiseMax(-bestMax).cwiseMin(bestMax);
                    ++clippedCount;
                }
            }
    });
    clipped = clippedCount.load();
    return done;
}

} // namespace

Result<AwqScales> awqScaleSearch(const Scheme& s, MatrixView wv, MatrixView xv,
                                 const ProgressFn& progress) {
    auto settings = readSettings(s, wv.cols);
    if (!settings)
        return settings.error();
    if (xv.cols != wv.cols || wv.size() == 0 || xv.rows == 0)
        return makeError("AWQ needs activations with one column per weight column");
    const RowMajorF W = Eigen::Map<const RowMajorF>(wv.data, wv.rows, wv.cols);
    const Eigen::Map<const RowMajorF> X(xv.data, xv.rows, xv.cols);
    AwqScales out;
    bool cancelled = false;
    const VecF scale = searchScale(W, X, *settings, out.ratio,
                                   [&](double f) { return reportProgress(progress, 2 * f); },
                                   cancelled);
    if (cancelled)
        return cancelledError();
    const VecF meanAbs = X.cwiseAbs().colwise().mean().transpose();
    out.scale.assign(scale.data(), scale.data() + scale.size());
    out.meanAbs.assign(meanAbs.data(), meanAbs.data() + meanAbs.size());
    return out;
}

Result<QuantOutput> quantizeAwq(const Scheme& s, MatrixView wv, MatrixView xv,
                                const ProgressFn& progress) {
    auto settings = readSettings(s, wv.cols);
    if (!settings)
        return settings.error();
    const Settings& st = *settings;
    QuantOutput out;
    out.cost = intStorageCost(s, wv.rows, wv.cols);
    if (wv.size() == 0)
        return out;
    const RowMajorF W = Eigen::Map<const RowMajorF>(wv.data, wv.rows, wv.cols);
    const Eigen::Map<const RowMajorF> X(xv.data, xv.rows, xv.cols);

    double ratio = 0;
    bool cancelled = false;
    const VecF scale = searchScale(W, X, st, ratio, progress, cancelled);
    if (cancelled)
        return cancelledError();
    RowMajorF Ws = W * scale.asDiagonal();
    std::int64_t clipped = 0;
    if (st.clip) {
        // Up to 512 tokens, evenly strided from the first, as auto_clip samples them.
        const Eigen::Index step = std::max<Eigen::Index>(1, xv.rows / 512);
        const Eigen::Index sampled = (xv.rows + step - 1) / step;
        RowMajorF Xs(sampled, xv.cols);
        for (Eigen::Index t = 0; t < sampled; ++t)
            Xs.row(t) = X.row(t * step).array() / scale.transpose().array();
        const bool done = searchClip(
            Ws, Xs, st, clipped, [&](double f) { return reportProgress(progress, 0.5 + 0.5 * f); });
        if (!done)
            return cancelledError();
    }
    pseudoQuantize(Ws, st);
    Ws = Ws.array().rowwise() / scale.transpose().array();
    out.reconstruction.assign(Ws.data(), Ws.data() + Ws.size());
    out.diagnostics.push_back({"awq_ratio", ratio, "chosen exponent of the activation scale"});
    out.diagnostics.push_back({"awq_scale_spread",
                               static_cast<double>(scale.maxCoeff() / scale.minCoeff()),
                               "largest over smallest per-channel scale"});
    if (st.clip) {
        const std::int64_t groups = wv.rows * ((wv.cols + st.groupCols - 1) / st.groupCols);
        out.diagnostics.push_back({"clipped_groups",
                                   static_cast<double>(clipped) / static_cast<double>(groups),
                                   "share of groups whose range the clip search narrowed"});
    }
    return out;
}

} // namespace qs
