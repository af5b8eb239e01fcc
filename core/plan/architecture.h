#pragma once
// A decoder-only transformer's shape as read from a Hugging Face config.json (or a GGUF file's
// metadata), and the tensors such a model holds. Covers dense and GQA attention (Llama, Mistral,
// Qwen2/3, Phi-3, Gemma 2/3), DeepSeek's multi-head latent attention (MLA, q/kv LoRA ranks),
// sliding-window and hybrid layers (Mistral, Gemma 2/3, `layer_types`), and mixture-of-experts
// blocks (Mixtral, Qwen-MoE with a shared expert, DeepSeek with shared experts and leading dense
// layers). Parameter counts follow from the synthesized tensor list, so they are exact for the
// layouts Hugging Face transformers builds. Pure functions; any thread.

#include "tensor/dtype.h"
#include "util/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace qs {

struct ModelArchitecture {
    std::string modelType; // "llama", "qwen2", "deepseek_v3", ...
    std::int64_t hiddenSize = 0;
    std::int64_t intermediateSize = 0; // dense MLP width
    std::int64_t numLayers = 0;
    std::int64_t numHeads = 0;
    std::int64_t numKvHeads = 0;
    std::int64_t headDim = 0;  // per head, q and k
    std::int64_t vHeadDim = 0; // per head, v (== headDim except MLA)
    std::int64_t vocabSize = 0;
    std::int64_t maxContext = 0; // max_position_embeddings (GGUF: context_length); 0: unknown
    bool tiedEmbeddings = false;
    bool qkvBias = false; // Qwen2: biases on q, k, v only
    bool oBias = false;   // attention_bias: also on o_proj
    bool mlpBias = false;
    bool qkNorm = false;   // Qwen3, Gemma 3: RMSNorm over each head of q and k
    int normsPerLayer = 2; // Gemma 2/3 add pre/post feed-forward norms: 4

    // Multi-head latent attention (DeepSeek-V2/V3). kvLoraRank > 0 means MLA.
    std::int64_t qLoraRank = 0; // 0: q_proj is a plain [heads * (nope + rope), hidden] matrix
    std::int64_t kvLoraRank = 0;
    std::int64_t qkRopeHeadDim = 0;
    std::int64_t qkNopeHeadDim = 0;
    bool isMla() const { return kvLoraRank > 0; }

    // Mixture of experts. numExperts == 0: every layer is dense.
    std::int64_t numExperts = 0;
    std::int64_t expertsPerToken = 0;
    std::int64_t moeIntermediateSize = 0;
    std::int64_t numSharedExperts = 0;             // DeepSeek: shared experts of moe width
    std::int64_t sharedExpertIntermediateSize = 0; // Qwen-MoE: one shared expert of this width
    bool sharedExpertGate = false;                 // Qwen-MoE's sigmoid gate on the shared expert
    bool routerBias = false;                       // DeepSeek-V3's e_score_correction_bias
    std::vector<bool> moeLayers;                   // per layer: MoE (true) or dense MLP

    // Sliding-window attention: per layer, the window in tokens (0: full attention).
    std::vector<std::int64_t> layerWindow;

    // DeepSeek-V3's multi-token-prediction modules (checkpoint layers after numLayers).
    std::int64_t numMtpLayers = 0;

    bool languageModelOnly = false; // a multimodal config: its text_config is what is described
    DType dtype = DType::BF16;      // torch_dtype
    bool dtypeGuessed = false;      // no torch_dtype in the config: bf16 assumed
    // Block-wise fp8 checkpoints (DeepSeek-V3's quantization_config): linear weights are fp8
    // with one fp32 scale per block; 0 when the checkpoint is not stored that way.
    std::int64_t fp8BlockRows = 0, fp8BlockCols = 0;

    bool isMoeLayer(std::int64_t layer) const {
        return layer >= 0 && static_cast<size_t>(layer) < moeLayers.size() && moeLayers[layer];
    }
    std::int64_t windowOf(std::int64_t layer) const {
        return layer >= 0 && static_cast<size_t>(layer) < layerWindow.size() ? layerWindow[layer]
                                                                             : 0;
    }
    // Elements of K and V cached per token in `layer` (MLA: the compressed latent + rope key).
    std::int64_t kvElementsPerToken() const;
};

// Reads config.json text. Multimodal configs with a "text_config" use that part.
Result<ModelArchitecture> parseArchitecture(std::string_view configJson);
// From GGUF metadata as the reader shows it ("llama.block_count" = "5", ...).
Result<ModelArchitecture> architectureFromGguf(const std::map<std::string, std::string>& meta);

// One weight of the model as transformers names and shapes it.
struct ArchTensor {
    std::string name;
    std::vector<std::int64_t> shape;
    bool mtp = false; // belongs to a multi-token-prediction module
};

// Every tensor of the model, in checkpoint order. `includeMtp` adds DeepSeek's MTP modules
// (their own layer, enorm/hnorm, eh_proj, and the embedding/head copies the checkpoint stores).
std::vector<ArchTensor> architectureTensors(const ModelArchitecture& a, bool includeMtp = false);

std::uint64_t parameterCount(const std::vector<ArchTensor>& tensors, bool includeMtp = false);

} // namespace qs
