#pragma once
// GPTQ (Frantar et al. 2022) as IST-DASLab/gptq and AutoGPTQ run it (NUMERICS.md §9.1), on one
// linear layer W [out, in] with its input activations X [tokens, in]:
//   H = 2 X^T X / tokens; dead inputs (H_ii = 0) get H_ii = 1 and a zeroed weight column;
//   H_ii += damp * mean(diag H) (damp=0.01); U = upper Cholesky factor of H^-1;
//   columns in lazy batches of `block` (128): quantize column i with the §5.2 quantizer of its
//   group, spread (w - q) / U_ii over the later columns of the batch through row i of U, and
//   the batch's error over the remaining columns in one product after it.
// Options: sym (default) / asym, gN or channel, act_order (columns by descending diag H),
// static_groups (group parameters from the unpermuted original weights), damp=F, block=N.
// Group parameters come from the full matrix copy, which lacks the current batch's updates,
// exactly like the reference; with groups that start on batch boundaries it makes no
// difference. Returns the dequantized reconstruction; storage is counted like `int`.
// Thread-safe (no shared state).

#include "quant/registry.h"

namespace qs {

Result<QuantOutput> quantizeGptq(const Scheme& s, MatrixView weights, MatrixView activations,
                                 const ProgressFn& progress);

} // namespace qs
