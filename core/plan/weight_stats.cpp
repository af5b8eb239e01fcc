#include "plan/weight_stats.h"

#include "methods/matrix_imbalance.h"
#include "metrics/distribution_stats.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "util/simd_clones.h"
#include "util/simd_lanes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace qs {
namespace {

using lanes::finite;
using lanes::kLanes;
using lanes::Lanes;
using lanes::load;
using lanes::pairwise;

QS_CLONE_INLINE bool finite(double v) {
    return std::fabs(v) <= std::numeric_limits<double>::max(); // false for NaN and +-Inf
}

// The lanes after the main loop: lane j takes x[k + j] for the n - k < kLanes values left, in
// scalar code that does what the vector code does (body(lane, value) on plain doubles).
template <class Body>
QS_CLONE_INLINE void tail(const float* x, std::int64_t k, std::int64_t n, Body&& body) {
    for (int j = 0; k < n; ++k, ++j)
        body(j, static_cast<double>(x[k]));
}

// The row kernels: each sum in kLanes lanes (lane j takes the elements j, j + kLanes, ...),
// added pairwise at the end; the same number from every clone.
struct RowFirst {
    double count = 0, sum = 0; // of the finite values
    double all = 0, sq = 0;    // of every value, and of its square
};

QS_SIMD_CLONES
RowFirst rowFirst(const float* x, std::int64_t n) {
    Lanes c = {}, s = {}, a = {}, q = {};
    const Lanes one = c + 1.0, zero = {};
    std::int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes) {
        const Lanes v = load(x + k);
        const auto f = finite(v);
        c += f ? one : zero;
        s += f ? v : zero;
        a += v;
        q += v * v;
    }
    double cl[kLanes], sl[kLanes], al[kLanes], ql[kLanes];
    lanes::store(c, cl);
    lanes::store(s, sl);
    lanes::store(a, al);
    lanes::store(q, ql);
    tail(x, k, n, [&](int j, double v) {
        const bool f = finite(v);
        cl[j] += f ? 1.0 : 0.0;
        sl[j] += f ? v : 0.0;
        al[j] += v;
        ql[j] += v * v;
    });
    return {pairwise(cl), pairwise(sl), pairwise(al), pairwise(ql)};
}

// sum (x - mean)^2 over every value (a row's deviation).
QS_SIMD_CLONES
double rowSquaredDeviation(const float* x, std::int64_t n, double mean) {
    Lanes q = {};
    std::int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes) {
        const Lanes d = load(x + k) - mean;
        q += d * d;
    }
    double ql[kLanes];
    lanes::store(q, ql);
    tail(x, k, n, [&](int j, double v) {
        const double d = v - mean;
        ql[j] += d * d;
    });
    return pairwise(ql);
}

// sum d^2 and d^4 with d = x - mean over the finite values.
QS_SIMD_CLONES
std::pair<double, double> rowMoments(const float* x, std::int64_t n, double mean) {
    Lanes m2 = {}, m4 = {};
    const Lanes zero = {};
    std::int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes) {
        const Lanes v = load(x + k);
        const Lanes d = finite(v) ? v - mean : zero, d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
    }
    double l2[kLanes], l4[kLanes];
    lanes::store(m2, l2);
    lanes::store(m4, l4);
    tail(x, k, n, [&](int j, double v) {
        const double d = finite(v) ? v - mean : 0.0, d2 = d * d;
        l2[j] += d2;
        l4[j] += d2 * d2;
    });
    return {pairwise(l2), pairwise(l4)};
}

// How many finite values lie farther than `limit` from the mean.
QS_SIMD_CLONES
double rowOutliers(const float* x, std::int64_t n, double mean, double limit) {
    Lanes o = {};
    const Lanes one = o + 1.0, zero = {};
    std::int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes) {
        const Lanes v = load(x + k), d = v - mean;
        // |d| where v is finite, else 0 (limit > 0); one comparison then: with two masks
        // combined, GCC built them lane by lane in scalar code.
        const Lanes t = finite(v) ? lanes::abs(d) : zero;
        o += t > limit ? one : zero;
    }
    double ol[kLanes];
    lanes::store(o, ol);
    tail(x, k, n,
         [&](int j, double v) { ol[j] += finite(v) && std::fabs(v - mean) > limit ? 1.0 : 0.0; });
    return pairwise(ol);
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
// split across threads (so each column is summed down the rows in order, however the columns
// are split). Walking down a block reads a short piece of each row, which the hardware
// prefetcher does not fetch ahead: the pieces a few rows down are prefetched here.
template <class F> void eachColumnBlock(MatrixView m, F&& f) {
    constexpr std::int64_t kAhead = 4, kLine = 64 / sizeof(float);
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, m.cols, 256),
                      [&](const tbb::blocked_range<std::int64_t>& r) {
                          const std::int64_t n = r.end() - r.begin();
                          for (std::int64_t row = 0; row < m.rows; ++row) {
                              const float* x = m.data + row * m.cols + r.begin();
                              if (row + kAhead < m.rows)
                                  for (std::int64_t c = 0; c < n; c += kLine)
                                      __builtin_prefetch(x + kAhead * m.cols + c);
                              f(r.begin(), x, n);
                          }
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
