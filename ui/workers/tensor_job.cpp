#include "workers/tensor_job.h"

#include "analysis/fused_analysis.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <optional>

namespace qs {
namespace {

// Maps one stage's [0, 1] progress onto its slice of the job and checks the cancel flag.
ProgressFn stageProgress(QPromise<TensorUpdate>& promise, const std::atomic<bool>& cancel,
                         double from, double to) {
    return [&promise, &cancel, from, to](double f) {
        const double total = from + (to - from) * std::clamp(f, 0.0, 1.0);
        promise.setProgressValue(static_cast<int>(total * kJobProgressRange));
        return !cancel.load(std::memory_order_relaxed);
    };
}

TensorUpdate failure(const QString& tensor, const Error& error) {
    TensorUpdate u;
    u.stage = TensorUpdate::Stage::Failed;
    u.tensor = tensor;
    u.cancelled = error.kind == ErrorKind::Cancelled;
    u.notApplicable = isNotApplicable(error);
    u.error = QString::fromStdString(error.message);
    return u;
}

// The analysis of a sample of whole rows, handed out as a preview. Whatever goes wrong here
// (a format that needs more rows, say) is left for the exact analysis to report.
void runPreview(QPromise<TensorUpdate>& promise, const QString& name, MatrixView view,
                const std::vector<std::int64_t>& rows, const Scheme& scheme,
                const AnalysisOptions& options, const std::atomic<bool>& cancel) {
    std::vector<float> sample(rows.size() * static_cast<std::size_t>(view.cols));
    for (std::size_t k = 0; k < rows.size(); ++k)
        std::copy_n(view.data + rows[k] * view.cols, view.cols,
                    sample.begin() + static_cast<std::ptrdiff_t>(k) * view.cols);
    const MatrixView part{sample.data(), static_cast<std::int64_t>(rows.size()), view.cols};
    // A scale over the whole tensor is the tensor's, not the sample's: the preview's levels are
    // then the exact ones, and its sampled rows' codes too.
    AnalysisOptions sampleOptions = options;
    if (fusedTakesTensorRange(scheme))
        sampleOptions.tensorRange = finiteRange(view.data, static_cast<std::int64_t>(view.size()));
    auto analysis = analyzeTensor(part, scheme, sampleOptions, [&cancel](double) {
        return !cancel.load(std::memory_order_relaxed);
    });
    if (!analysis || cancel.load())
        return;
    // The cost as the whole tensor's: every row costs what the sampled rows cost on average,
    // and what the tensor stores once, once.
    StorageCost& c = analysis->cost;
    const StorageCost once = perTensorCost(scheme, c);
    const double scale = static_cast<double>(view.rows) / static_cast<double>(part.rows);
    auto scaled = [&](std::uint64_t bits, std::uint64_t tensorBits) {
        return tensorBits + static_cast<std::uint64_t>(
                                std::llround(static_cast<double>(bits - tensorBits) * scale));
    };
    c.payloadBits = scaled(c.payloadBits, once.payloadBits);
    c.scaleBits = scaled(c.scaleBits, once.scaleBits);
    c.zeroBits = scaled(c.zeroBits, once.zeroBits);
    c.extraBits = scaled(c.extraBits, once.extraBits);
    c.elements = static_cast<std::uint64_t>(view.size());
    AnalysisPlots plots = buildAnalysisPlots(analysis.value());
    plots.previewRows = part.rows;
    plots.totalRows = view.rows;
    TensorUpdate a;
    a.stage = TensorUpdate::Stage::Analysis;
    a.tensor = name;
    a.plots = std::make_shared<const AnalysisPlots>(std::move(plots));
    a.analysis = std::make_shared<const TensorAnalysis>(std::move(analysis.value()));
    promise.addResult(std::move(a));
}

void runStages(QPromise<TensorUpdate>& promise, const TensorRequest& req,
               const std::atomic<bool>& cancel) {
    const QString name = QString::fromStdString(req.tensor.name);
    auto values = req.values;
    if (!values) {
        auto read = req.checkpoint->readFloat(req.tensor);
        if (!read) {
            promise.addResult(failure(name, read.error()));
            return;
        }
        values = std::make_shared<const std::vector<float>>(std::move(read.value()));
        TensorUpdate u;
        u.stage = TensorUpdate::Stage::Values;
        u.tensor = name;
        u.values = values;
        u.stats = computeDistributionStats(*values);
        promise.addResult(std::move(u));
    }
    promise.setProgressValue(kJobProgressRange / 10);
    if (cancel.load()) {
        promise.addResult(failure(name, cancelledError()));
        return;
    }

    const MatrixView view = matrixView(req.tensor, *values);
    AnalysisOptions options;
    options.histogramBins = kHistogramBins;
    std::optional<ActivationSource> generated;
    std::optional<ImportanceWeights> importance;
    if (auto st = layerInputs(req.activations.get(), req.tensor, req.scheme, view.cols, options,
                              generated, importance);
        !st) {
        promise.addResult(failure(name, st.error()));
        return;
    }
    if (const auto rows = previewRows(view); !rows.empty())
        runPreview(promise, name, view, rows, req.scheme, options, cancel);
    auto analysis =
        analyzeTensor(view, req.scheme, options, stageProgress(promise, cancel, 0.1, 0.35));
    if (!analysis) {
        promise.addResult(failure(name, analysis.error()));
        return;
    }
    TensorUpdate a;
    a.stage = TensorUpdate::Stage::Analysis;
    a.tensor = name;
    a.plots = std::make_shared<const AnalysisPlots>(buildAnalysisPlots(analysis.value()));
    a.analysis = std::make_shared<const TensorAnalysis>(std::move(analysis.value()));
    promise.addResult(std::move(a));

    auto sweep = sweepBits(view, req.scheme, kSweepMinBits, kSweepMaxBits,
                           stageProgress(promise, cancel, 0.35, 1.0), options.activations,
                           options.importance);
    if (!sweep) {
        promise.addResult(failure(name, sweep.error()));
        return;
    }
    TensorUpdate s;
    s.stage = TensorUpdate::Stage::Sweep;
    s.tensor = name;
    s.sweep = std::make_shared<const SweepPlot>(buildSweepPlot(sweep.value(), req.scheme));
    promise.addResult(std::move(s));
    promise.setProgressValue(kJobProgressRange);
}

} // namespace

std::vector<std::int64_t> previewRows(MatrixView view) {
    if (static_cast<std::int64_t>(view.size()) <= kPreviewAbove || view.rows < 8)
        return {};
    const std::int64_t want = std::clamp<std::int64_t>(
        kPreviewElements / std::max<std::int64_t>(view.cols, 1), 1, view.rows / 4);
    std::vector<std::int64_t> rows(static_cast<std::size_t>(want));
    for (std::int64_t k = 0; k < want; ++k)
        rows[static_cast<std::size_t>(k)] = k * view.rows / want;
    return rows;
}

const MatrixView* layerActivations(const ActivationSource* source, std::int64_t features,
                                   std::optional<ActivationSource>& scratch) {
    if (source && source->syntheticSpec()) {
        scratch = ActivationSource::synthetic(*source->syntheticSpec(), source->label());
        scratch->prepare({features});
        source = &*scratch;
    }
    return source ? source->forFeatures(features) : nullptr;
}

Status layerInputs(const ActivationSource* source, const TensorInfo& tensor, const Scheme& scheme,
                   std::int64_t features, AnalysisOptions& options,
                   std::optional<ActivationSource>& scratch,
                   std::optional<ImportanceWeights>& importance, bool always) {
    if (source && source->imatrix()) {
        // Cheap (a weighted sum): every scheme gets the output error the file implies.
        importance = source->imatrix()->weightsFor(tensor.name);
        options.importance = &*importance;
        if (needsActivations(scheme) && findFamily(scheme.family)->kind != FamilyKind::GgmlBlock)
            return makeError(scheme.toString() + " needs the activations themselves; the Model "
                                                 "tab has an importance matrix");
        return Ok{};
    }
    const bool needed = needsActivations(scheme);
    if (!needed && !always) // a matrix product per change: only where it is asked for
        return Ok{};
    options.activations = layerActivations(source, features, scratch);
    if (!options.activations && needed)
        return makeError(scheme.toString() + kChooseActivations);
    return Ok{};
}

bool isNotApplicable(const Error& error) {
    return error.kind == ErrorKind::NotApplicable;
}

void runTensorJob(QPromise<TensorUpdate>& promise, const TensorRequest& request,
                  std::shared_ptr<const std::atomic<bool>> cancel) {
    promise.setProgressRange(0, kJobProgressRange);
    const QString name = QString::fromStdString(request.tensor.name);
    runGuarded(
        promise, request.tensor.name, "analysis", "analysing",
        [&name](const Error& e) { return failure(name, e); },
        [&] {
            if (!request.checkpoint)
                promise.addResult(failure(name, makeError("no checkpoint is open")));
            else
                runStages(promise, request, *cancel);
        });
}

} // namespace qs
