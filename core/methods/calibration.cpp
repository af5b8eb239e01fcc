#include "methods/calibration.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

namespace qs {
namespace {

template <class T> bool parseField(std::string_view text, T& out) {
    const auto* end = text.data() + text.size();
    const auto r = std::from_chars(text.data(), end, out);
    return r.ec == std::errc() && r.ptr == end;
}

} // namespace

Result<SyntheticCalibration> parseSyntheticCalibration(std::string_view spec) {
    const std::string quoted = "'" + std::string(spec) + "'";
    if (spec.substr(0, kSyntheticCalibrationPrefix.size()) != kSyntheticCalibrationPrefix)
        return makeError(quoted + " is not a synthetic activation spec");
    std::vector<std::string_view> fields;
    std::string_view rest = spec.substr(kSyntheticCalibrationPrefix.size());
    while (true) {
        const auto colon = rest.find(':');
        fields.push_back(rest.substr(0, colon));
        if (colon == std::string_view::npos)
            break;
        rest = rest.substr(colon + 1);
    }
    if (fields.size() != 3 && fields.size() != 4)
        return makeError(quoted + ": expected synthetic:TOKENS:OUTLIERS:SCALE[:SEED]");
    SyntheticCalibration c;
    // std::from_chars for double is available in libstdc++ 11+, which C++20 builds have.
    if (!parseField(fields[0], c.tokens) || c.tokens < 1 || c.tokens > 1'000'000)
        return makeError(quoted + ": TOKENS must be an integer in [1, 1000000]");
    if (!parseField(fields[1], c.outliers) || c.outliers < 0)
        return makeError(quoted + ": OUTLIERS must be a non-negative integer");
    if (!parseField(fields[2], c.outlierScale) || !std::isfinite(c.outlierScale) ||
        c.outlierScale <= 0)
        return makeError(quoted + ": SCALE must be a positive number");
    if (fields.size() == 4 && !parseField(fields[3], c.seed))
        return makeError(quoted + ": SEED must be a non-negative integer");
    return c;
}

std::vector<std::int64_t> syntheticOutlierChannels(const SyntheticCalibration& spec,
                                                   std::int64_t features) {
    std::vector<std::int64_t> all(static_cast<std::size_t>(std::max<std::int64_t>(features, 0)));
    std::iota(all.begin(), all.end(), 0);
    // A seeded Fisher-Yates prefix: std::shuffle's draws are implementation-defined, this is not.
    std::mt19937_64 rng(spec.seed ^ 0x5eed0fca11b7a7e5ull);
    const auto k = static_cast<std::size_t>(std::clamp<std::int64_t>(spec.outliers, 0, features));
    for (std::size_t i = 0; i < k; ++i) {
        const std::size_t j = i + static_cast<std::size_t>(rng() % (all.size() - i));
        std::swap(all[i], all[j]);
    }
    all.resize(k);
    std::sort(all.begin(), all.end());
    return all;
}

std::vector<float> syntheticActivations(const SyntheticCalibration& spec, std::int64_t features) {
    const std::int64_t n = std::max<std::int64_t>(features, 0);
    std::mt19937_64 rng(spec.seed);
    // Box-Muller by hand: std::normal_distribution's algorithm differs between standard
    // libraries, and the same spec should give the same activations everywhere.
    const auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; };
    const auto normals = [&](std::size_t count) {
        std::vector<double> v(count);
        for (std::size_t i = 0; i < count; i += 2) {
            const double r = std::sqrt(-2.0 * std::log(uniform()));
            const double t = 2.0 * 3.14159265358979323846 * uniform();
            v[i] = r * std::cos(t);
            if (i + 1 < count)
                v[i + 1] = r * std::sin(t);
        }
        return v;
    };
    // Real activations are far from independent across channels (a few directions carry much
    // of the variance), and that correlation is what GPTQ's error feedback exploits: each
    // token is an independent part plus a shared rank-kRank part, each half of the variance.
    constexpr std::int64_t kRank = 8;
    const auto tokens = static_cast<std::size_t>(spec.tokens);
    const auto width = static_cast<std::size_t>(n);
    const std::vector<double> basis = normals(width * kRank);    // [features, kRank]
    const std::vector<double> factors = normals(tokens * kRank); // [tokens, kRank]
    const std::vector<double> noise = normals(tokens * width);
    const double shared = std::sqrt(0.5 / kRank), own = std::sqrt(0.5);
    std::vector<float> x(tokens * width);
    for (std::size_t t = 0; t < tokens; ++t)
        for (std::size_t c = 0; c < width; ++c) {
            double v = 0;
            for (std::size_t k = 0; k < kRank; ++k)
                v += basis[c * kRank + k] * factors[t * kRank + k];
            x[t * width + c] = static_cast<float>(own * noise[t * width + c] + shared * v);
        }
    const auto scale = static_cast<float>(spec.outlierScale);
    for (const std::int64_t c : syntheticOutlierChannels(spec, n))
        for (std::int64_t t = 0; t < spec.tokens; ++t)
            x[static_cast<std::size_t>(t * n + c)] *= scale;
    return x;
}

} // namespace qs
