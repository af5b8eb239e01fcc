#pragma once
// Synthetic weights for the lessons: a few textbook distributions, all with mean 0 and a chosen
// standard deviation, optionally with injected outliers, reproducible from a seed on every
// platform (own generator and transforms; no std:: distributions, whose output is
// implementation-defined). Pure functions, callable from any thread.
//
//   gaussian   N(0, std^2)                                       excess kurtosis 0
//   laplace    b = std / sqrt(2)                                 excess kurtosis 3
//   student_t  nu degrees of freedom (integer >= 3), rescaled by sqrt((nu - 2) / nu)
//                                                                excess kurtosis 6/(nu - 4), nu > 4
//   uniform    [-a, a], a = std * sqrt(3)                        excess kurtosis -1.2
//   bimodal    equal mixture of N(+-m, s^2), m = 0.9 std, s = sqrt(1 - 0.81) std
//                                                                excess kurtosis -2 m^4/std^4
// Outliers: `outlierCount` distinct positions (chosen from the seed) are replaced by
// +-outlierScale * std (random sign, magnitude jittered by up to 10 %), the way a few channels of
// an LLM weight stand far out of the bulk.

#include <cstdint>
#include <string_view>
#include <vector>

namespace qs {

enum class Distribution { Gaussian, Laplace, StudentT, Uniform, Bimodal };

inline constexpr Distribution kDistributions[] = {Distribution::Gaussian, Distribution::Laplace,
                                                  Distribution::StudentT, Distribution::Uniform,
                                                  Distribution::Bimodal};

std::string_view distributionName(Distribution d); // "gaussian", "laplace", ...

struct SyntheticSpec {
    Distribution distribution = Distribution::Gaussian;
    std::int64_t rows = 64;
    std::int64_t cols = 256;
    double std = 0.02; // typical of a trained weight matrix
    int dof = 5;       // Student-t degrees of freedom (>= 3)
    int outlierCount = 0;
    double outlierScale = 20.0; // outlier magnitude in units of std
    std::uint64_t seed = 1;
};

// rows * cols values, row-major. Counts are clamped: outlierCount to [0, rows * cols].
std::vector<float> generateSynthetic(const SyntheticSpec& spec);

// The distribution's theoretical excess kurtosis without outliers (+inf for Student-t, nu <= 4).
double theoreticalExcessKurtosis(Distribution d, int dof = 5);
// The probability density at x for the spec's distribution (no outliers), for drawing over a
// histogram.
double syntheticDensity(const SyntheticSpec& spec, double x);

} // namespace qs
