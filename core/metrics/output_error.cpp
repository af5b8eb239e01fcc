#include "metrics/output_error.h"

#include <Eigen/Dense>

#include <cmath>
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
    const Eigen::MatrixXd Y = Xd * W.cast<double>().transpose();
    const Eigen::MatrixXd E = Xd * (W.cast<double>() - R.cast<double>()).transpose();
    const double ref = Y.norm();
    if (ref == 0) return E.norm() == 0 ? 0.0 : std::numeric_limits<double>::infinity();
    return E.norm() / ref;
}

} // namespace qs
