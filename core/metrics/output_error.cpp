#include "metrics/output_error.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace qs {

namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A block of output rows at a time: W - W^ whole would take 4 bytes a weight (1 GiB for a
// 16384 x 16384 layer), a block a few MiB.
constexpr std::int64_t kRows = 256;

Status checkWidths(MatrixView x, MatrixView w) {
    if (x.cols != w.cols)
        return makeError("activations have " + std::to_string(x.cols) +
                         " features but the weight has " + std::to_string(w.cols) +
                         " input columns");
    return Ok{};
}

double perToken(double sum, MatrixView x) {
    return sum / static_cast<double>(std::max<std::int64_t>(1, x.rows));
}

// ||X W^T||^2 per token, block by block (the same blocks and order as with the error).
double referenceSum(const Eigen::Map<const RowMajor>& X, const Eigen::Map<const RowMajor>& W) {
    double ref = 0;
    for (std::int64_t r0 = 0; r0 < W.rows(); r0 += kRows) {
        const std::int64_t n = std::min<std::int64_t>(kRows, W.rows() - r0);
        const Eigen::MatrixXf Y = X * W.middleRows(r0, n).transpose();
        ref += Y.cast<double>().squaredNorm();
    }
    return ref;
}

} // namespace

double OutputErrorSums::relative() const {
    if (ref == 0)
        return err == 0 ? 0.0 : std::numeric_limits<double>::infinity();
    return std::sqrt(err / ref);
}

Result<double> outputReference(MatrixView x, MatrixView w) {
    if (auto ok = checkWidths(x, w); !ok)
        return ok.error();
    const Eigen::Map<const RowMajor> X(x.data, x.rows, x.cols);
    const Eigen::Map<const RowMajor> W(w.data, w.rows, w.cols);
    return perToken(referenceSum(X, W), x);
}

Result<OutputErrorSums> outputErrorSums(MatrixView x, MatrixView w, const float* rec,
                                        std::optional<double> knownRef) {
    if (auto ok = checkWidths(x, w); !ok)
        return ok.error();
    const Eigen::Map<const RowMajor> X(x.data, x.rows, x.cols);
    const Eigen::Map<const RowMajor> W(w.data, w.rows, w.cols);
    const Eigen::Map<const RowMajor> R(rec, w.rows, w.cols);
    double err = 0;
    for (std::int64_t r0 = 0; r0 < w.rows; r0 += kRows) {
        const std::int64_t n = std::min(kRows, w.rows - r0);
        const RowMajor Db = W.middleRows(r0, n) - R.middleRows(r0, n);
        const Eigen::MatrixXf E = X * Db.transpose();
        err += E.cast<double>().squaredNorm();
    }
    const double ref = knownRef ? *knownRef : perToken(referenceSum(X, W), x);
    return OutputErrorSums{perToken(err, x), ref};
}

Result<OutputErrorSums> importanceErrorSums(std::span<const float> importance, MatrixView w,
                                            const float* rec) {
    if (static_cast<std::int64_t>(importance.size()) != w.cols)
        return makeError("the importance matrix has " + std::to_string(importance.size()) +
                         " values but the tensor has " + std::to_string(w.cols) + " columns");
    std::vector<double> err(static_cast<std::size_t>(w.cols), 0.0),
        ref(static_cast<std::size_t>(w.cols), 0.0);
    for (std::int64_t r = 0; r < w.rows; ++r) {
        const float* a = w.data + r * w.cols;
        const float* b = rec + r * w.cols;
        for (std::int64_t j = 0; j < w.cols; ++j) {
            const double d = static_cast<double>(a[j]) - static_cast<double>(b[j]);
            err[static_cast<std::size_t>(j)] += d * d;
            ref[static_cast<std::size_t>(j)] += static_cast<double>(a[j]) * a[j];
        }
    }
    OutputErrorSums s;
    for (std::size_t j = 0; j < importance.size(); ++j) {
        s.err += static_cast<double>(importance[j]) * err[j];
        s.ref += static_cast<double>(importance[j]) * ref[j];
    }
    return s;
}

Result<double> outputRelativeError(MatrixView x, MatrixView w, const float* rec) {
    auto s = outputErrorSums(x, w, rec);
    if (!s)
        return s.error();
    return s->relative();
}

} // namespace qs
