#pragma once
// SmoothQuant (Xiao et al. 2023) as mit-han-lab/smoothquant computes it (NUMERICS.md §9.3), on
// one linear layer W [out, in] with input activations X [tokens, in]:
//   s_j = clamp(max|X_:,j|^alpha / max(max|W_:,j|, 1e-5)^(1 - alpha), min 1e-5), alpha = 0.5
//   (option alpha=), W' = W diag(s), X' = X diag(1/s): activation outliers migrate into weights.
// W' is quantized with the int quantizer of the scheme's bits, granularity and symmetry
// (default per-channel symmetric, SmoothQuant's W8); the reconstruction is the effective weight
// Q(W') diag(1/s), since 1/s is folded into the previous LayerNorm in a model. The point of the
// method is the activations, so the diagnostics report, for 8-bit per-token symmetric
// activations (SmoothQuant's dynamic A8): the activation error with and without smoothing and
// the W{b}A8 layer-output error ||XW^T - Q(X')Q(W')^T|| / ||XW^T|| with and without it.
// Storage is counted like `int` (s lives in the previous operator). Thread-safe.

#include "quant/registry.h"

#include <vector>

namespace qs {

// The smoothing factors s (one per input channel) for activations X and weights W.
std::vector<float> smoothQuantScales(MatrixView weights, MatrixView activations, double alpha);

Result<QuantOutput> quantizeSmoothQuant(const Scheme& s, MatrixView weights, MatrixView activations,
                                        const ProgressFn& progress);

} // namespace qs
