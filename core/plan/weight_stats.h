#pragma once
// What the sensitivity map shows beside a weight matrix's errors: its sum of squares, excess
// kurtosis and share of values beyond kOutlierSigmas standard deviations (as
// computeDistributionStats defines them) and SINQ's matrix imbalance (matrixImbalance), for
// tensors held whole (weightStats) or read in chunks of rows (ChunkedWeightStats: three passes,
// each giving every row once, in order) when too large to hold in float32.
//
// Every sum runs in one fixed order, whatever the chunks, the threads or the CPU: each row in
// eight lanes (lane j takes the elements j, j + 8, ..., and the lanes are added pairwise), rows
// in order, columns down the rows. So a tensor's numbers are the same whole or in chunks, and
// agree with computeDistributionStats and matrixImbalance (which sum in other orders) to
// rounding. Each row is a loop the compiler vectorises: the statistics of a sweep cost a few
// reads of the tensor.

#include "quant/registry.h"

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace qs {

struct WeightStats {
    double sumSq = 0;                                            // sum of w^2
    double kurtosis = 0, outlierShare = 0;                       // over the finite values
    double imbalance = std::numeric_limits<double>::quiet_NaN(); // NaN below 2 rows or columns
};

WeightStats weightStats(MatrixView w);

// How unevenly a layer's inputs are spread over its input channels: the largest channel's RMS
// over the median channel's, from each channel's mean square (an importance matrix's entry, or
// imatrixFromActivations of the activations). Channels far louder than the rest are what makes
// a layer's output error large where its weight error is not (LLM.int8(), SmoothQuant, AWQ).
// NaN without channels or where the median is 0.
double inputSpread(std::span<const float> meanSquares);

class ChunkedWeightStats {
public:
    static constexpr int kPasses = 3;

    ChunkedWeightStats(std::int64_t rows, std::int64_t cols);
    // The next rows of pass `pass` (0, 1, then 2): every pass gives all the rows, in order.
    void add(int pass, MatrixView chunk);
    WeightStats result() const;

private:
    void startPass(int pass);

    std::int64_t rows_, cols_;
    int pass_ = 0;
    double count_ = 0; // finite values
    double sum_ = 0, sumSq_ = 0, mean_ = 0, limit_ = 0;
    double m2_ = 0, m4_ = 0; // about the mean
    std::uint64_t outliers_ = 0;
    std::vector<double> rowDev_, colSum_, colSq_;
};

} // namespace qs
