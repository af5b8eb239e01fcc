#include "methods/smoothquant.h"

#include "methods/method_options.h"
#include "quant/int_quant.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>

namespace qs {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// SmoothQuant's dynamic activation quantizer: per token (row), symmetric, absmax / 127, RNE.
RowMajor quantizeTokens(const RowMajor& x) {
    RowMajor q = x;
    for (Eigen::Index r = 0; r < q.rows(); ++r) {
        const float scale = q.row(r).cwiseAbs().maxCoeff() / 127.0f;
        if (scale > 0)
            for (Eigen::Index c = 0; c < q.cols(); ++c)
                q(r, c) = std::nearbyint(q(r, c) / scale) * scale;
    }
    return q;
}

double relError(const Eigen::MatrixXd& ref, const Eigen::MatrixXd& approx) {
    const double n = ref.norm();
    return n > 0 ? (ref - approx).norm() / n : 0.0;
}

} // namespace

std::vector<float> smoothQuantScales(MatrixView w, MatrixView x, double alpha) {
    std::vector<float> s(static_cast<std::size_t>(w.cols));
    for (std::int64_t j = 0; j < w.cols; ++j) {
        float xmax = 0, wmax = 0;
        for (std::int64_t t = 0; t < x.rows; ++t)
            xmax = std::max(xmax, std::fabs(x.data[t * x.cols + j]));
        for (std::int64_t r = 0; r < w.rows; ++r)
            wmax = std::max(wmax, std::fabs(w.data[r * w.cols + j]));
        const double v = std::pow(static_cast<double>(xmax), alpha) /
                         std::pow(std::max(static_cast<double>(wmax), 1e-5), 1.0 - alpha);
        s[static_cast<std::size_t>(j)] = static_cast<float>(std::max(v, 1e-5));
    }
    return s;
}

Result<QuantOutput> quantizeSmoothQuant(const Scheme& s, MatrixView w, MatrixView x,
                                        const ProgressFn& progress) {
    auto alpha = numericOption(s, "alpha", 0.5, 0.0, 1.0);
    if (!alpha)
        return alpha.error();
    const std::vector<float> scales = smoothQuantScales(w, x, *alpha);
    const Eigen::Map<const RowMajor> W(w.data, w.rows, w.cols);
    const Eigen::Map<const RowMajor> X(x.data, x.rows, x.cols);
    const Eigen::Map<const Eigen::RowVectorXf> S(scales.data(), w.cols);
    const RowMajor smoothedW = W.array().rowwise() * S.array();
    const RowMajor smoothedX = X.array().rowwise() / S.array();

    Scheme intScheme = s;
    intScheme.family = "int";
    intScheme.extra.clear();
    const MatrixView sw{smoothedW.data(), w.rows, w.cols};
    auto q =
        quantizeInt(intScheme, sw, [&](double f) { return reportProgress(progress, 0.8 * f); });
    if (!q)
        return q.error();
    const Eigen::Map<const RowMajor> QW(q->reconstruction.data(), w.rows, w.cols);
    const RowMajor effective = QW.array().rowwise() / S.array();

    // The same int quantizer on the unsmoothed weights, for the "without smoothing" figures.
    auto plain = quantizeInt(intScheme, w, {});
    if (!plain)
        return plain.error();
    const Eigen::Map<const RowMajor> PW(plain->reconstruction.data(), w.rows, w.cols);

    const Eigen::MatrixXd Xd = X.cast<double>();
    const Eigen::MatrixXd Y = Xd * W.cast<double>().transpose();
    const RowMajor qx = quantizeTokens(smoothedX), qxPlain = quantizeTokens(X);
    const Eigen::MatrixXd ySmooth = qx.cast<double>() * QW.cast<double>().transpose();
    const Eigen::MatrixXd yPlain = qxPlain.cast<double>() * PW.cast<double>().transpose();

    QuantOutput out;
    out.reconstruction.assign(effective.data(), effective.data() + effective.size());
    out.cost = q->cost;
    out.levelsNote = "levels of the smoothed weights W diag(s): " + q->levelsNote;
    out.levels = std::move(q->levels);
    out.diagnostics = {
        {"alpha", *alpha, "migration strength"},
        {"act_rel_err", relError(smoothedX.cast<double>(), qx.cast<double>()),
         "A8 per-token error of the smoothed activations"},
        {"act_rel_err_unsmoothed", relError(Xd, qxPlain.cast<double>()),
         "A8 per-token error of the original activations"},
        {"w8a8_out_rel_err", relError(Y, ySmooth),
         "layer output error, quantized weights and activations"},
        {"w8a8_out_rel_err_unsmoothed", relError(Y, yPlain), "the same without smoothing"},
        {"smoothing_spread",
         *std::max_element(scales.begin(), scales.end()) /
             *std::min_element(scales.begin(), scales.end()),
         "largest over smallest smoothing factor"},
    };
    if (!reportProgress(progress, 1.0))
        return cancelledError();
    return out;
}

} // namespace qs
