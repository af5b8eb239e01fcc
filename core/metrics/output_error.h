#pragma once
// Output error of a linear layer under quantization: ||X W^T - X W^^T||_F / ||X W^T||_F for
// activations X [tokens, in] and weights W, W^ [out, in]. The products in float (Eigen's GEMM;
// W - W^ is taken first, so a small error is not the difference of two large outputs), their
// squares summed in double, a block of 256 output rows at a time (memory: one block). Against
// the same in double: within 1e-8 relative on real layers, in half the time.

#include "quant/registry.h"
#include "util/result.h"

#include <optional>

namespace qs {

// The sums behind it, per token: err = ||X W^T - X W^^T||^2 / tokens, ref = ||X W^T||^2 / tokens.
// Per token, a layer's err is in the units of its weights' squared error sum (w - w^)^2, which
// it equals in expectation for white inputs of unit variance (E ||(W - W^) x||^2 = ||W - W^||^2).
struct OutputErrorSums {
    double err = 0, ref = 0;
    double relative() const; // sqrt(err / ref); 0 for 0 / 0, +inf for err / 0
};

// With `knownRef` (outputReference of the same X and W, e.g. once for all schemes of a tensor)
// the reference product is not computed again; the sums are the same as without it.
Result<OutputErrorSums> outputErrorSums(MatrixView activations, MatrixView weights,
                                        const float* reconstructed,
                                        std::optional<double> knownRef = std::nullopt);
// The same expected per token from an importance matrix alone (llama.cpp's imatrix: the mean of
// x_j^2 per input column j), taking the columns as uncorrelated: sum_i sum_j imp_j (w_ij - r_ij)^2
// and sum_i sum_j imp_j w_ij^2 — what ggml's importance-weighted searches minimise. `importance`
// has one value per column of `weights`.
Result<OutputErrorSums> importanceErrorSums(std::span<const float> importance, MatrixView weights,
                                            const float* reconstructed);
// ||X W^T||^2 per token: OutputErrorSums::ref, which does not depend on the scheme.
Result<double> outputReference(MatrixView activations, MatrixView weights);
Result<double> outputRelativeError(MatrixView activations, MatrixView weights,
                                   const float* reconstructed);

} // namespace qs
