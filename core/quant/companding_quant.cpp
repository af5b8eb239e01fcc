#include "quant/companding_quant.h"

#include "quant/group_quant.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace qs {
namespace {

enum class Law { Mu, A, Log };

Law lawOf(const Scheme& s) {
    return s.family == "mulaw" ? Law::Mu : s.family == "alaw" ? Law::A : Law::Log;
}

double compress(Law law, double p, double t) {
    const double a = std::fabs(t);
    double y;
    if (law == Law::Mu) {
        y = std::log1p(p * a) / std::log1p(p);
    } else {
        const double d = 1.0 + std::log(p);
        y = a < 1.0 / p ? p * a / d : (1.0 + std::log(p * a)) / d;
    }
    return std::copysign(y, t);
}

double expand(Law law, double p, double y) {
    const double a = std::fabs(y);
    double t;
    if (law == Law::Mu) {
        t = std::expm1(a * std::log1p(p)) / p;
    } else {
        const double d = 1.0 + std::log(p);
        t = a < 1.0 / d ? a * d / p : std::exp(a * d - 1.0) / p;
    }
    return std::copysign(t, y);
}

// Positive log levels 0, 2^(1-M), ..., 1 for b bits.
std::vector<float> logMagnitudes(int bits) {
    const int m = (1 << (bits - 1)) - 1;
    std::vector<float> v{0.0f};
    for (int k = 1; k <= m; ++k)
        v.push_back(std::ldexp(1.0f, k - m));
    return v;
}

struct Companding {
    Law law;
    double param;
    double q;                                 // 2^b - 1
    std::vector<float> magnitudes, midpoints; // log only

    explicit Companding(const Scheme& s)
        : law(lawOf(s)), param(s.familyParam), q(static_cast<double>((1 << s.bits) - 1)) {
        if (law == Law::Log) {
            magnitudes = logMagnitudes(s.bits);
            midpoints = levelMidpoints(magnitudes);
        }
    }

    // Reconstruction of x with group scale `scale` (the absmax); u < 0: nearest.
    float operator()(float x, float scale, float u) const {
        if (scale == 0.0f || std::isnan(scale))
            return 0.0f;
        const double t = std::clamp(static_cast<double>(x) / scale, -1.0, 1.0);
        if (law == Law::Log) {
            const auto a = static_cast<float>(std::fabs(t));
            const std::size_t i =
                u < 0.0f ? nearestLevelIndex(midpoints, a) : stochasticLevelIndex(magnitudes, a, u);
            return std::copysign(magnitudes[i], static_cast<float>(t)) * scale;
        }
        const double idx = code(t, u < 0.0f ? 0.5 : u);
        return static_cast<float>(expand(law, param, idx / q * 2.0 - 1.0)) * scale;
    }

    // mulaw / alaw: the index of t in [-1, 1], rounding by floor(v + r) in the index domain.
    double code(double t, double r) const {
        const double v = (compress(law, param, t) + 1.0) / 2.0 * q;
        return std::clamp(std::floor(v + r), 0.0, q);
    }

    std::vector<float> unitLevels() const {
        std::vector<float> v;
        if (law == Law::Log) {
            for (auto it = magnitudes.rbegin(); it != magnitudes.rend() - 1; ++it)
                v.push_back(-*it);
            v.insert(v.end(), magnitudes.begin(), magnitudes.end());
            return v;
        }
        for (int i = 0; i <= static_cast<int>(q); ++i)
            v.push_back(static_cast<float>(expand(law, param, i / q * 2.0 - 1.0)));
        return v;
    }
};

// Doubles in their order as integers (-0 and +0 the same), for a bisection over them.
std::int64_t orderKey(double x) {
    std::int64_t b;
    std::memcpy(&b, &x, sizeof b);
    return b >= 0 ? b : std::numeric_limits<std::int64_t>::min() - b;
}

double fromOrderKey(std::int64_t k) {
    const std::int64_t b = k >= 0 ? k : std::numeric_limits<std::int64_t>::min() - k;
    double x;
    std::memcpy(&x, &b, sizeof x);
    return x;
}

} // namespace

int compandingCode(const Scheme& s, double t) {
    return static_cast<int>(Companding(s).code(t, 0.5));
}

std::optional<CompandingTable> compandingTable(const Scheme& s) {
    if (lawOf(s) == Law::Log || s.bits < 2 || s.bits > 8)
        return std::nullopt;
    const Companding c(s);
    const int q = (1 << s.bits) - 1;
    CompandingTable t;
    for (int k = 0; k <= q; ++k)
        t.levels.push_back(static_cast<float>(expand(c.law, c.param, k / c.q * 2.0 - 1.0)));
    const std::int64_t first = orderKey(-1.0), last = orderKey(1.0);
    for (int k = 1; k <= q; ++k) {
        const auto reaches = [&](std::int64_t key) { return c.code(fromOrderKey(key), 0.5) >= k; };
        if (!reaches(last)) { // never: no t in [-1, 1] gets code k
            t.thresholds.push_back(std::numeric_limits<double>::infinity());
            continue;
        }
        std::int64_t lo = first, hi = last; // the smallest key in [lo, hi] that reaches k
        if (reaches(lo)) {
            t.thresholds.push_back(-1.0);
            continue;
        }
        while (hi - lo > 1) { // reaches(hi), !reaches(lo)
            const std::int64_t mid = lo + (hi - lo) / 2;
            (reaches(mid) ? hi : lo) = mid;
        }
        t.thresholds.push_back(fromOrderKey(hi));
    }
    return t;
}

Result<QuantOutput> quantizeCompanding(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    if (s.bits < 2 || s.bits > 8)
        return makeError("scheme " + s.toString() + ": companding takes 2..8 bits");
    const Companding c(s);
    auto g = quantizeScaledGroups(
        s, m, 1.0f, [&c](float x, float scale, float u) { return c(x, scale, u); }, progress);
    if (!g)
        return g.error();
    QuantOutput out;
    out.reconstruction = std::move(g->reconstruction);
    out.cost = compandingStorageCost(s, m.rows, m.cols);
    if (!g->scales.empty()) {
        const std::size_t w = g->widestGroup();
        setCompandingLevels(s, m.rows, m.cols, w, g->scales[w], out);
    }
    addNonFiniteDiagnostic(out.diagnostics, g->nonFinite);
    return out;
}

std::vector<float> compandingUnitLevels(const Scheme& s) {
    return Companding(s).unitLevels();
}

StorageCost compandingStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    const GroupLayout layout = groupLayout(s, rows, cols);
    StorageCost c;
    c.elements = static_cast<std::uint64_t>(rows * cols);
    c.payloadBits = c.elements * static_cast<std::uint64_t>(s.bits);
    const auto groups =
        static_cast<std::uint64_t>(layout.wholeTensor ? 1 : layout.groupCount(rows));
    c.scaleBits = c.elements ? groups * 16 : 0; // an fp16 scale per group
    return c;
}

void setCompandingLevels(const Scheme& s, std::int64_t rows, std::int64_t cols, std::size_t widest,
                         float absmax, QuantOutput& out) {
    out.levels.clear();
    for (float l : compandingUnitLevels(s))
        out.levels.push_back(l * absmax);
    out.levelsNote = widestGroupNote(s, groupLayout(s, rows, cols), widest);
}

} // namespace qs
