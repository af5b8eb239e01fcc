#pragma once
// AWQ (Lin et al. 2023) as mit-han-lab/llm-awq runs it (NUMERICS.md §9.2, §5.6), on one linear
// layer W [out, in] with its input activations X [tokens, in]:
//   1. scale search: s_x = mean |x| per input channel; for ratio in {0, 1/grid, ...,
//      (grid-1)/grid} (grid=20), s = max(s_x^ratio, 1e-4) / sqrt(max s * min s); keep the ratio
//      whose Q(W diag s) diag s^-1 gives the least mean squared layer output error on X;
//   2. clip search (auto_clip; no_clip skips it): per output row and group of W diag s, clamp to
//      +-absmax * (1 - i/20), i < 10, keeping the bound with the least output error of that
//      group on (up to 512 evenly strided) tokens of X diag s^-1.
// Q is AWQ's pseudo-quantizer: asym (default) min/max without zero, scale = max(max - min,
// 1e-5) / (2^b - 1), zero = clamp(-round(min/scale), 0, 2^b - 1); sym absmax / (2^(b-1) - 1).
// The reconstruction is the effective weight W' = Q(clip(W s)) / s: in a model the 1/s is
// folded into the previous operator, so W' is what the layer computes with and weight- and
// output-space metrics compare with every other scheme. Storage is counted like `int` (s costs
// nothing: it lives in the previous operator). llm-awq skips the clip search for q/k
// projections; the layer's role is unknown here, so that choice is the user's (no_clip).
// Thread-safe (no shared state); the clip search runs rows in parallel.

#include "quant/registry.h"

#include <vector>

namespace qs {

Result<QuantOutput> quantizeAwq(const Scheme& s, MatrixView weights, MatrixView activations,
                                const ProgressFn& progress);

// Step 1 alone, for showing what AWQ does: the per-input-channel scale it picks, the exponent
// it chose, and the activations' mean |x| per channel that the scale follows.
struct AwqScales {
    std::vector<float> scale;   // one per input channel (column of W)
    std::vector<float> meanAbs; // mean |x| per input channel
    double ratio = 0;
};
Result<AwqScales> awqScaleSearch(const Scheme& s, MatrixView weights, MatrixView activations,
                                 const ProgressFn& progress = {});

} // namespace qs
