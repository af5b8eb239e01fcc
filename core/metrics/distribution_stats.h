#pragma once
// Distribution statistics of a tensor's values, in double: population moments (std divides by
// n; kurtosis is excess, m4/m2^2 - 3), and outlier_share = fraction of values farther than
// kOutlierSigmas standard deviations from the mean. Non-finite values are counted apart and
// left out of the moments.

#include <cstdint>
#include <span>

namespace qs {

inline constexpr double kOutlierSigmas = 3.0;

struct DistributionStats {
    std::uint64_t count = 0;     // finite values
    std::uint64_t nonFinite = 0; // NaN or Inf
    std::uint64_t zeros = 0;
    double mean = 0, std = 0, min = 0, max = 0, absmax = 0;
    double skew = 0, kurtosis = 0; // excess kurtosis
    double outlierShare = 0;
};

DistributionStats computeDistributionStats(std::span<const float> values);

} // namespace qs
