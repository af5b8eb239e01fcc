#include "metrics/output_error.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace qs {

double OutputErrorSums::relative() const {
    if (ref == 0)
        return err == 0 ? 0.0 : std::numeric_limits<double>::infinity();
    return std::sqrt(err / ref);
}

Result<OutputErrorSums> outputErrorSums(MatrixView x, MatrixView w, const float* rec) {
    if (x.cols != w.cols)
        return makeError("activations have " + std::to_string(x.cols) +
                         " features but the weight has " + std::to_string(w.cols) +
                         " input columns");
    using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const RowMajor> X(x.data, x.rows, x.cols);
    const Eigen::Map<const RowMajor> W(w.data, w.rows, w.cols);
    const Eigen::Map<const RowMajor> R(rec, w.rows, w.cols);
    // A block of output rows at a time: W - W^ whole would take 4 bytes a weight (1 GiB for a
    // 16384 x 16384 layer), a block a few MiB.
    constexpr std::int64_t kRows = 256;
    double ref = 0, err = 0;
    for (std::int64_t r0 = 0; r0 < w.rows; r0 += kRows) {
        const std::int64_t n = std::min(kRows, w.rows - r0);
        const RowMajor Db = W.middleRows(r0, n) - R.middleRows(r0, n);
        const Eigen::MatrixXf Y = X * W.middleRows(r0, n).transpose();
        const Eigen::MatrixXf E = X * Db.transpose();
        ref += Y.cast<double>().squaredNorm();
        err += E.cast<double>().squaredNorm();
    }
    const double tokens = static_cast<double>(std::max<std::int64_t>(1, x.rows));
    return OutputErrorSums{err / tokens, ref / tokens};
}

Result<double> outputRelativeError(MatrixView x, MatrixView w, const float* rec) {
    auto s = outputErrorSums(x, w, rec);
    if (!s)
        return s.error();
    return s->relative();
}

} // namespace qs
