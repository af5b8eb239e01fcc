#pragma once
// llama.cpp's tensor names for Hugging Face checkpoints of the common decoder architectures
// (Llama, Mistral, Qwen2), and the GGUF metadata llama.cpp needs, mapped from config.json as
// convert_hf_to_gguf.py does. Pure functions; any thread.
//
// Llama and Mistral checkpoints store q_proj/k_proj rows in Hugging Face's rotary order;
// llama.cpp wants Meta's interleaved order, so those rows are permuted back (the inverse of
// transformers' conversion, convert_hf_to_gguf.py's LlamaModel.permute). Qwen2 uses NeoX rotary
// and is copied as is.

#include "util/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qs {

struct LlamaArchitecture {
    std::string hfClass;   // "LlamaForCausalLM"
    std::string ggufArch;  // "llama", "qwen2"
    bool permuteQk = true; // Llama/Mistral: un-permute q/k rows
    int heads = 0, kvHeads = 0;
};

// A GGUF key-value pair built from config.json, as a typed value.
struct GgufMetaValue {
    enum class Kind { String, U32, F32, Bool } kind = Kind::String;
    std::string key;
    std::string s;
    std::uint32_t u = 0;
    float f = 0.0f;
    bool b = false;
};

struct MappedConfig {
    LlamaArchitecture arch;
    std::vector<GgufMetaValue> metadata; // general.* and <arch>.* keys
    bool tiedEmbeddings = false;
};

// Reads config.json text; an error names what is missing or which architecture is unsupported.
Result<MappedConfig> mapHfConfig(const std::string& configJson, const std::string& modelName);

// "model.layers.3.mlp.down_proj.weight" -> "blk.3.ffn_down.weight"; nullopt for a name llama.cpp
// has no tensor for (e.g. rotary_emb.inv_freq).
std::optional<std::string> hfToGgufName(const std::string& hfName);
// The inverse, for GGUF sources exported to Hugging Face targets.
std::optional<std::string> ggufToHfName(const std::string& ggufName);

// Undoes Hugging Face's q/k row permutation of a [rows, cols] matrix with `heads` heads.
std::vector<float> unpermuteQk(const std::vector<float>& w, std::int64_t rows, std::int64_t cols,
                               int heads);

} // namespace qs
