#pragma once
// One tensor under one scheme: quantize, reconstruct, measure. This is what the CLI's analyze
// prints and what the GUI's detail views draw; both call it, so they always agree.
// Thread-safe (no shared state); long runs report progress and can be cancelled.

#include "io/checkpoint.h"
#include "metrics/distribution_stats.h"
#include "metrics/error_metrics.h"
#include "metrics/histogram.h"
#include "metrics/output_error.h"
#include "quant/registry.h"

#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace qs {

struct AnalysisOptions {
    int histogramBins = 0;       // 0: no histograms
    bool weightHistogram = true; // with histogramBins: also the weights' (false: error only)
    bool keepReconstruction = false;
    // The layer's input activations [tokens, in_features] (not owned; must outlive the call):
    // calibrated families need them, and with them every scheme also reports its output error.
    const MatrixView* activations = nullptr;
    // ||X W^T||^2 per token for these activations and weights when already known
    // (outputReference, once per tensor for all its schemes): not computed again.
    std::optional<double> outputReference;
    // The tensor's importance from a llama.cpp imatrix file (not owned): the imatrix option
    // quantizes with it, and without activations every scheme reports the output error it
    // implies (importanceErrorSums) as its output error.
    const ImportanceWeights* importance = nullptr;
    // When w is a run of rows of a larger tensor, that tensor's finite min and max: a scheme
    // whose scale is over the whole tensor (fusedTakesTensorRange) takes it from them, so the
    // run's numbers are its share of the whole tensor's (analysis/stream_analysis.h). Where the
    // fused path then declines the rows (a reconstruction past float's range), the analysis is
    // an error of kind NotApplicable: the tensor must be analysed whole.
    std::optional<std::pair<float, float>> tensorRange;
};

struct TensorAnalysis {
    Scheme scheme;
    ErrorMetrics error;
    StorageCost cost;
    std::vector<float> levels;
    std::string levelsNote;
    std::vector<Diagnostic> diagnostics;
    std::optional<Histogram> weightHistogram; // over the original weights' range
    std::optional<Histogram> errorHistogram;  // of w - w^, symmetric about zero
    std::vector<float> reconstruction;        // only with keepReconstruction
    // ||X W^T - X W^^T||^2 and ||X W^T||^2 per token (relative(): the output error) when
    // activations with the tensor's in_features were given, or their expectation from an
    // importance matrix (AnalysisOptions::importance).
    std::optional<OutputErrorSums> outputError;
    std::string backend = "cpu"; // what computed it: "cpu" or "cuda" (analysis/compute_backend.h)
};

// The 2-D view quantizers use: [dim0, rest]; 1-D tensors are one row.
MatrixView matrixView(const TensorInfo& t, const std::vector<float>& values);

Result<TensorAnalysis> analyzeTensor(MatrixView weights, const Scheme& scheme,
                                     const AnalysisOptions& options = {},
                                     const ProgressFn& progress = {});

struct BitSweepPoint {
    int bits = 0;
    double sqnrDb = 0;
    double bitsPerWeight = 0;
    std::string spec; // the scheme measured (a fixed-width family's sibling, or the family's width)
    // 10 log10(||XW^T||^2 / ||X(W - W^)^T||^2) where activations or an importance matrix were
    // given (the output's SNR, for the output error they imply), else NaN.
    double outputSnrDb = std::numeric_limits<double>::quiet_NaN();
};

// The scheme's family at each bit width in [minBits, maxBits] (clamped to the family's range),
// everything else unchanged. A fixed-width family gives its ladder (fixedWidthLadder: q4_k's
// k-quants, mxfp4's MX widths), leaving out the siblings that do not apply to the tensor.
// `activations` (of the tensor's width) or `importance` (an imatrix entry) quantize the schemes
// that need them and give every width its output SNR.
Result<std::vector<BitSweepPoint>> sweepBits(MatrixView weights, const Scheme& scheme,
                                             int minBits = 2, int maxBits = 8,
                                             const ProgressFn& progress = {},
                                             const MatrixView* activations = nullptr,
                                             const ImportanceWeights* importance = nullptr);

// Whether a tensor is quantized by default (two or more dimensions) or kept as stored.
inline bool isQuantizable(const TensorInfo& t) {
    return t.shape.size() >= 2;
}

} // namespace qs
