#pragma once
// What a tensor is for, recognised from its name in the layouts of common architectures:
// Hugging Face (Llama, Mistral, Mixtral, Qwen, Gemma, Phi, DeepSeek, GPT-2, GPT-NeoX, Falcon,
// BERT, ViT), timm, Meta's original Llama names, Keras HDF5 names and GGUF's blk.N.* names.
// Used for the sensitivity map's filters, llama.cpp-style rules (keep embeddings and lm_head
// high), QLoRA's choice of what to quantize and LoRA targets. Pure functions; any thread.

#include <optional>
#include <string_view>

namespace qs {

enum class TensorRole { Attention, Mlp, Embedding, Norm, Output, Other };

std::string_view tensorRoleName(TensorRole r); // "attention", "mlp", "embedding", "norm", ...
std::optional<TensorRole> tensorRoleFromName(std::string_view name);

TensorRole classifyTensor(std::string_view tensorName);

// The transformer block a tensor belongs to ("model.layers.12.mlp..." -> 12, "blk.3.attn_q" -> 3,
// "h.0.attn", "encoder.layer.5", "blocks.7"); nullopt outside the blocks (embeddings, heads).
std::optional<int> layerIndex(std::string_view tensorName);

// A router (MoE gate: Mixtral's block_sparse_moe.gate, DeepSeek/Qwen's mlp.gate, GGUF
// ffn_gate_inp): classified as MLP, but small and sensitive, so callers often treat it apart.
bool isRouter(std::string_view tensorName);

} // namespace qs
