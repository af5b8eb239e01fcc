#pragma once
// The memory planner: what a model needs in memory to serve or fine-tune it, and which common
// GPUs hold it. A model is described by its weights (counted from a checkpoint's tensors, or
// synthesized from config.json's architecture, or only a parameter count); the estimate adds
//  - weights as stored (config: torch_dtype, or DeepSeek's block-fp8), or under a scheme or a
//    plan at honest bits per weight (scales and zero-points included; 1-D norms and biases, and
//    tensors a plan does not name, keep their stored precision; ggml blocks that do not divide a
//    row fall back as llama.cpp would);
//  - the KV cache for context x batch at the KV dtype (f16/bf16 16 bits, fp8 8, ggml's q8_0 8.5
//    and q4_0 4.5 per element), MLA's compressed cache (kv_lora_rank + qk_rope_head_dim per layer
//    per token), sliding-window layers capped at their window;
//  - activations: inference = one layer's working set for a full prefill of batch x context
//    tokens (flash-style attention, no tokens^2 scores, 16-bit) plus the last token's fp32
//    logits; training modes store every layer's working set (or only layer inputs with gradient
//    checkpointing) plus fp32 logits for every token;
//  - modes: train = weights + grads (stored precision) + Adam (fp32 master copy unless the
//    weights are fp32, and two fp32 moments); lora = frozen base + adapters r x (in + out) per
//    target matrix with fp32 weight, grad and two moments; qlora = the same over an nf4:g64:dq
//    base (attention and MLP matrices; embeddings and the head stay as stored).
// Bytes are exact integers; the estimate is the model's own memory (no runtime overhead, CUDA
// context or fragmentation). Pure functions; any thread.

#include "io/checkpoint.h"
#include "plan/architecture.h"
#include "plan/gpu_table.h"
#include "plan/plan_file.h"
#include "plan/tensor_roles.h"
#include "quant/scheme.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qs {

enum class MemoryMode { Inference, Train, Lora, Qlora };
enum class KvDtype { F16, BF16, FP8, Q8_0, Q4_0 };

std::string_view memoryModeName(MemoryMode m);
std::optional<MemoryMode> memoryModeFromName(std::string_view name);
std::string_view kvDtypeName(KvDtype t);
std::optional<KvDtype> kvDtypeFromName(std::string_view name);
double kvDtypeBits(KvDtype t); // per cached element, block overheads included

// One stored weight of a model.
struct ModelWeight {
    std::string name;
    std::vector<std::int64_t> shape;
    DType dtype = DType::BF16;
    std::uint64_t storedBits = 0; // as stored (quantized GGUF types, fp8 blocks with scales)
    TensorRole role = TensorRole::Other;

    std::uint64_t numel() const;
};

struct ModelDescription {
    std::vector<ModelWeight> weights; // empty when only a parameter count is known
    std::uint64_t params = 0;
    DType countDtype = DType::BF16;        // how a count-only model is stored
    std::optional<ModelArchitecture> arch; // needed for the KV cache and activations
    std::uint64_t mtpParams = 0;           // DeepSeek's MTP modules, when not included
    std::string source;                    // "config", "checkpoint" or "parameter count"
    std::vector<std::string> notes;
};

// From config.json text. `includeMtp` counts DeepSeek-V3's multi-token-prediction module
// (left out by default, as inference engines do; its size is still reported in mtpParams).
Result<ModelDescription> describeConfig(std::string_view configJson, bool includeMtp = false);
// From an opened checkpoint; the architecture from its config.json (a model folder's, or the one
// in the same folder as a single weights file) or its GGUF metadata.
ModelDescription describeCheckpoint(const Checkpoint& ckpt);
// Only a parameter count, stored at `dtype`.
ModelDescription describeParameterCount(std::uint64_t params, DType dtype = DType::BF16);

struct MemoryOptions {
    MemoryMode mode = MemoryMode::Inference;
    std::optional<Scheme> scheme; // weights (inference, lora base, qlora base) under this scheme
    const Plan* plan = nullptr;   // or under this plan (not owned)
    std::int64_t context = 4096;  // tokens per sequence
    std::int64_t batch = 1;       // sequences
    KvDtype kvDtype = KvDtype::F16;
    int loraRank = 16;
    // Module names (a component of the tensor name, e.g. "q_proj") LoRA adapts; empty: every
    // attention and MLP matrix except routers ("all-linear").
    std::vector<std::string> loraTargets;
    bool gradientCheckpointing = false;
};

struct RoleBytes {
    TensorRole role;
    std::uint64_t params = 0;
    std::uint64_t bytes = 0;
};

struct MemoryEstimate {
    MemoryMode mode = MemoryMode::Inference;
    std::uint64_t params = 0;
    std::uint64_t quantizedParams = 0; // under the scheme/plan; the rest stay as stored
    std::uint64_t weightsBytes = 0;
    double bitsPerWeight = 0; // weights_bytes * 8 / params
    std::vector<RoleBytes> weightsByRole;
    std::uint64_t kvCacheBytes = 0;
    std::uint64_t kvBytesPerToken = 0; // all layers, full attention, one sequence
    std::uint64_t activationBytes = 0;
    std::uint64_t gradientBytes = 0;  // train: all weights; lora/qlora: adapters
    std::uint64_t optimizerBytes = 0; // Adam moments (+ fp32 master copy)
    std::uint64_t adapterParams = 0;
    std::uint64_t adapterBytes = 0;
    std::uint64_t totalBytes = 0;
    std::vector<GpuFit> fits;
    std::vector<std::string> notes; // assumptions and what could not be estimated
};

Result<MemoryEstimate> estimateMemory(const ModelDescription& model, const MemoryOptions& options);

} // namespace qs
