#pragma once
// Error statistics of (original, reconstructed), accumulated in double:
//   mse = mean((w - w^)^2), rel_rmse = ||w - w^|| / ||w||, sqnr_db = 10 log10(||w||^2 / ||w -
//   w^||^2)
//   (+inf when the reconstruction is exact), cosine = <w, w^> / (||w|| ||w^||).
// Sums are kept so totals over many tensors can be combined exactly. computeErrorMetrics sums
// each stretch of 2^15 values in eight lanes (util/simd_lanes.h) and the stretches in a fixed
// tree: the same numbers on any CPU and thread count.

#include <cstdint>
#include <span>

namespace qs {

struct ErrorMetrics {
    std::uint64_t count = 0;
    double sumSqErr = 0; // sum (w - w^)^2
    double sumSqRef = 0; // sum w^2
    double sumSqRec = 0; // sum w^^2
    double dot = 0;      // sum w * w^
    double maxAbsErr = 0;

    double mse() const;
    double rmse() const;
    double relRmse() const;
    double sqnrDb() const;
    double cosine() const;

    void merge(const ErrorMetrics& o);
};

ErrorMetrics computeErrorMetrics(std::span<const float> original,
                                 std::span<const float> reconstructed);

double sqnrDbFromSums(double sumSqRef, double sumSqErr);

} // namespace qs
