#pragma once
// SINQ's matrix imbalance (huawei-csl/SINQ sinkhorn.py, NUMERICS.md 7):
//   I(M) = max(sigma_rows u sigma_cols) / max(min(sigma_rows u sigma_cols), 1e-12)
// where sigma_rows[i] is the standard deviation of row i and sigma_cols[j] that of column j,
// both unbiased (N - 1), like torch.std. 1 means every row and column has the same spread; a
// matrix with a few loud rows or columns scores high. Defined for matrices with at least two
// rows and two columns (NaN otherwise, as torch gives). Pure functions, thread-safe; sums are
// in double, each row and column added in its order, so the results do not depend on the
// threads (large matrices are split across them, whole rows or whole columns each).

#include "quant/registry.h"

#include <vector>

namespace qs {

std::vector<double> rowStdDevs(MatrixView m);    // unbiased, one per row
std::vector<double> columnStdDevs(MatrixView m); // unbiased, one per column
double matrixImbalance(MatrixView m);
// The imbalance from the deviations of the rows and of the columns (NaN for fewer than two of
// either), as matrixImbalance forms it.
double imbalanceFromDeviations(const std::vector<double>& rows, const std::vector<double>& cols);

} // namespace qs
