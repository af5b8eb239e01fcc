#include "analysis/tensor_analysis.h"

#include "metrics/output_error.h"

#include <algorithm>

namespace qs {

MatrixView matrixView(const TensorInfo& t, const std::vector<float>& values) {
    return MatrixView{values.data(), t.rows(), t.cols()};
}

Result<TensorAnalysis> analyzeTensor(MatrixView w, const Scheme& scheme,
                                     const AnalysisOptions& options, const ProgressFn& progress) {
    auto q = quantize(
        scheme, w, [&](double f) { return reportProgress(progress, 0.9 * f); },
        options.activations);
    if (!q)
        return q.error();
    std::span<const float> orig(w.data, w.size());
    TensorAnalysis a;
    a.scheme = scheme;
    a.cost = q->cost;
    a.levels = std::move(q->levels);
    std::sort(a.levels.begin(), a.levels.end());
    a.levelsNote = std::move(q->levelsNote);
    a.diagnostics = std::move(q->diagnostics);
    a.error = computeErrorMetrics(orig, q->reconstruction);
    if (options.histogramBins > 0) {
        a.weightHistogram = computeHistogram(orig, options.histogramBins);
        a.errorHistogram =
            computeDifferenceHistogram(orig, q->reconstruction, options.histogramBins);
    }
    if (options.activations && options.activations->cols == w.cols) {
        auto out = outputRelativeError(*options.activations, w, q->reconstruction.data());
        if (out)
            a.outputRelError = *out;
    }
    if (options.keepReconstruction)
        a.reconstruction = std::move(q->reconstruction);
    if (!reportProgress(progress, 1.0))
        return cancelledError();
    return a;
}

Result<std::vector<BitSweepPoint>> sweepBits(MatrixView w, const Scheme& scheme, int minBits,
                                             int maxBits, const ProgressFn& progress,
                                             const MatrixView* activations) {
    const FamilyInfo* f = findFamily(scheme.family);
    if (!f)
        return makeError("unknown scheme family '" + scheme.family + "'");
    std::vector<int> widths;
    if (f->fixedBits()) {
        widths.push_back(scheme.bits);
    } else {
        for (int b = std::max(minBits, f->minBits); b <= std::min(maxBits, f->maxBits); ++b)
            widths.push_back(b);
    }
    std::vector<BitSweepPoint> points;
    std::span<const float> orig(w.data, w.size());
    for (size_t i = 0; i < widths.size(); ++i) {
        Scheme s = scheme;
        s.bits = widths[i];
        const double base = static_cast<double>(i) / static_cast<double>(widths.size());
        auto q = quantize(
            s, w,
            [&](double frac) {
                return reportProgress(progress, base + frac / static_cast<double>(widths.size()));
            },
            activations);
        if (!q)
            return q.error();
        const auto m = computeErrorMetrics(orig, q->reconstruction);
        points.push_back({widths[i], m.sqnrDb(), q->cost.bitsPerWeight()});
    }
    return points;
}

} // namespace qs
