#pragma once
// What a scheme costs on a tensor of a given shape, without the tensor's data: the memory
// planner prices whole models from config.json this way. Costs come from the registry's own
// quantizers (run on a synthetic probe of the same row width), so they are the same honest
// numbers `analyze` reports: payload + scales + zero-points + second-level scales. Tensors of up
// to kExactProbeElements are priced exactly; larger ones from two probes of whole rows, which is
// exact for every cost that grows by row (all group, channel and block layouts) and within a few
// bits for per-tensor extras that do not. Thread-safe.

#include "quant/scheme.h"
#include "quant/storage_cost.h"
#include "util/result.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

namespace qs {

inline constexpr std::int64_t kExactProbeElements = 1 << 18;

// NotApplicable when the scheme cannot quantize such a tensor (a ggml block that does not divide
// the row); an error for families not implemented.
Result<StorageCost> schemeStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols);

// What llama.cpp quantizes a tensor to when `s`'s block does not divide its rows
// (llama_tensor_get_type): Q2_K, Q3_K and IQ4_XS fall back to IQ4_NL, Q4_K to Q5_0, Q5_K to
// Q5_1, Q6_K to Q8_0, and that fallback to F16 where its own block does not divide the rows
// either (llamaCppLastResort). The 32-blocks asked for themselves (q4_0 ... q8_0, iq4_nl) have
// no fallback: llama-quantize stops ("Unsupported tensor size encountered"), and so does this,
// nullopt; so for families that are not ggml's, which always apply.
std::optional<Scheme> llamaCppFallback(const Scheme& s);
Scheme llamaCppLastResort(); // f16
// The message for a ggml type llama-quantize has no fallback for.
std::string noLlamaCppFallback(const Scheme& s);

struct ResolvedCost {
    Scheme scheme; // `s`, or the fallback actually used
    StorageCost cost;
};

// schemeStorageCost of `s`, else of its llamaCppFallback, else of llamaCppLastResort; NotApplicable
// (noLlamaCppFallback) where llama-quantize would stop.
Result<ResolvedCost> resolvedStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols);

// resolvedStorageCost memoised by (spec, rows, cols): models repeat a handful of shapes.
class SchemeCostCache {
public:
    Result<ResolvedCost> cost(const Scheme& s, std::int64_t rows, std::int64_t cols);

private:
    std::mutex m_mutex;
    std::map<std::tuple<std::string, std::int64_t, std::int64_t>, Result<ResolvedCost>> m_cache;
};

} // namespace qs
