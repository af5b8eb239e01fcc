#include "methods/matrix_imbalance.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {

std::vector<double> rowStdDevs(MatrixView m) {
    std::vector<double> out(static_cast<std::size_t>(m.rows));
    for (std::int64_t r = 0; r < m.rows; ++r) {
        const float* x = m.data + r * m.cols;
        double mean = 0;
        for (std::int64_t c = 0; c < m.cols; ++c)
            mean += x[c];
        mean /= static_cast<double>(m.cols);
        double ss = 0;
        for (std::int64_t c = 0; c < m.cols; ++c)
            ss += (x[c] - mean) * (x[c] - mean);
        out[static_cast<std::size_t>(r)] = std::sqrt(ss / static_cast<double>(m.cols - 1));
    }
    return out;
}

std::vector<double> columnStdDevs(MatrixView m) {
    const auto n = static_cast<std::size_t>(m.cols);
    std::vector<double> mean(n, 0.0), ss(n, 0.0);
    // Row by row so the walk stays contiguous in memory.
    for (std::int64_t r = 0; r < m.rows; ++r)
        for (std::size_t c = 0; c < n; ++c)
            mean[c] += m.data[r * m.cols + static_cast<std::int64_t>(c)];
    for (auto& v : mean)
        v /= static_cast<double>(m.rows);
    for (std::int64_t r = 0; r < m.rows; ++r)
        for (std::size_t c = 0; c < n; ++c) {
            const double d = m.data[r * m.cols + static_cast<std::int64_t>(c)] - mean[c];
            ss[c] += d * d;
        }
    for (auto& v : ss)
        v = std::sqrt(v / static_cast<double>(m.rows - 1));
    return ss;
}

double matrixImbalance(MatrixView m) {
    if (m.rows < 2 || m.cols < 2)
        return std::numeric_limits<double>::quiet_NaN();
    const auto rs = rowStdDevs(m);
    const auto cs = columnStdDevs(m);
    double hi = -std::numeric_limits<double>::infinity();
    double lo = std::numeric_limits<double>::infinity();
    for (const auto* v : {&rs, &cs})
        for (double s : *v) {
            hi = std::max(hi, s);
            lo = std::min(lo, s);
        }
    return hi / std::max(lo, 1e-12);
}

} // namespace qs
