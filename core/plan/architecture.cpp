#include "plan/architecture.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>

namespace qs {

namespace {

using Json = nlohmann::json;

std::int64_t integer(const Json& j, std::initializer_list<const char*> keys, std::int64_t dflt) {
    for (const char* k : keys) {
        auto it = j.find(k);
        if (it != j.end() && it->is_number_integer())
            return it->get<std::int64_t>();
        if (it != j.end() && it->is_number_float())
            return static_cast<std::int64_t>(*it);
    }
    return dflt;
}

bool flag(const Json& j, const char* key, bool dflt) {
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() ? it->get<bool>() : dflt;
}

std::string text(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

DType dtypeFromTorch(const std::string& s, bool& known) {
    known = true;
    if (s == "float32" || s == "float")
        return DType::F32;
    if (s == "float16" || s == "half")
        return DType::F16;
    if (s == "bfloat16")
        return DType::BF16;
    known = false;
    return DType::BF16;
}

bool startsWith(const std::string& s, std::string_view p) {
    return s.compare(0, p.size(), p) == 0;
}

void readMoe(const Json& j, ModelArchitecture& a) {
    const auto& t = a.modelType;
    a.numExperts = integer(j, {"n_routed_experts", "num_local_experts", "num_experts"}, 0);
    if (a.numExperts <= 1) {
        a.numExperts = 0;
        return;
    }
    a.expertsPerToken = integer(j, {"num_experts_per_tok", "moe_topk"}, 2);
    // Mixtral's experts are full-width MLPs; the others give their narrower width.
    a.moeIntermediateSize = integer(j, {"moe_intermediate_size"}, a.intermediateSize);
    a.numSharedExperts = integer(j, {"n_shared_experts"}, 0);
    a.sharedExpertIntermediateSize = integer(j, {"shared_expert_intermediate_size"}, 0);
    a.sharedExpertGate = startsWith(t, "qwen2_moe") && a.sharedExpertIntermediateSize > 0;
    a.routerBias = text(j, "topk_method") == "noaux_tc";
    const std::int64_t firstDense = integer(j, {"first_k_dense_replace"}, 0);
    const std::int64_t freq =
        std::max<std::int64_t>(1, integer(j, {"moe_layer_freq", "decoder_sparse_step"}, 1));
    std::vector<std::int64_t> mlpOnly;
    if (auto it = j.find("mlp_only_layers"); it != j.end() && it->is_array())
        for (const auto& v : *it)
            if (v.is_number_integer())
                mlpOnly.push_back(v.get<std::int64_t>());
    a.moeLayers.assign(static_cast<size_t>(a.numLayers), false);
    for (std::int64_t l = 0; l < a.numLayers; ++l) {
        bool moe = l >= firstDense && (firstDense > 0 ? l % freq == 0 : (l + 1) % freq == 0);
        if (std::find(mlpOnly.begin(), mlpOnly.end(), l) != mlpOnly.end())
            moe = false;
        a.moeLayers[static_cast<size_t>(l)] = moe;
    }
}

void readWindows(const Json& j, ModelArchitecture& a) {
    a.layerWindow.assign(static_cast<size_t>(a.numLayers), 0);
    const std::int64_t window = integer(j, {"sliding_window"}, 0);
    const std::int64_t chunk = integer(j, {"attention_chunk_size"}, 0);
    if (auto it = j.find("layer_types"); it != j.end() && it->is_array()) {
        for (size_t l = 0; l < it->size() && l < a.layerWindow.size(); ++l) {
            const std::string kind = (*it)[l].is_string() ? (*it)[l].get<std::string>() : "";
            if (kind == "sliding_attention")
                a.layerWindow[l] = window;
            if (kind == "chunked_attention")
                a.layerWindow[l] = chunk;
        }
        return;
    }
    if (window <= 0 || !flag(j, "use_sliding_window", true))
        return;
    const auto& t = a.modelType;
    for (std::int64_t l = 0; l < a.numLayers; ++l) {
        bool sliding = true;
        if (startsWith(t, "gemma2")) {
            sliding = l % 2 == 0;
        } else if (startsWith(t, "gemma3")) {
            const std::int64_t pattern = integer(j, {"sliding_window_pattern"}, 6);
            sliding = pattern <= 0 || (l + 1) % pattern != 0;
        } else if (startsWith(t, "qwen")) {
            sliding = l >= integer(j, {"max_window_layers"}, 0);
        }
        if (sliding)
            a.layerWindow[static_cast<size_t>(l)] = window;
    }
}

} // namespace

std::int64_t ModelArchitecture::kvElementsPerToken() const {
    if (isMla())
        return kvLoraRank + qkRopeHeadDim;
    return numKvHeads * (headDim + vHeadDim);
}

Result<ModelArchitecture> parseArchitecture(std::string_view configJson) {
    Json root;
    try {
        root = Json::parse(configJson);
    } catch (const std::exception& e) {
        return makeError(std::string("config.json: not valid JSON: ") + e.what());
    }
    if (!root.is_object())
        return makeError("config.json: the document is not a JSON object");
    const Json& j = root.contains("text_config") && root["text_config"].is_object()
                        ? root["text_config"]
                        : root;
    ModelArchitecture a;
    a.languageModelOnly = &j != &root;
    a.modelType = text(j, "model_type");
    if (a.modelType.empty())
        a.modelType = text(root, "model_type");
    a.hiddenSize = integer(j, {"hidden_size", "n_embd", "d_model"}, 0);
    a.numLayers = integer(j, {"num_hidden_layers", "n_layer", "num_layers"}, 0);
    a.numHeads = integer(j, {"num_attention_heads", "n_head"}, 0);
    a.vocabSize = integer(j, {"vocab_size"}, 0);
    a.maxContext = integer(j, {"max_position_embeddings", "n_positions", "seq_length"}, 0);
    if (a.hiddenSize <= 0 || a.numLayers <= 0 || a.numHeads <= 0 || a.vocabSize <= 0)
        return makeError("config.json: hidden_size, num_hidden_layers, num_attention_heads and "
                         "vocab_size must be positive integers");
    a.intermediateSize = integer(j, {"intermediate_size", "n_inner"}, 4 * a.hiddenSize);
    a.numKvHeads = integer(j, {"num_key_value_heads"}, a.numHeads);
    a.headDim = integer(j, {"head_dim"}, a.hiddenSize / a.numHeads);
    a.vHeadDim = a.headDim;
    const auto& t = a.modelType;
    const bool gemma = startsWith(t, "gemma");
    a.tiedEmbeddings = flag(j, "tie_word_embeddings", flag(root, "tie_word_embeddings", gemma));
    a.oBias = flag(j, "attention_bias", false);
    a.qkvBias = a.oBias || t == "qwen2" || t == "qwen2_moe" || t == "qwen2_vl_text";
    a.mlpBias = flag(j, "mlp_bias", false);
    a.qkNorm = startsWith(t, "qwen3") || startsWith(t, "gemma3") || startsWith(t, "olmo2");
    a.normsPerLayer = startsWith(t, "gemma2") || startsWith(t, "gemma3") ? 4 : 2;

    a.kvLoraRank = integer(j, {"kv_lora_rank"}, 0);
    if (a.kvLoraRank > 0) {
        a.qLoraRank = integer(j, {"q_lora_rank"}, 0);
        a.qkRopeHeadDim = integer(j, {"qk_rope_head_dim"}, 64);
        a.qkNopeHeadDim = integer(j, {"qk_nope_head_dim"}, 128);
        a.headDim = a.qkNopeHeadDim + a.qkRopeHeadDim;
        a.vHeadDim = integer(j, {"v_head_dim"}, a.qkNopeHeadDim);
        a.numKvHeads = a.numHeads;
        a.numMtpLayers = integer(j, {"num_nextn_predict_layers"}, 0);
    }
    if (a.numKvHeads <= 0 || a.headDim <= 0 || a.numHeads % a.numKvHeads != 0)
        return makeError("config.json: num_key_value_heads must divide num_attention_heads");
    readMoe(j, a);
    readWindows(j, a);

    bool known = false;
    std::string dt = text(j, "torch_dtype");
    if (dt.empty())
        dt = text(root, "torch_dtype");
    if (dt.empty())
        dt = text(root, "dtype");
    a.dtype = dtypeFromTorch(dt, known);
    a.dtypeGuessed = !known;
    if (auto q = root.find("quantization_config"); q != root.end() && q->is_object()) {
        auto b = q->find("weight_block_size");
        if (text(*q, "quant_method") == "fp8" && b != q->end() && b->is_array() && b->size() == 2 &&
            (*b)[0].is_number_integer() && (*b)[1].is_number_integer()) {
            a.fp8BlockRows = (*b)[0].get<std::int64_t>();
            a.fp8BlockCols = (*b)[1].get<std::int64_t>();
        }
    }
    return a;
}

Result<ModelArchitecture> architectureFromGguf(const std::map<std::string, std::string>& meta) {
    auto archIt = meta.find("general.architecture");
    if (archIt == meta.end())
        return makeError("GGUF: no general.architecture");
    const std::string p = archIt->second + ".";
    auto num = [&](const std::string& key, std::int64_t dflt) -> std::int64_t {
        auto it = meta.find(p + key);
        if (it == meta.end())
            return dflt;
        char* end = nullptr;
        const long long v = std::strtoll(it->second.c_str(), &end, 10);
        return end && *end == '\0' ? v : dflt;
    };
    ModelArchitecture a;
    a.modelType = archIt->second;
    a.hiddenSize = num("embedding_length", 0);
    a.numLayers = num("block_count", 0);
    a.numHeads = num("attention.head_count", 0);
    a.vocabSize = num("vocab_size", 0);
    a.maxContext = num("context_length", 0);
    if (a.hiddenSize <= 0 || a.numLayers <= 0 || a.numHeads <= 0)
        return makeError("GGUF: the " + archIt->second + " metadata lacks the model's dimensions");
    a.intermediateSize = num("feed_forward_length", 4 * a.hiddenSize);
    a.numKvHeads = num("attention.head_count_kv", a.numHeads);
    a.headDim = num("attention.key_length", a.hiddenSize / a.numHeads);
    a.vHeadDim = num("attention.value_length", a.headDim);
    a.kvLoraRank = num("attention.kv_lora_rank", 0);
    if (a.kvLoraRank > 0) {
        a.qkRopeHeadDim = num("rope.dimension_count", 64);
        a.qLoraRank = num("attention.q_lora_rank", 0);
    }
    a.numExperts = num("expert_count", 0);
    if (a.numExperts > 1) {
        a.expertsPerToken = num("expert_used_count", 2);
        a.moeIntermediateSize = num("expert_feed_forward_length", a.intermediateSize);
        a.numSharedExperts = num("expert_shared_count", 0);
        const std::int64_t firstDense = num("leading_dense_block_count", 0);
        a.moeLayers.assign(static_cast<size_t>(a.numLayers), false);
        for (std::int64_t l = firstDense; l < a.numLayers; ++l)
            a.moeLayers[static_cast<size_t>(l)] = true;
    } else {
        a.numExperts = 0;
    }
    a.layerWindow.assign(static_cast<size_t>(a.numLayers), 0);
    if (const std::int64_t w = num("attention.sliding_window", 0); w > 0)
        for (auto& lw : a.layerWindow)
            lw = w;
    a.dtype = DType::F32;
    return a;
}

} // namespace qs
