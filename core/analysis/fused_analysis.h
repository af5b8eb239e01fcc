#pragma once
// The CPU's fused path: quantize -> reconstruct -> error metrics (-> error histogram) in one
// read of the weights per pass, group by group while the group is in L1, with no per-element
// allocation and SIMD inner loops (AVX2 clones where the CPU has it). analyzeTensor() takes it
// whenever it applies; its numbers equal the separate passes' (quantize(), computeErrorMetrics,
// computeDifferenceHistogram) except for the order of the double sums (relative 1e-12).
//
// Families covered: `int` with round-to-nearest and the minmax clip, at every granularity, and
// `nf` (NormalFloat codebooks) likewise without double quantization, where its flat blocks are
// whole groups of a row (the tensor, a row, or groups dividing the row); and through
// fused_plan.h the float element families, microscaling (MX, nvfp4) and ggml's q8_0.
// A tensor holding NaN or +-Inf goes through the plain path (it defines what they become).

#include "metrics/error_metrics.h"
#include "metrics/histogram.h"
#include "quant/registry.h"

#include <optional>
#include <utility>

namespace qs {

struct FusedRequest {
    int errorHistogramBins = 0; // > 0: also the histogram of w - w^ over +-max|w - w^|
    bool keepReconstruction = false;
    // When w is a run of rows of a larger tensor: that tensor's min and max (finite, bounding
    // w's values). A scale over the whole tensor (fusedTakesTensorRange) comes from them, so the
    // run's codes are those of its rows in the whole tensor's analysis and its sums add up to
    // the whole tensor's. Other schemes ignore it.
    std::optional<std::pair<float, float>> tensorRange;
};

struct FusedResult {
    QuantOutput output; // reconstruction only with keepReconstruction
    ErrorMetrics error;
    std::optional<Histogram> errorHistogram;
};

// Whether the fused path covers this scheme (it may still decline a tensor with NaN/Inf).
bool fusedAnalysisCovers(const Scheme& s);

// Whether the scheme's one cross-row dependence is a scale over the whole tensor taken from its
// min and max (tensor granularity; nvfp4's fp32 tensor scale), and the fused path covers it:
// given FusedRequest::tensorRange, any run of rows is analysed alone.
bool fusedTakesTensorRange(const Scheme& s);

// The min and max of x[0, n) (in parallel); nullopt where any value is NaN or +-Inf, or n is 0.
std::optional<std::pair<float, float>> finiteRange(const float* x, std::int64_t n);

// nullopt: not covered here (the caller runs the separate passes). Otherwise the result, or an
// error (cancelled through `progress`).
std::optional<Result<FusedResult>> analyzeFused(const Scheme& s, MatrixView w,
                                                const FusedRequest& request,
                                                const ProgressFn& progress = {});

} // namespace qs
