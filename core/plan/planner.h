#pragma once
// Mixed-precision plans: a scheme per tensor, chosen from candidates to minimise the total
// squared weight error (optionally importance-weighted) under a bits-per-weight or bytes budget,
// or, with activations, the total squared output error per token (PlanObjective::OutputError).
//
// Two stages, so the GUI's budget slider re-solves instantly without touching the weights:
//  1. measurePlanCandidates() quantizes every tensor with two or more dimensions under every
//     candidate (in parallel, with progress and cancel) and records (squared error, bits).
//     A candidate that does not apply to a tensor (a ggml block that does not divide its rows)
//     is skipped there; if none applies, the tensor falls back as llama.cpp would (k-quants to
//     32-blocks, those to f16). `keep` rules (REGEX=SPEC, whole-name match, first wins) pin
//     tensors. 1-D tensors (norms, biases) keep their stored precision and are listed apart.
//  2. solvePlan() takes the lower convex hull of each tensor's error-vs-bits points and walks
//     the Lagrangian path (upgrades in order of error saved per bit, i.e. decreasing lambda)
//     until the next one would break the budget; a greedy knapsack fill then spends the slack
//     on whichever single change (hull or not) saves most error. Each uniform candidate that
//     fits (and, with output errors, the other objective's path) is also filled and kept if
//     better, so the plan is never worse than a uniform scheme under the same budget. Last,
//     pair exchanges (one tensor's upgrade paid for by another's downgrade) while one helps:
//     no single or paired change then lowers the error. The budget always holds.
// All functions are pure; measurePlanCandidates calls `progress` from worker threads, never
// concurrently.

#include "io/checkpoint.h"
#include "methods/imatrix_file.h"
#include "plan/plan_file.h"
#include "quant/registry.h"
#include "quant/scheme.h"
#include "util/progress.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qs {

struct PlanOption {
    Scheme scheme;
    double sqErr = 0;        // sum of (w - w^)^2 over the tensor, unweighted
    std::uint64_t bits = 0;  // storage, scales and zero-points included
    std::string fallbackFor; // the candidate this realises where it does not apply, else empty
    // ||X W^T - X W^^T|| / ||X W^T|| where PlanRequest::activationsFor gave activations of the
    // tensor's width, else NaN.
    double outRelErr = std::numeric_limits<double>::quiet_NaN();
    // ||X W^T - X W^^T||^2 per token, with the same activations, else NaN.
    double outSqErr = std::numeric_limits<double>::quiet_NaN();
};

struct TensorMeasurement {
    std::string name;
    std::vector<std::int64_t> shape;
    std::uint64_t elements = 0;
    double sumSqRef = 0; // sum of w^2
    // ||X W^T||^2 per token where activations of the tensor's width were given, else NaN.
    double outSqRef = std::numeric_limits<double>::quiet_NaN();
    double importance = 1; // weight of this tensor's error in the objective
    bool pinned = false;   // by a keep rule: `options` holds that spec only
    // Why a tensor may be sensitive: excess kurtosis, share of values beyond 3 sigma, SINQ's
    // matrix imbalance (NaN for fewer than two rows or columns), and where activations or an
    // importance matrix fit its width, the spread of its inputs (inputSpread; else NaN).
    double kurtosis = 0, outlierShare = 0, imbalance = 0;
    double inputSpread = std::numeric_limits<double>::quiet_NaN();
    // What the solver chooses from: the candidates that apply, in candidate order, then what
    // llama.cpp uses for each candidate that does not (fallbackFor says which).
    std::vector<PlanOption> options;
    std::vector<std::string> notApplicable; // "q4_k: ..." for each candidate skipped
};

struct KeptTensor {
    std::string name;
    std::vector<std::int64_t> shape;
    std::string dtype;
    std::uint64_t bytes = 0;
};

// What the solver minimises. OutputError: each tensor's squared output error per token
// (||X W^T - X W^^T||^2 / tokens) where it has activations, and its squared weight error where it
// has none, which is its output error for white inputs of unit variance.
enum class PlanObjective { WeightError, OutputError };

struct PlanMeasurements {
    std::string source;
    PlanObjective objective = PlanObjective::WeightError;
    std::vector<Scheme> candidates;
    std::vector<PlanKeepRule> keep;
    std::vector<TensorMeasurement> tensors; // quantized tensors, checkpoint order
    std::vector<KeptTensor> kept;           // 1-D tensors as stored
    std::uint64_t keptBytes = 0;
    std::uint64_t elements = 0; // of the quantized tensors
    double sumSqRef = 0;
};

struct ImportanceRule {
    std::string pattern; // ECMAScript regex searched in the tensor name
    double weight = 1;
};

struct PlanRequest {
    std::vector<Scheme> candidates;
    std::vector<PlanKeepRule> keep;
    std::vector<ImportanceRule> importance; // first match wins; unmatched tensors weigh 1
    // Called with each tensor as soon as it is measured (partial results for a GUI sweep): on the
    // thread that called measurePlanCandidates, in checkpoint order.
    std::function<void(const TensorMeasurement&)> onTensor;
    // Set from any thread to stop: polled inside every quantization, not only between tensors.
    const std::atomic<bool>* cancel = nullptr;
    // The input activations for a tensor of `features` columns (or null): with them every
    // option also gets its output error. Called from worker threads, concurrently; the views
    // must outlive the call to measurePlanCandidates (ActivationSource, prepared).
    std::function<const MatrixView*(std::int64_t features)> activationsFor;
    // Instead of activations, a llama.cpp importance matrix (not owned): the imatrix option
    // quantizes with each tensor's entry, and every option's output error is the one the entry
    // implies (importanceErrorSums).
    const ImatrixFile* imatrix = nullptr;
    // A tensor of more float32 bytes than this is measured in chunks of rows of at most this
    // size where it can be (see plan_measure.cpp), instead of being held whole.
    std::size_t chunkBytes = std::size_t{64} << 20;
};

// True when some tensor has an output error (activations of its width were given).
bool hasOutputError(const PlanMeasurements& m);
// Option k's squared error under `objective` (unweighted), and the reference it is relative to
// (sum w^2, or ||X W^T||^2 per token).
double objectiveErr(const TensorMeasurement& t, size_t k, PlanObjective objective);
double objectiveRef(const TensorMeasurement& t, PlanObjective objective);

// Calibrated candidates (gptq, awq, ...) need activationsFor; a tensor with no activations of
// its width has no such option (not applicable, with why). Errors: no candidates, a calibrated
// candidate without activationsFor, one not implemented, an invalid regex, unreadable tensors,
// or a cancel (ErrorKind::Cancelled).
Result<PlanMeasurements> measurePlanCandidates(const Checkpoint& ckpt, const PlanRequest& request,
                                               const ProgressFn& progress = {});
// Whether measurePlanCandidates measures `t` in chunks of rows of request.chunkBytes under
// `schemes` (the candidates, or a keep rule's): more than chunkBytes of float32, readable by rows,
// and every scheme it may be measured under (llama.cpp's fallbacks included) row-separable or
// given the tensor's range (chunksTakeTensorRange).
bool measuredInChunks(const Checkpoint& ckpt, const TensorInfo& t,
                      const std::vector<Scheme>& schemes, const PlanRequest& request);

struct PlanBudget {
    double bitsPerWeight = 0; // over the quantized tensors
    std::uint64_t bytes = 0;  // or: the whole model's weights, 1-D tensors as stored included
};

struct PlanSolution {
    Plan plan;                  // ready for savePlan()
    std::vector<size_t> choice; // per measured tensor: index into its options
    std::uint64_t bits = 0;     // of the quantized tensors
    double sqErr = 0;           // unweighted
    double bitsPerWeight = 0;
    double relRmse = 0; // sqrt(sum sq err / sum w^2) over the quantized tensors
    // The relative output error over the quantized tensors: sqrt(sum objectiveErr / sum
    // objectiveRef) under OutputError (weight error standing in where there are no activations);
    // NaN unless hasOutputError().
    double outRelErr = std::numeric_limits<double>::quiet_NaN();
    std::uint64_t modelBytes = 0; // quantized tensors + 1-D tensors as stored
};

// NotApplicable-free errors: a budget below the cheapest mix says how low it can go.
Result<PlanSolution> solvePlan(const PlanMeasurements& m, const PlanBudget& budget);

struct ParetoPoint {
    std::string label; // the candidate's spec for a uniform point; empty for a plan
    double bitsPerWeight = 0;
    // Under the measurements' objective: the weights' relative RMSE and SQNR, or the relative
    // output error and the output's SNR (PlanObjective::OutputError).
    double relRmse = 0;
    double sqnrDb = 0;
    std::uint64_t bytes = 0; // quantized tensors
    int distinctSchemes = 0; // schemes the assignment uses
    // A uniform point: what llama.cpp stores instead where the candidate does not apply (q4_k on
    // rows of 64: q5_0), sorted; what it costs is in the point's size and error.
    std::vector<std::string> fallbacks;
};

// "q4_k", or "q4_k (+q5_0, f16)" for a uniform point that took llama.cpp's fallbacks somewhere.
std::string uniformPointName(const ParetoPoint& p);

// Each candidate used for every tensor it applies to (llama.cpp's fallback elsewhere, keep
// rules honoured), in candidate order.
std::vector<ParetoPoint> uniformPoints(const PlanMeasurements& m);
// Plans at `count` budgets spread evenly from the cheapest to the richest mix and at the size
// of each uniform candidate; the points are non-dominated and sorted by bits per weight, so no
// uniform point lies below the curve.
std::vector<ParetoPoint> paretoCurve(const PlanMeasurements& m, int count = 32);

} // namespace qs
