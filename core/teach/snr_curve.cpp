#include "teach/snr_curve.h"

#include "metrics/error_metrics.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace qs {

double muLawCompress(double x, double mu) {
    return std::copysign(std::log1p(mu * std::abs(x)) / std::log1p(mu), x);
}

double muLawExpand(double y, double mu) {
    return std::copysign(std::expm1(std::abs(y) * std::log1p(mu)) / mu, y);
}

double quantizeFixedRange(double x, int bits, double mu) {
    const double q = std::ldexp(1.0, bits) - 1.0;
    const double t = std::clamp(x, -1.0, 1.0);
    const bool companded = mu > 0.0;
    const double y = companded ? muLawCompress(t, mu) : t;
    const double index = std::floor((y + 1.0) / 2.0 * q + 0.5);
    const double yq = 2.0 * std::clamp(index, 0.0, q) / q - 1.0;
    return companded ? muLawExpand(yq, mu) : yq;
}

std::vector<SnrPoint> snrVersusAmplitude(std::span<const float> shape, int bits, double mu,
                                         double dbLo, double dbHi, int steps) {
    std::vector<SnrPoint> out;
    if (shape.empty() || steps < 1)
        return out;
    out.reserve(static_cast<std::size_t>(steps));
    for (int k = 0; k < steps; ++k) {
        const double db = steps == 1 ? dbHi : dbLo + (dbHi - dbLo) * k / (steps - 1);
        const double a = std::pow(10.0, db / 20.0);
        double ref = 0, errLin = 0, errMu = 0;
        for (float s : shape) {
            const double x = a * s;
            ref += x * x;
            errLin += std::pow(x - quantizeFixedRange(x, bits, 0.0), 2);
            errMu += std::pow(x - quantizeFixedRange(x, bits, mu), 2);
        }
        out.push_back({db, sqnrDbFromSums(ref, errLin), sqnrDbFromSums(ref, errMu)});
    }
    return out;
}

std::vector<float> sineShape(int n) {
    std::vector<float> out(static_cast<std::size_t>(std::max(n, 0)));
    for (int i = 0; i < n; ++i)
        out[static_cast<std::size_t>(i)] =
            static_cast<float>(std::sin(2.0 * std::numbers::pi * i / n));
    return out;
}

double fullScaleSineSnrDb(int bits) {
    return 6.02 * bits + 1.76;
}

} // namespace qs
