#pragma once
// Small helpers shared by the quantizer tests (header-only: they need qs::core, which the tests
// link and the support library does not).

#include "methods/calibration.h"
#include "metrics/output_error.h"
#include "quant/registry.h"
#include "quant/scheme.h"

#include <QtGlobal>

#include <random>
#include <string>
#include <vector>

namespace qs::test {

// A scheme the test knows is valid; aborts the test run with the parser's message otherwise.
inline Scheme spec(const std::string& s) {
    auto r = Scheme::parse(s);
    if (!r.ok())
        qFatal("bad spec %s: %s", s.c_str(), r.message().c_str());
    return *r;
}

inline QuantOutput run(const std::string& s, const std::vector<float>& x, std::int64_t rows,
                       std::int64_t cols) {
    auto r = quantize(spec(s), MatrixView{x.data(), rows, cols});
    if (!r.ok())
        qFatal("quantize %s failed: %s", s.c_str(), r.message().c_str());
    return *r;
}

// n draws from N(0, sd^2), reproducible for a seed.
inline std::vector<float> gaussian(std::size_t n, unsigned seed, float sd = 0.02f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, sd);
    std::vector<float> v(n);
    for (auto& e : v)
        e = d(rng);
    return v;
}

// Synthetic activations [tokens, features] with `outliers` loud channels (`scale` times louder).
inline std::vector<float> activations(std::int64_t tokens, std::int64_t features, unsigned seed,
                                      int outliers = 4, double scale = 20) {
    return syntheticActivations({tokens, outliers, scale, seed}, features);
}

// ||XW^T - XW^^T|| / ||XW^T|| of `scheme` on weights w [rows, cols] with activations x.
inline double outError(const std::vector<float>& x, std::int64_t tokens,
                       const std::vector<float>& w, std::int64_t rows, std::int64_t cols,
                       const std::string& scheme) {
    const MatrixView xv{x.data(), tokens, cols}, wv{w.data(), rows, cols};
    auto q = quantize(spec(scheme), wv, {}, &xv);
    if (!q.ok())
        qFatal("%s: %s", scheme.c_str(), q.message().c_str());
    return outputRelativeError(xv, wv, q->reconstruction.data()).value();
}

} // namespace qs::test
