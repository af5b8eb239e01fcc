#pragma once
// Small helpers shared by the quantizer tests (header-only: they need qs::core, which the tests
// link and the support library does not).

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

} // namespace qs::test
