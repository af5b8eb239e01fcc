#include "metrics/output_error.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace qs {

Result<double> outputRelativeError(MatrixView x, MatrixView w, const float* rec) {
    if (x.cols != w.cols)
        return makeError("activations have " + std::to_string(x.cols) +
                         " features but the weight has " + std::to_string(w.cols) +
                         " input columns");
    using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const RowMajor> X(x.data, x.rows, x.cols);
    const Eigen::Map<const RowMajor> W(w.data, w.rows, w.cols);
    const Eigen::Map<const RowMajor> R(rec, w.rows, w.cols);
    const Eigen::MatrixXd Xd = X.cast<double>();
    // A block of output rows at a time: W and W - W^ in double whole would take 16 bytes a
    // weight (4 GiB for a 16384 x 16384 layer), a block a few MiB.
    constexpr std::int64_t kRows = 256;
    double ref = 0, err = 0;
    for (std::int64_t r0 = 0; r0 < w.rows; r0 += kRows) {
        const std::int64_t n = std::min(kRows, w.rows - r0);
        const Eigen::MatrixXd Wb = W.middleRows(r0, n).cast<double>();
        const Eigen::MatrixXd Db = Wb - R.middleRows(r0, n).cast<double>();
        ref += (Xd * Wb.transpose()).squaredNorm();
        err += (Xd * Db.transpose()).squaredNorm();
    }
    if (ref == 0)
        return err == 0 ? 0.0 : std::numeric_limits<double>::infinity();
    return std::sqrt(err / ref);
}

} // namespace qs
