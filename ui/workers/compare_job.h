#pragma once
// The background work of the Compare tab: one tensor under up to three schemes. Decodes the
// tensor (unless its values are cached), histograms it once, then analyses each scheme in turn
// and hands each out as soon as it is ready (QPromise::addResult), with the point lists its
// charts need. Runs on a pool thread; touches no widget and throws nothing.

#include "analysis/tensor_analysis.h"
#include "charts/plot_data.h"
#include "io/checkpoint.h"
#include "methods/activation_source.h"
#include "metrics/error_map.h"
#include "metrics/output_error.h"

#include <QPromise>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

namespace qs {

struct CompareRequest {
    std::shared_ptr<const Checkpoint> checkpoint;
    TensorInfo tensor;
    std::vector<Scheme> schemes;
    std::shared_ptr<const std::vector<float>> values; // cached values of `tensor`, or null
    // The Model tab's activations (or importance matrix): schemes that need them run with them,
    // and results get an output error where they give one (layerInputs).
    std::shared_ptr<const ActivationSource> activations;
};

// One scheme's outcome on the tensor.
struct CompareResult {
    enum class Status { Ok, NotApplicable, Failed };
    Status status = Status::Ok;
    Scheme scheme;
    QString message; // NotApplicable / Failed: why
    ErrorMetrics error;
    std::optional<OutputErrorSums> outputError; // with activations or an importance matrix
    StorageCost cost;
    std::vector<float> levels;
    QString levelsNote;
    std::vector<Diagnostic> diagnostics;
    QList<QPointF> staircase;  // over the weight histogram's range
    QList<QPointF> levelLines; // full height of the levels chart's hidden [0, 1] axis
    QList<QPointF> levelRug;   // the slot's lane (compareLaneLow/High)
    ErrorMap errorMap;         // where the error sits: per row, column and tile
    QList<QPointF> scatter;    // (w, w - w^) samples, the largest errors included
};

struct CompareUpdate {
    enum class Stage { Values, Scheme, Failed };
    Stage stage = Stage::Failed;
    QString tensor;
    std::shared_ptr<const std::vector<float>> values; // Values
    std::shared_ptr<const HistogramPlot> weights;     // Values
    int slot = -1;                                    // Scheme: index into the request
    std::shared_ptr<const CompareResult> result;      // Scheme
    QString error;                                    // Failed (the tensor could not be read)
    bool cancelled = false;
};

void runCompareJob(QPromise<CompareUpdate>& promise, const CompareRequest& request,
                   std::shared_ptr<const std::atomic<bool>> cancel);

} // namespace qs
