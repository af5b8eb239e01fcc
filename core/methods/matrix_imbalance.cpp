#include "methods/matrix_imbalance.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {

namespace {

// Matrices this small are walked on the calling thread (SINQ's tiles run in parallel already).
constexpr std::int64_t kParallelElements = std::int64_t{1} << 18;

double rowStdDev(const float* x, std::int64_t n) {
    double mean = 0;
    for (std::int64_t c = 0; c < n; ++c)
        mean += x[c];
    mean /= static_cast<double>(n);
    double ss = 0;
    for (std::int64_t c = 0; c < n; ++c)
        ss += (x[c] - mean) * (x[c] - mean);
    return std::sqrt(ss / static_cast<double>(n - 1));
}

// Columns [c0, c1): each summed over the rows in order, walking row by row so the reads stay
// contiguous.
void columnStdDevs(MatrixView m, std::int64_t c0, std::int64_t c1, double* mean, double* out) {
    for (std::int64_t c = c0; c < c1; ++c)
        mean[c] = out[c] = 0;
    for (std::int64_t r = 0; r < m.rows; ++r)
        for (std::int64_t c = c0; c < c1; ++c)
            mean[c] += m.data[r * m.cols + c];
    for (std::int64_t c = c0; c < c1; ++c)
        mean[c] /= static_cast<double>(m.rows);
    for (std::int64_t r = 0; r < m.rows; ++r)
        for (std::int64_t c = c0; c < c1; ++c) {
            const double d = m.data[r * m.cols + c] - mean[c];
            out[c] += d * d;
        }
    for (std::int64_t c = c0; c < c1; ++c)
        out[c] = std::sqrt(out[c] / static_cast<double>(m.rows - 1));
}

} // namespace

// Each row's and each column's sums run in the same order whether or not the work is split, so
// the results do not depend on the threads.
std::vector<double> rowStdDevs(MatrixView m) {
    std::vector<double> out(static_cast<std::size_t>(m.rows));
    auto rows = [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r)
            out[static_cast<std::size_t>(r)] = rowStdDev(m.data + r * m.cols, m.cols);
    };
    if (m.rows * m.cols < kParallelElements) {
        rows(0, m.rows);
        return out;
    }
    const std::int64_t grain = std::max<std::int64_t>(1, kParallelElements / 4 / m.cols);
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, m.rows, grain),
                      [&](const tbb::blocked_range<std::int64_t>& r) { rows(r.begin(), r.end()); });
    return out;
}

std::vector<double> columnStdDevs(MatrixView m) {
    const auto n = static_cast<std::size_t>(m.cols);
    std::vector<double> mean(n), out(n);
    if (m.rows * m.cols < kParallelElements || m.cols < 64) {
        columnStdDevs(m, 0, m.cols, mean.data(), out.data());
        return out;
    }
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, m.cols, 64),
                      [&](const tbb::blocked_range<std::int64_t>& r) {
                          columnStdDevs(m, r.begin(), r.end(), mean.data(), out.data());
                      });
    return out;
}

double imbalanceFromDeviations(const std::vector<double>& rows, const std::vector<double>& cols) {
    if (rows.size() < 2 || cols.size() < 2)
        return std::numeric_limits<double>::quiet_NaN();
    double hi = -std::numeric_limits<double>::infinity();
    double lo = std::numeric_limits<double>::infinity();
    for (const auto* v : {&rows, &cols})
        for (double s : *v) {
            hi = std::max(hi, s);
            lo = std::min(lo, s);
        }
    return hi / std::max(lo, 1e-12);
}

double matrixImbalance(MatrixView m) {
    if (m.rows < 2 || m.cols < 2)
        return std::numeric_limits<double>::quiet_NaN();
    return imbalanceFromDeviations(rowStdDevs(m), columnStdDevs(m));
}

} // namespace qs
