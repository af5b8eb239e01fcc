#include "plan/scheme_cost.h"

#include "quant/int_quant.h"
#include "quant/registry.h"

#include <cmath>
#include <vector>

namespace qs {

namespace {

// Deterministic, roughly Gaussian values (sum of four uniforms) so no group is degenerate.
std::vector<float> probeValues(std::int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    for (auto& x : v) {
        double sum = 0;
        for (int k = 0; k < 4; ++k) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            sum += static_cast<double>(state >> 11) * 0x1.0p-53;
        }
        x = static_cast<float>((sum - 2.0) * 1.7320508);
    }
    return v;
}

Result<StorageCost> probe(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    const auto values = probeValues(rows * cols);
    auto q = quantize(s, MatrixView{values.data(), rows, cols});
    if (!q)
        return q.error();
    return q->cost;
}

std::uint64_t extrapolate(std::uint64_t c1, std::uint64_t c2, std::int64_t r1, std::int64_t rows) {
    // c(r) = c1 + (r - r1) * (c2 - c1) / r1, for probes of r1 and 2 * r1 rows.
    const double perRow =
        (static_cast<double>(c2) - static_cast<double>(c1)) / static_cast<double>(r1);
    const double v = static_cast<double>(c1) + perRow * static_cast<double>(rows - r1);
    return v <= 0 ? 0 : static_cast<std::uint64_t>(std::llround(v));
}

} // namespace

Result<StorageCost> schemeStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    if (rows <= 0 || cols <= 0)
        return makeError("cannot price an empty tensor");
    const FamilyInfo* f = findFamily(s.family);
    if (!f)
        return makeError("unknown scheme family '" + s.family + "'");
    if (!f->implemented())
        return makeError("the " + s.family + " family is not implemented yet");
    // Calibrated methods store plain int codes, scales and zero-points.
    if (f->needsActivations())
        return intStorageCost(s, rows, cols);
    // An importance matrix changes the codes a ggml format chooses, not its blocks' bytes.
    if (needsActivations(s)) {
        Scheme plain = s;
        plain.extra.erase(std::string(kImatrixOption));
        return schemeStorageCost(plain, rows, cols);
    }
    if (rows * cols <= kExactProbeElements || rows <= 2)
        return probe(s, rows, cols);
    const std::int64_t r1 = std::max<std::int64_t>(1, kExactProbeElements / (2 * cols));
    auto a = probe(s, r1, cols);
    if (!a)
        return a;
    auto b = probe(s, 2 * r1, cols);
    if (!b)
        return b;
    StorageCost c;
    c.elements = static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols);
    c.payloadBits = extrapolate(a->payloadBits, b->payloadBits, r1, rows);
    c.scaleBits = extrapolate(a->scaleBits, b->scaleBits, r1, rows);
    c.zeroBits = extrapolate(a->zeroBits, b->zeroBits, r1, rows);
    c.extraBits = extrapolate(a->extraBits, b->extraBits, r1, rows);
    return c;
}

std::optional<Scheme> llamaCppFallback(const Scheme& s) {
    static const std::map<std::string, std::string> kNext = {
        {"q2_k", "iq4_nl"}, {"q3_k", "iq4_nl"}, {"iq4_xs", "iq4_nl"},
        {"q4_k", "q5_0"},   {"q5_k", "q5_1"},   {"q6_k", "q8_0"},
    };
    auto it = kNext.find(s.family);
    if (it == kNext.end())
        return std::nullopt;
    auto next = Scheme::parse(it->second);
    if (!next)
        return std::nullopt;
    // llama-quantize passes the tensor's importance matrix to the fallback type too.
    if (s.extra.count(std::string(kImatrixOption)))
        next->extra[std::string(kImatrixOption)] = "";
    return *next;
}

Scheme llamaCppLastResort() {
    return *Scheme::parse("f16");
}

std::string noLlamaCppFallback(const Scheme& s) {
    return s.toString() +
           " has no llama.cpp fallback for such rows: llama-quantize stops (Unsupported tensor "
           "size encountered)";
}

Result<ResolvedCost> resolvedStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    auto c = schemeStorageCost(s, rows, cols);
    if (c)
        return ResolvedCost{s, *c};
    if (c.error().kind != ErrorKind::NotApplicable)
        return c.error();
    const auto next = llamaCppFallback(s);
    if (!next) {
        if (!findFamily(s.family) || findFamily(s.family)->kind != FamilyKind::GgmlBlock)
            return c.error();
        return makeError(c.message() + "; " + noLlamaCppFallback(s), ErrorKind::NotApplicable);
    }
    for (const Scheme& t : {*next, llamaCppLastResort()}) {
        auto f = schemeStorageCost(t, rows, cols);
        if (f)
            return ResolvedCost{t, *f};
        if (f.error().kind != ErrorKind::NotApplicable)
            return f.error();
    }
    return makeError("no applicable fallback for " + s.toString(), ErrorKind::NotApplicable);
}

Result<ResolvedCost> SchemeCostCache::cost(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    auto key = std::make_tuple(s.toString(), rows, cols);
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_cache.find(key); it != m_cache.end())
            return it->second;
    }
    auto r = resolvedStorageCost(s, rows, cols);
    std::lock_guard lock(m_mutex);
    m_cache.emplace(std::move(key), r);
    return r;
}

} // namespace qs
