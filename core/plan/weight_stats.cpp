#include "plan/weight_stats.h"

#include "methods/matrix_imbalance.h"
#include "metrics/distribution_stats.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "util/simd_clones.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace qs {
namespace {

constexpr int kLanes = 8;

QS_CLONE_INLINE double pairwise(const double* l) {
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

QS_CLONE_INLINE bool finite(double v) {
    return std::fabs(v) <= std::numeric_limits<double>::max(); // false for NaN and +-Inf
}

// body(lane, x[k]) for k in [0, n): lane j takes the elements j, j + kLanes, ... (the main loop
// a vector loop of kLanes, the tail apart).
template <class Body> QS_CLONE_INLINE void inLanes(const float* x, std::int64_t n, Body&& body) {
    std::int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes)
        for (int j = 0; j < kLanes; ++j)
            body(j, static_cast<double>(x[k + j]));
    for (int j = 0; k < n; ++k, ++j)
        body(j, static_cast<double>(x[k]));
}

#define QS_LANE [&](int j, double v) __attribute__((always_inline))

// The row kernels: each sum in kLanes lanes (lane j takes the elements j, j + kLanes, ...),
// added pairwise at the end; the same number from every clone.
struct RowFirst {
    double count = 0, sum = 0; // of the finite values
    double all = 0, sq = 0;    // of every value, and of its square
};

QS_SIMD_CLONES
RowFirst rowFirst(const float* x, std::int64_t n) {
    double c[kLanes] = {}, s[kLanes] = {}, a[kLanes] = {}, q[kLanes] = {};
    inLanes(
        x, n, QS_LANE {
            const bool f = finite(v);
            c[j] += f ? 1.0 : 0.0;
            s[j] += f ? v : 0.0;
            a[j] += v;
            q[j] += v * v;
        });
    return {pairwise(c), pairwise(s), pairwise(a), pairwise(q)};
}

// sum (x - mean)^2 over every value (a row's deviation).
QS_SIMD_CLONES
double rowSquaredDeviation(const float* x, std::int64_t n, double mean) {
    double q[kLanes] = {};
    inLanes(
        x, n, QS_LANE {
            const double d = v - mean;
            q[j] += d * d;
        });
    return pairwise(q);
}

// sum d^2 and d^4 with d = x - mean over the finite values.
QS_SIMD_CLONES
std::pair<double, double> rowMoments(const float* x, std::int64_t n, double mean) {
    double m2[kLanes] = {}, m4[kLanes] = {};
    inLanes(
        x, n, QS_LANE {
            const double d = finite(v) ? v - mean : 0.0, d2 = d * d;
            m2[j] += d2;
            m4[j] += d2 * d2;
        });
    return {pairwise(m2), pairwise(m4)};
}

// How many finite values lie farther than `limit` from the mean.
QS_SIMD_CLONES
double rowOutliers(const float* x, std::int64_t n, double mean, double limit) {
    double o[kLanes] = {};
    inLanes(
        x, n, QS_LANE { o[j] += finite(v) && std::fabs(v - mean) > limit ? 1.0 : 0.0; });
    return pairwise(o);
}

// acc[c] += x[c], and acc[c] += (x[c] - mean[c])^2: one row into column sums.
QS_SIMD_CLONES
void addToColumns(double* acc, const float* x, std::int64_t n) {
    for (std::int64_t c = 0; c < n; ++c)
        acc[c] += x[c];
}

QS_SIMD_CLONES
void addSquaredDeviationsToColumns(double* acc, const double* mean, const float* x,
                                   std::int64_t n) {
    for (std::int64_t c = 0; c < n; ++c) {
        const double d = x[c] - mean[c];
        acc[c] += d * d;
    }
}

// g(row index, row) for each row, rows split across threads.
template <class G> void eachRow(MatrixView m, G&& g) {
    const std::int64_t grain =
        std::max<std::int64_t>(1, (std::int64_t{1} << 15) / std::max<std::int64_t>(1, m.cols));
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, m.rows, grain),
                      [&](const tbb::blocked_range<std::int64_t>& r) {
                          for (std::int64_t i = r.begin(); i < r.end(); ++i)
                              g(i, m.data + i * m.cols);
                      });
}

// f(first column, row's values from it, count) for each row in order, over blocks of columns
// split across threads (so each column is summed down the rows in order).
template <class F> void eachColumnBlock(MatrixView m, F&& f) {
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, m.cols, 256),
                      [&](const tbb::blocked_range<std::int64_t>& r) {
                          for (std::int64_t row = 0; row < m.rows; ++row)
                              f(r.begin(), m.data + row * m.cols + r.begin(), r.end() - r.begin());
                      });
}

} // namespace

double inputSpread(std::span<const float> meanSquares) {
    std::vector<float> m(meanSquares.begin(), meanSquares.end());
    if (m.empty())
        return std::numeric_limits<double>::quiet_NaN();
    const auto mid = m.begin() + static_cast<std::ptrdiff_t>(m.size() / 2);
    std::nth_element(m.begin(), mid, m.end());
    double median = *mid;
    if (m.size() % 2 == 0) // the mean of the two middle values
        median = (median + *std::max_element(m.begin(), mid)) / 2;
    const double largest = *std::max_element(m.begin(), m.end());
    if (!(median > 0) || !std::isfinite(largest))
        return std::numeric_limits<double>::quiet_NaN();
    return std::sqrt(largest / median);
}

WeightStats weightStats(MatrixView w) {
    ChunkedWeightStats s(w.rows, w.cols);
    for (int pass = 0; pass < ChunkedWeightStats::kPasses; ++pass)
        s.add(pass, w);
    return s.result();
}

ChunkedWeightStats::ChunkedWeightStats(std::int64_t rows, std::int64_t cols)
    : rows_(rows), cols_(cols), colSum_(static_cast<std::size_t>(cols), 0.0),
      colSq_(static_cast<std::size_t>(cols), 0.0) {
    rowDev_.reserve(static_cast<std::size_t>(rows));
}

void ChunkedWeightStats::startPass(int pass) {
    pass_ = pass;
    if (pass == 1) {
        mean_ = count_ > 0 ? sum_ / count_ : 0.0;
        for (double& c : colSum_)
            c /= static_cast<double>(rows_); // the column means from here on
    } else if (pass == 2) {
        limit_ = kOutlierSigmas * std::sqrt(count_ > 0 ? m2_ / count_ : 0.0);
    }
}

void ChunkedWeightStats::add(int pass, MatrixView chunk) {
    if (pass != pass_)
        startPass(pass);
    const std::int64_t cols = chunk.cols;
    // Per row, then added in row order: the same order in chunks as whole.
    std::vector<RowFirst> perRow(static_cast<std::size_t>(chunk.rows));
    if (pass == 0) {
        std::vector<double> dev(perRow.size());
        eachRow(chunk, [&](std::int64_t r, const float* x) {
            const RowFirst f = rowFirst(x, cols);
            perRow[static_cast<std::size_t>(r)] = f;
            dev[static_cast<std::size_t>(r)] =
                std::sqrt(rowSquaredDeviation(x, cols, f.all / static_cast<double>(cols)) /
                          static_cast<double>(cols - 1));
        });
        for (const RowFirst& f : perRow) {
            count_ += f.count;
            sum_ += f.sum;
            sumSq_ += f.sq;
        }
        rowDev_.insert(rowDev_.end(), dev.begin(), dev.end());
        eachColumnBlock(chunk, [&](std::int64_t c0, const float* x, std::int64_t n) {
            addToColumns(colSum_.data() + c0, x, n);
        });
    } else if (pass == 1) {
        const double mean = mean_;
        eachRow(chunk, [&](std::int64_t r, const float* x) {
            const auto [m2, m4] = rowMoments(x, cols, mean);
            perRow[static_cast<std::size_t>(r)].count = m2;
            perRow[static_cast<std::size_t>(r)].sum = m4;
        });
        for (const RowFirst& f : perRow) {
            m2_ += f.count;
            m4_ += f.sum;
        }
        eachColumnBlock(chunk, [&](std::int64_t c0, const float* x, std::int64_t n) {
            addSquaredDeviationsToColumns(colSq_.data() + c0, colSum_.data() + c0, x, n);
        });
    } else if (limit_ > 0) {
        const double mean = mean_, limit = limit_;
        eachRow(chunk, [&](std::int64_t r, const float* x) {
            perRow[static_cast<std::size_t>(r)].count = rowOutliers(x, cols, mean, limit);
        });
        for (const RowFirst& f : perRow)
            outliers_ += static_cast<std::uint64_t>(f.count);
    }
}

WeightStats ChunkedWeightStats::result() const {
    WeightStats s;
    s.sumSq = sumSq_;
    if (count_ > 0) {
        const double m2 = m2_ / count_, m4 = m4_ / count_;
        if (m2 > 0)
            s.kurtosis = m4 / (m2 * m2) - 3.0;
        s.outlierShare = static_cast<double>(outliers_) / count_;
    }
    if (rows_ >= 2 && cols_ >= 2) {
        std::vector<double> cols(colSq_.size());
        for (std::size_t c = 0; c < cols.size(); ++c)
            cols[c] = std::sqrt(colSq_[c] / static_cast<double>(rows_ - 1));
        s.imbalance = imbalanceFromDeviations(rowDev_, cols);
    }
    return s;
}

} // namespace qs
