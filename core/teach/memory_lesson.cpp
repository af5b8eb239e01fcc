#include "teach/memory_lesson.h"

#include "plan/scheme_cost.h"

#include <algorithm>

namespace qs {
namespace {

constexpr std::int64_t kProbeRows = 16;
constexpr std::int64_t kProbeCols = 4096;
constexpr double kGradientBytes = 2.0;  // bf16
constexpr double kOptimizerBytes = 8.0; // Adam m and v in fp32
constexpr double kMasterBytes = 4.0;    // fp32 master copy

// Published configurations (config.json of each model).
constexpr ModelShape kPresets[] = {
    {"Llama 3.2 1B", 1.24e9, 16, 8, 64},
    {"Llama 3.1 8B", 8.03e9, 32, 8, 128},
    {"Llama 2 13B", 13.0e9, 40, 40, 128},
    {"Llama 3.1 70B", 70.6e9, 80, 8, 128},
};

} // namespace

std::span<const ModelShape> memoryModelPresets() {
    return kPresets;
}

Result<WeightBits> weightBitsOf(const Scheme& s) {
    auto cost = schemeStorageCost(s, kProbeRows, kProbeCols); // the planner's own pricing
    if (!cost)
        return cost.error();
    const double n = static_cast<double>(cost->elements);
    WeightBits b;
    b.payload = static_cast<double>(cost->payloadBits) / n;
    b.overhead = static_cast<double>(cost->scaleBits + cost->zeroBits + cost->extraBits) / n;
    return b;
}

double itemBytes(const MemoryInputs& in, MemoryItem item) {
    const double p = in.model.params;
    switch (item) {
    case MemoryItem::Weights:
        return p * in.bits.payload / 8.0;
    case MemoryItem::Scales:
        return p * in.bits.overhead / 8.0;
    case MemoryItem::KvCache:
        return 2.0 * in.model.layers * in.model.kvHeads * in.model.headDim *
               static_cast<double>(in.context) * static_cast<double>(in.batch) *
               in.kvBytesPerElement;
    case MemoryItem::Gradients:
        return p * kGradientBytes;
    case MemoryItem::OptimizerStates:
        return p * kOptimizerBytes;
    case MemoryItem::MasterWeights:
        return p * kMasterBytes;
    }
    return 0.0;
}

std::vector<MemoryLine> memoryBreakdown(const MemoryInputs& in) {
    std::vector<MemoryLine> out;
    for (MemoryItem item : kMemoryItems)
        if (std::find(in.included.begin(), in.included.end(), item) != in.included.end())
            out.push_back({item, itemBytes(in, item)});
    return out;
}

double totalBytes(const std::vector<MemoryLine>& lines) {
    double sum = 0;
    for (const MemoryLine& l : lines)
        sum += l.bytes;
    return sum;
}

} // namespace qs
