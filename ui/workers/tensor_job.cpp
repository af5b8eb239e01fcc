#include "workers/tensor_job.h"

#include <algorithm>
#include <exception>

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
                           stageProgress(promise, cancel, 0.35, 1.0));
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
