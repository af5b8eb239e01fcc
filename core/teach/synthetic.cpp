#include "teach/synthetic.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <unordered_set>

namespace qs {
namespace {

constexpr double kBimodalOffset = 0.9; // peak position in units of std
constexpr double kOutlierJitter = 0.1;

// splitmix64: tiny, fast, and the same numbers everywhere.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : m_state(seed * 0x9E3779B97F4A7C15ull + 0x1234567ull) {}
    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in (0, 1): never exactly 0 or 1, so logarithms stay finite.
    double open01() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
    double normal() {
        if (m_haveSpare) {
            m_haveSpare = false;
            return m_spare;
        }
        const double r = std::sqrt(-2.0 * std::log(open01()));
        const double t = 2.0 * std::numbers::pi * open01();
        m_spare = r * std::sin(t);
        m_haveSpare = true;
        return r * std::cos(t);
    }

private:
    std::uint64_t m_state;
    double m_spare = 0;
    bool m_haveSpare = false;
};

int clampDof(int dof) {
    return std::max(dof, 3);
}

// One draw with unit variance.
double unitSample(Distribution d, int dof, Rng& rng) {
    switch (d) {
    case Distribution::Gaussian:
        return rng.normal();
    case Distribution::Laplace: {
        const double u = rng.open01() - 0.5;
        const double b = 1.0 / std::numbers::sqrt2;
        return -b * std::copysign(1.0, u) * std::log(1.0 - 2.0 * std::abs(u));
    }
    case Distribution::StudentT: {
        double chi2 = 0;
        for (int k = 0; k < dof; ++k) {
            const double z = rng.normal();
            chi2 += z * z;
        }
        const double t = rng.normal() / std::sqrt(chi2 / dof);
        return t * std::sqrt((dof - 2.0) / dof);
    }
    case Distribution::Uniform:
        return (2.0 * rng.open01() - 1.0) * std::sqrt(3.0);
    case Distribution::Bimodal: {
        const double s = std::sqrt(1.0 - kBimodalOffset * kBimodalOffset);
        const double centre = (rng.next() & 1u) ? kBimodalOffset : -kBimodalOffset;
        return centre + s * rng.normal();
    }
    }
    return 0.0;
}

double normalPdf(double z) {
    return std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
}

} // namespace

std::string_view distributionName(Distribution d) {
    switch (d) {
    case Distribution::Gaussian:
        return "gaussian";
    case Distribution::Laplace:
        return "laplace";
    case Distribution::StudentT:
        return "student_t";
    case Distribution::Uniform:
        return "uniform";
    case Distribution::Bimodal:
        return "bimodal";
    }
    return "gaussian";
}

std::vector<float> generateSynthetic(const SyntheticSpec& spec) {
    const std::int64_t n =
        std::max<std::int64_t>(0, spec.rows) * std::max<std::int64_t>(0, spec.cols);
    std::vector<float> out(static_cast<std::size_t>(n));
    Rng rng(spec.seed);
    const int dof = clampDof(spec.dof);
    for (float& v : out)
        v = static_cast<float>(spec.std * unitSample(spec.distribution, dof, rng));

    const std::int64_t outliers = std::clamp<std::int64_t>(spec.outlierCount, 0, n);
    // A separate stream for the positions, so adding outliers leaves the bulk unchanged.
    Rng pick(spec.seed ^ 0xA5A5A5A5DEADBEEFull);
    std::unordered_set<std::int64_t> used;
    while (static_cast<std::int64_t>(used.size()) < outliers) {
        const auto at = static_cast<std::int64_t>(pick.next() % static_cast<std::uint64_t>(n));
        if (!used.insert(at).second)
            continue;
        const double sign = (pick.next() & 1u) ? 1.0 : -1.0;
        const double jitter = 1.0 + kOutlierJitter * (2.0 * pick.open01() - 1.0);
        out[static_cast<std::size_t>(at)] =
            static_cast<float>(sign * spec.outlierScale * jitter * spec.std);
    }
    return out;
}

double theoreticalExcessKurtosis(Distribution d, int dof) {
    switch (d) {
    case Distribution::Gaussian:
        return 0.0;
    case Distribution::Laplace:
        return 3.0;
    case Distribution::StudentT:
        dof = clampDof(dof);
        return dof > 4 ? 6.0 / (dof - 4.0) : std::numeric_limits<double>::infinity();
    case Distribution::Uniform:
        return -1.2;
    case Distribution::Bimodal:
        return -2.0 * std::pow(kBimodalOffset, 4);
    }
    return 0.0;
}

double syntheticDensity(const SyntheticSpec& spec, double x) {
    if (!(spec.std > 0))
        return 0.0;
    const double z = x / spec.std; // density of the unit-variance variable, then rescaled
    double f = 0.0;
    switch (spec.distribution) {
    case Distribution::Gaussian:
        f = normalPdf(z);
        break;
    case Distribution::Laplace: {
        const double b = 1.0 / std::numbers::sqrt2;
        f = std::exp(-std::abs(z) / b) / (2.0 * b);
        break;
    }
    case Distribution::StudentT: {
        const double nu = clampDof(spec.dof);
        const double c = std::sqrt((nu - 2.0) / nu);
        const double t = z / c;
        const double logNorm = std::lgamma((nu + 1.0) / 2.0) - std::lgamma(nu / 2.0) -
                               0.5 * std::log(nu * std::numbers::pi);
        f = std::exp(logNorm - (nu + 1.0) / 2.0 * std::log1p(t * t / nu)) / c;
        break;
    }
    case Distribution::Uniform: {
        const double a = std::sqrt(3.0);
        f = std::abs(z) <= a ? 1.0 / (2.0 * a) : 0.0;
        break;
    }
    case Distribution::Bimodal: {
        const double s = std::sqrt(1.0 - kBimodalOffset * kBimodalOffset);
        f = 0.5 * (normalPdf((z - kBimodalOffset) / s) + normalPdf((z + kBimodalOffset) / s)) / s;
        break;
    }
    }
    return f / spec.std;
}

} // namespace qs
