#include "analysis/tensor_analysis.h"

#include "analysis/compute_backend.h"
#include "analysis/fused_analysis.h"
#include "metrics/output_error.h"
#include "util/buffer_recycler.h"

#include <algorithm>

namespace qs {

MatrixView matrixView(const TensorInfo& t, const std::vector<float>& values) {
    return MatrixView{values.data(), t.rows(), t.cols()};
}

namespace {

// The output error needs the reconstruction, so the fused paths keep it then. The device engine
// runs what it covers; when it fails, the CPU does it and a diagnostic says so.
std::optional<Result<FusedResult>> tryFused(MatrixView w, const Scheme& scheme,
                                            const AnalysisOptions& options,
                                            const ProgressFn& progress, std::string& backend,
                                            std::optional<Diagnostic>& fallback) {
    FusedRequest request;
    request.errorHistogramBins = options.histogramBins;
    // (An importance matrix's output error needs it only where the entry fits the tensor: an
    // embedding without one should not keep a reconstruction of a gigabyte for nothing.)
    request.keepReconstruction =
        options.keepReconstruction || options.activations != nullptr ||
        (options.importance &&
         static_cast<std::int64_t>(options.importance->values.size()) == w.cols);
    request.tensorRange = options.tensorRange;
    const ProgressFn scaled = [&](double f) { return reportProgress(progress, 0.95 * f); };
    if (DeviceEngine* device = activeDeviceEngine();
        device && device->covers(scheme, w.rows, w.cols)) {
        auto r = device->analyze(scheme, w, request, scaled);
        if (r && (*r || r->error().kind == ErrorKind::Cancelled)) {
            backend = "cuda";
            return r;
        }
        if (r)
            fallback =
                Diagnostic{"cpu_fallback", 1,
                           "the CUDA engine failed (" + r->message() + "); computed on the CPU"};
    }
    backend = "cpu";
    return analyzeFused(scheme, w, request, scaled);
}
} // namespace

Result<TensorAnalysis> analyzeTensor(MatrixView w, const Scheme& scheme,
                                     const AnalysisOptions& options, const ProgressFn& progress) {
    std::span<const float> orig(w.data, w.size());
    FusedResult r;
    std::string backend;
    std::optional<Diagnostic> fallback;
    if (auto fused = tryFused(w, scheme, options, progress, backend, fallback)) {
        if (!*fused)
            return fused->error();
        r = std::move(fused->value());
    } else if (options.tensorRange && fusedTakesTensorRange(scheme)) {
        // The plain path would take these rows' own range.
        return makeError(scheme.toString() + ": rows of this tensor cannot be analysed apart",
                         ErrorKind::NotApplicable);
    } else {
        auto q = quantize(
            scheme, w, [&](double f) { return reportProgress(progress, 0.9 * f); },
            options.activations, options.importance);
        if (!q)
            return q.error();
        r.output = std::move(q.value());
        r.error = computeErrorMetrics(orig, r.output.reconstruction);
        if (options.histogramBins > 0)
            r.errorHistogram =
                computeDifferenceHistogram(orig, r.output.reconstruction, options.histogramBins);
    }
    TensorAnalysis a;
    a.scheme = scheme;
    a.cost = r.output.cost;
    a.levels = std::move(r.output.levels);
    std::sort(a.levels.begin(), a.levels.end());
    a.levelsNote = std::move(r.output.levelsNote);
    a.diagnostics = std::move(r.output.diagnostics);
    if (fallback)
        a.diagnostics.push_back(*fallback);
    a.backend = backend;
    a.error = r.error;
    if (options.histogramBins > 0) {
        if (options.weightHistogram)
            a.weightHistogram = computeHistogram(orig, options.histogramBins);
        a.errorHistogram = std::move(r.errorHistogram);
    }
    if (options.activations && options.activations->cols == w.cols) {
        auto out = outputErrorSums(*options.activations, w, r.output.reconstruction.data(),
                                   options.outputReference);
        if (out)
            a.outputError = *out;
    } else if (options.importance &&
               static_cast<std::int64_t>(options.importance->values.size()) == w.cols) {
        auto out =
            importanceErrorSums(options.importance->values, w, r.output.reconstruction.data());
        if (out)
            a.outputError = *out;
    }
    if (options.keepReconstruction)
        a.reconstruction = std::move(r.output.reconstruction);
    else
        recycleFloatBuffer(std::move(r.output.reconstruction)); // for the next analysis
    if (!reportProgress(progress, 1.0))
        return cancelledError();
    return a;
}

Result<std::vector<BitSweepPoint>> sweepBits(MatrixView w, const Scheme& scheme, int minBits,
                                             int maxBits, const ProgressFn& progress,
                                             const MatrixView* activations,
                                             const ImportanceWeights* importance) {
    const FamilyInfo* f = findFamily(scheme.family);
    if (!f)
        return makeError("unknown scheme family '" + scheme.family + "'");
    std::vector<Scheme> widths;
    if (f->fixedBits()) {
        for (std::string_view sibling : fixedWidthLadder(scheme.family)) {
            const FamilyInfo* g = findFamily(sibling);
            if (!g || !g->implemented())
                continue;
            Scheme s = scheme;
            s.family = std::string(sibling);
            s.bits = g->elementBits;
            widths.push_back(std::move(s));
        }
    } else {
        for (int b = std::max(minBits, f->minBits); b <= std::min(maxBits, f->maxBits); ++b) {
            Scheme s = scheme;
            s.bits = b;
            widths.push_back(std::move(s));
        }
    }
    std::vector<BitSweepPoint> points;
    std::span<const float> orig(w.data, w.size());
    // With inputs each width's output error too, through analyzeTensor (the fused paths keep a
    // reconstruction only for it), ||XW^T||^2 computed once.
    AnalysisOptions withInputs;
    withInputs.activations = activations && activations->cols == w.cols ? activations : nullptr;
    withInputs.importance =
        importance && static_cast<std::int64_t>(importance->values.size()) == w.cols ? importance
                                                                                     : nullptr;
    if (withInputs.activations) {
        auto ref = outputReference(*activations, w);
        if (!ref)
            return ref.error();
        withInputs.outputReference = *ref;
    }
    for (size_t i = 0; i < widths.size(); ++i) {
        const Scheme& s = widths[i];
        const bool sibling = s.family != scheme.family;
        const double base = static_cast<double>(i) / static_cast<double>(widths.size());
        const ProgressFn step = [&](double frac) {
            return reportProgress(progress, base + frac / static_cast<double>(widths.size()));
        };
        // The fused paths (device or CPU) where they cover the width: the sums without a
        // reconstruction in memory (a 33 M-weight tensor's is 128 MiB per width).
        std::string backend;
        std::optional<Diagnostic> fallback;
        // A sibling that does not apply (q2_k's 256-blocks on rows of 64), or not with this
        // scheme's options, is left out: only the scheme's own width is the user's question.
        auto skipped = [&](const Error& e) { return sibling && e.kind != ErrorKind::Cancelled; };
        if (withInputs.activations || withInputs.importance) { // the output's SNR too
            auto a = analyzeTensor(w, s, withInputs, step);
            if (!a) {
                if (skipped(a.error()))
                    continue;
                return a.error();
            }
            BitSweepPoint p{s.bits, a->error.sqnrDb(), a->cost.bitsPerWeight(), s.toString()};
            if (a->outputError)
                p.outputSnrDb = sqnrDbFromSums(a->outputError->ref, a->outputError->err);
            points.push_back(std::move(p));
            continue;
        }
        if (auto fused = tryFused(w, s, AnalysisOptions{}, step, backend, fallback)) {
            if (!*fused) {
                if (skipped(fused->error()))
                    continue;
                return fused->error();
            }
            points.push_back({s.bits, fused->value().error.sqnrDb(),
                              fused->value().output.cost.bitsPerWeight(), s.toString()});
            continue;
        }
        auto q = quantize(s, w, step, activations, importance);
        if (!q) {
            if (skipped(q.error()))
                continue;
            return q.error();
        }
        const auto m = computeErrorMetrics(orig, q->reconstruction);
        points.push_back({s.bits, m.sqnrDb(), q->cost.bitsPerWeight(), s.toString()});
    }
    return points;
}

} // namespace qs
