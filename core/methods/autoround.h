#pragma once
// AutoRound (Cheng et al. 2023) as intel/auto-round tunes one weight (NUMERICS.md §8), on one
// linear layer W [out, in] with its input activations X [tokens, in]. Per group (gN along the
// row, or the whole row for channel) the qdq it tunes is
//   sym:  wmin = min(min_g, 0) * min_scale, wmax = max(max_g, 0) * max_scale,
//         max_v = |wmin| > wmax ? |wmin| : -wmax, s = fp16(max_v / 2^(b-1)), |s| >= 1e-5,
//         W^ = s * clamp(round(W / s + V), -2^(b-1), 2^(b-1) - 1)
//   asym: s = fp16((wmax - wmin) / (2^b - 1)), zp = round(-wmin / s),
//         W^ = s * (clamp(round(W / s + V) + zp, 0, 2^b - 1) - zp)
// with rounding offsets V (one per weight, start 0) and min_scale, max_scale (one per group,
// start 1, clamped to [0, 1] after each step). The loss is the mean squared layer output error
// mean((X W^T - X W^^T)^2) on a minibatch of tokens; gradients pass straight through round and
// the fp16 cast (clamped elements pass none). Signed SGD p <- p - lr_t sign(g), iters = 200,
// lr = 1/iters (2/iters when iters >= 1000 and bits <= 3), lr_t decaying linearly to 0; the
// parameters of the iteration with the lowest loss (measured before its step) are kept.
// Options: iters=N, lr=F, batch=N (tokens per step; default max(min(T, 256), ceil(T/16)), the
// original's 8 of 128 samples per step), order=N (seed of the minibatch order). Storage is
// counted like `int`. float32. Thread-safe; the two products of each step run over row blocks in
// parallel.

#include "quant/registry.h"

namespace qs {

Result<QuantOutput> quantizeAutoRound(const Scheme& s, MatrixView weights, MatrixView activations,
                                      const ProgressFn& progress);

} // namespace qs
