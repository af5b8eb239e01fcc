#include "workers/compare_job.h"

#include "metrics/histogram.h"
#include "workers/tensor_job.h"

#include <algorithm>
#include <exception>

namespace qs {
namespace {

constexpr std::size_t kScatterPoints = 3000; // per scheme, plus the largest errors

CompareUpdate failure(const QString& tensor, const Error& error) {
    CompareUpdate u;
    u.stage = CompareUpdate::Stage::Failed;
    u.tensor = tensor;
    u.cancelled = error.kind == ErrorKind::Cancelled;
    u.error = QString::fromStdString(error.message);
    return u;
}

CompareResult analyse(const CompareRequest& req, MatrixView view, const Scheme& scheme, int slot,
                      const HistogramPlot& weights, const ProgressFn& progress, bool& cancelled) {
    CompareResult r;
    r.scheme = scheme;
    AnalysisOptions options;
    options.keepReconstruction = true;
    std::optional<ActivationSource> scratch;
    std::optional<ImportanceWeights> importance;
    auto run = [&]() -> Result<TensorAnalysis> {
        // Every scheme with the activations: the table compares their output errors.
        if (auto st = layerInputs(req.activations.get(), req.tensor, scheme, view.cols, options,
                                  scratch, importance, true);
            !st)
            return st.error();
        return analyzeTensor(view, scheme, options, progress);
    };
    auto a = run();
    if (!a) {
        cancelled = a.error().kind == ErrorKind::Cancelled;
        r.status = isNotApplicable(a.error()) ? CompareResult::Status::NotApplicable
                                              : CompareResult::Status::Failed;
        r.message = QString::fromStdString(a.message());
        return r;
    }
    r.error = a->error;
    r.outputError = a->outputError;
    r.cost = a->cost;
    r.levels = std::move(a->levels);
    r.levelsNote = QString::fromStdString(a->levelsNote);
    r.diagnostics = std::move(a->diagnostics);
    if (!weights.isEmpty())
        r.staircase = buildStaircase(r.levels, weights.lo, weights.hi);
    r.levelLines = buildLevelLines(r.levels);
    r.levelRug = buildLevelLines(r.levels, compareLaneLow(slot), compareLaneHigh(slot));
    r.errorMap = computeErrorMap(view, a->reconstruction);
    const auto samples = sampleErrors(view, a->reconstruction, kScatterPoints);
    r.scatter.reserve(static_cast<qsizetype>(samples.size()));
    for (const ErrorSample& s : samples)
        r.scatter.append(QPointF(s.value, s.error));
    return r;
}

void runStages(QPromise<CompareUpdate>& promise, const CompareRequest& req,
               const std::atomic<bool>& cancel) {
    const QString name = QString::fromStdString(req.tensor.name);
    auto values = req.values;
    CompareUpdate v;
    v.stage = CompareUpdate::Stage::Values;
    v.tensor = name;
    if (!values) {
        auto read = req.checkpoint->readFloat(req.tensor);
        if (!read) {
            promise.addResult(failure(name, read.error()));
            return;
        }
        values = std::make_shared<const std::vector<float>>(std::move(read.value()));
    }
    v.values = values;
    v.weights = std::make_shared<const HistogramPlot>(
        buildHistogramPlot(computeHistogram(*values, kHistogramBins)));
    const auto weights = v.weights;
    promise.addResult(std::move(v));

    const MatrixView view = matrixView(req.tensor, *values);
    const double share = 1.0 / static_cast<double>(std::max<size_t>(1, req.schemes.size()));
    for (size_t i = 0; i < req.schemes.size(); ++i) {
        if (cancel.load()) {
            promise.addResult(failure(name, cancelledError()));
            return;
        }
        const double from = static_cast<double>(i) * share;
        const ProgressFn progress = [&promise, &cancel, from, share](double f) {
            const double total = from + share * std::clamp(f, 0.0, 1.0);
            promise.setProgressValue(static_cast<int>(total * kJobProgressRange));
            return !cancel.load(std::memory_order_relaxed);
        };
        bool cancelled = false;
        CompareUpdate u;
        u.stage = CompareUpdate::Stage::Scheme;
        u.tensor = name;
        u.slot = static_cast<int>(i);
        u.result = std::make_shared<const CompareResult>(
            analyse(req, view, req.schemes[i], static_cast<int>(i), *weights, progress, cancelled));
        if (cancelled) {
            promise.addResult(failure(name, cancelledError()));
            return;
        }
        promise.addResult(std::move(u));
    }
    promise.setProgressValue(kJobProgressRange);
}

} // namespace

void runCompareJob(QPromise<CompareUpdate>& promise, const CompareRequest& request,
                   std::shared_ptr<const std::atomic<bool>> cancel) {
    promise.setProgressRange(0, kJobProgressRange);
    const QString name = QString::fromStdString(request.tensor.name);
    runGuarded(
        promise, request.tensor.name, "comparison", "comparing",
        [&name](const Error& e) { return failure(name, e); },
        [&] {
            if (!request.checkpoint)
                promise.addResult(failure(name, makeError("no checkpoint is open")));
            else
                runStages(promise, request, *cancel);
        });
}

} // namespace qs
