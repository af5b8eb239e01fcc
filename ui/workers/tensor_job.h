#pragma once
// The background work for one (tensor, scheme) request: decode the tensor (unless its values are
// cached), its distribution statistics, the analysis under the scheme, then the bit-width sweep.
// Each stage is handed out as soon as it is ready (QPromise::addResult), so the window fills in
// progressively. Runs on a pool thread; touches no widget and throws nothing.

#include "analysis/tensor_analysis.h"
#include "charts/plot_data.h"
#include "io/checkpoint.h"
#include "methods/activation_source.h"
#include "metrics/distribution_stats.h"

#include <QPromise>
#include <QString>

#include <atomic>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace qs {

inline constexpr int kHistogramBins = 120;
// Appended to a scheme that needs activations when none are chosen.
inline constexpr const char* kChooseActivations =
    " needs activations: choose them on the Model tab (Activations)";
inline constexpr int kSweepMinBits = 2;
inline constexpr int kSweepMaxBits = 8;
// Tensors of more elements than this are previewed on a sample of whole rows of about
// kPreviewElements before the exact analysis runs: a change answers at once, and the exact
// result replaces the preview when it is ready.
inline constexpr std::int64_t kPreviewAbove = std::int64_t{1} << 21;
inline constexpr std::int64_t kPreviewElements = std::int64_t{1} << 18;

// The rows a preview of `view` uses (evenly spaced, first row first), empty when the tensor is
// small enough to answer exactly at once or too few rows to sample.
std::vector<std::int64_t> previewRows(MatrixView view);

struct TensorRequest {
    std::shared_ptr<const Checkpoint> checkpoint;
    TensorInfo tensor;
    Scheme scheme;
    std::shared_ptr<const std::vector<float>> values; // cached values of `tensor`, or null
    // The Model tab's activations, for schemes that need them (q4_k:imatrix, gptq4:g128); null:
    // none chosen.
    std::shared_ptr<const ActivationSource> activations;
};

struct TensorUpdate {
    enum class Stage { Values, Analysis, Sweep, Failed };
    Stage stage = Stage::Failed;
    QString tensor;
    std::shared_ptr<const std::vector<float>> values; // Values
    DistributionStats stats;                          // Values
    std::shared_ptr<const TensorAnalysis> analysis;   // Analysis (no reconstruction)
    std::shared_ptr<const AnalysisPlots> plots;       // Analysis (plots->previewRows: a preview)
    std::shared_ptr<const SweepPlot> sweep;           // Sweep
    QString error;                                    // Failed
    bool cancelled = false;                           // Failed because the flag was set
    bool notApplicable = false; // Failed because the format does not fit the tensor's shape
};

// The activations for a layer of `features` input columns from the Model tab's `source` (null
// when there is none): a loaded matrix as it is, synthetic ones generated into `scratch` for this
// width (the same as the sweep's for the same spec), so a worker never touches the shared
// source's cache.
const MatrixView* layerActivations(const ActivationSource* source, std::int64_t features,
                                   std::optional<ActivationSource>& scratch);

// The layer's inputs in `options` for `scheme`: with an importance matrix, the tensor's entry
// (kept in `importance`) for every scheme; else its activations (layerActivations) where the
// scheme needs them, or for every scheme with `always` (the output error for each: a matrix
// product per scheme). An error where the scheme needs what the source does not give.
Status layerInputs(const ActivationSource* source, const TensorInfo& tensor, const Scheme& scheme,
                   std::int64_t features, AnalysisOptions& options,
                   std::optional<ActivationSource>& scratch,
                   std::optional<ImportanceWeights>& importance, bool always = false);

// Whether a core error says the scheme cannot be applied to this tensor at all (e.g. ggml blocks
// of 256 on rows of 172): a property of the pair, shown as a note rather than as an error.
bool isNotApplicable(const Error& error);

// Progress is reported on the promise in the range [0, kJobProgressRange].
inline constexpr int kJobProgressRange = 1000;

// Runs `body()` for the job on `tensor` and turns any exception into the Failed update that
// `failure(error)` builds, so no exception ever leaves a worker. `noun`/`verb` word the messages
// ("analysis"/"analysing").
template <class Update, class Failure, class Body>
void runGuarded(QPromise<Update>& promise, const std::string& tensor, const char* noun,
                const char* verb, Failure failure, Body body) {
    try {
        body();
    } catch (const std::bad_alloc&) {
        promise.addResult(
            failure(makeError(std::string("out of memory while ") + verb + " " + tensor)));
    } catch (const std::exception& e) {
        promise.addResult(failure(makeError(std::string(noun) + " failed: " + e.what())));
    } catch (...) {
        promise.addResult(failure(makeError(std::string(noun) + " failed with an unknown error")));
    }
}

void runTensorJob(QPromise<TensorUpdate>& promise, const TensorRequest& request,
                  std::shared_ptr<const std::atomic<bool>> cancel);

} // namespace qs
