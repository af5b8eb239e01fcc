#pragma once
// The memory lesson's calculator: "parameters x bytes per parameter", then the costs people
// forget, added one at a time — the scales and zero-points a quantized format stores beside its
// codes, the KV cache of the context being served, and, for training every parameter, gradients,
// Adam's two moments and fp32 master weights. A deliberately simple model for teaching (the
// planner in core/plan is the full one). Pure; any thread.

#include "quant/scheme.h"
#include "util/result.h"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace qs {

// A Llama-style decoder, as its config.json describes it.
struct ModelShape {
    std::string_view name;
    double params = 0; // total parameters
    int layers = 0;
    int kvHeads = 0; // key/value heads (grouped-query attention)
    int headDim = 0;
};
std::span<const ModelShape> memoryModelPresets();

enum class MemoryItem {
    Weights,         // params x payload bits / 8
    Scales,          // params x (bits per weight - payload bits) / 8
    KvCache,         // 2 (K and V) x layers x kvHeads x headDim x context x batch x bytes
    Gradients,       // params x 2 (bf16)
    OptimizerStates, // params x 8 (Adam: two fp32 moments)
    MasterWeights,   // params x 4 (fp32 copy kept by mixed-precision training)
};
inline constexpr MemoryItem kMemoryItems[] = {
    MemoryItem::Weights,   MemoryItem::Scales,          MemoryItem::KvCache,
    MemoryItem::Gradients, MemoryItem::OptimizerStates, MemoryItem::MasterWeights};

struct WeightBits {
    double payload = 0;  // code bits per weight (4 for int4)
    double overhead = 0; // scales, zero-points, second-level scales per weight
    double total() const { return payload + overhead; }
};
// The honest split of a scheme's bits per weight, measured by quantizing a [16, 4096] matrix
// (a row as wide as a typical hidden size, so channel scales cost what they cost there).
Result<WeightBits> weightBitsOf(const Scheme& s);

struct MemoryInputs {
    ModelShape model;
    WeightBits bits;
    std::int64_t context = 4096;
    std::int64_t batch = 1;
    double kvBytesPerElement = 2.0; // fp16
    std::vector<MemoryItem> included = {MemoryItem::Weights};
};

struct MemoryLine {
    MemoryItem item;
    double bytes = 0;
};

// Bytes of every item in `included`, in kMemoryItems order.
std::vector<MemoryLine> memoryBreakdown(const MemoryInputs& in);
double itemBytes(const MemoryInputs& in, MemoryItem item);
double totalBytes(const std::vector<MemoryLine>& lines);

} // namespace qs
