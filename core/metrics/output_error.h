#pragma once
// Output error of a linear layer under quantization: ||X W^T - X W^^T||_F / ||X W^T||_F for
// activations X [tokens, in] and weights W, W^ [out, in]. Computed with Eigen in double, a block
// of 256 output rows at a time (memory: the activations and one block in double).

#include "quant/registry.h"
#include "util/result.h"

namespace qs {

Result<double> outputRelativeError(MatrixView activations, MatrixView weights,
                                   const float* reconstructed);

} // namespace qs
