#include "export/llama_names.h"

#include <nlohmann/json.hpp>

#include <array>
#include <regex>

namespace qs {
namespace {

struct NamePair {
    const char* hf;   // suffix after "model.layers.N."
    const char* gguf; // suffix after "blk.N."
};

constexpr std::array kLayerNames{
    NamePair{"self_attn.q_proj.weight", "attn_q.weight"},
    NamePair{"self_attn.k_proj.weight", "attn_k.weight"},
    NamePair{"self_attn.v_proj.weight", "attn_v.weight"},
    NamePair{"self_attn.o_proj.weight", "attn_output.weight"},
    NamePair{"self_attn.q_proj.bias", "attn_q.bias"},
    NamePair{"self_attn.k_proj.bias", "attn_k.bias"},
    NamePair{"self_attn.v_proj.bias", "attn_v.bias"},
    NamePair{"mlp.gate_proj.weight", "ffn_gate.weight"},
    NamePair{"mlp.up_proj.weight", "ffn_up.weight"},
    NamePair{"mlp.down_proj.weight", "ffn_down.weight"},
    NamePair{"input_layernorm.weight", "attn_norm.weight"},
    NamePair{"post_attention_layernorm.weight", "ffn_norm.weight"},
};

constexpr std::array kGlobalNames{
    NamePair{"model.embed_tokens.weight", "token_embd.weight"},
    NamePair{"model.norm.weight", "output_norm.weight"},
    NamePair{"lm_head.weight", "output.weight"},
};

std::optional<std::string> mapLayer(const std::string& name, const std::regex& re, bool toGguf) {
    std::smatch m;
    if (!std::regex_match(name, m, re))
        return std::nullopt;
    const std::string rest = m[2].str();
    for (const auto& p : kLayerNames)
        if (rest == (toGguf ? p.hf : p.gguf))
            return (toGguf ? "blk." : "model.layers.") + m[1].str() + "." +
                   (toGguf ? p.gguf : p.hf);
    return std::nullopt;
}

} // namespace

std::optional<std::string> hfToGgufName(const std::string& hfName) {
    for (const auto& p : kGlobalNames)
        if (hfName == p.hf)
            return std::string(p.gguf);
    static const std::regex re(R"(model\.layers\.(\d+)\.(.+))");
    return mapLayer(hfName, re, true);
}

std::optional<std::string> ggufToHfName(const std::string& ggufName) {
    for (const auto& p : kGlobalNames)
        if (ggufName == p.gguf)
            return std::string(p.hf);
    static const std::regex re(R"(blk\.(\d+)\.(.+))");
    return mapLayer(ggufName, re, false);
}

std::vector<float> unpermuteQk(const std::vector<float>& w, std::int64_t rows, std::int64_t cols,
                               int heads) {
    // HF stores, per head, the first halves of the rotary pairs then the second halves:
    // hf[h][half][i] = meta[h][i][half]. Meta order interleaves them again.
    std::vector<float> out(w.size());
    const std::int64_t headDim = rows / heads, half = headDim / 2;
    for (std::int64_t h = 0; h < heads; ++h)
        for (std::int64_t part = 0; part < 2; ++part)
            for (std::int64_t i = 0; i < half; ++i) {
                const std::int64_t src = h * headDim + part * half + i;
                const std::int64_t dst = h * headDim + 2 * i + part;
                std::copy_n(w.data() + src * cols, cols, out.data() + dst * cols);
            }
    return out;
}

Result<MappedConfig> mapHfConfig(const std::string& configJson, const std::string& modelName) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(configJson);
    } catch (const std::exception& e) {
        return makeError(std::string("config.json is not valid JSON: ") + e.what());
    }
    if (!j.is_object())
        return makeError("config.json is not a JSON object");
    std::string cls;
    if (auto it = j.find("architectures");
        it != j.end() && it->is_array() && !it->empty() && it->front().is_string())
        cls = it->front().get<std::string>();
    MappedConfig m;
    m.arch.hfClass = cls;
    if (cls == "LlamaForCausalLM" || cls == "MistralForCausalLM") {
        m.arch.ggufArch = "llama";
    } else if (cls == "Qwen2ForCausalLM") {
        m.arch.ggufArch = "qwen2";
        m.arch.permuteQk = false;
    } else {
        return makeError("config.json: architecture '" + (cls.empty() ? "(none)" : cls) +
                         "' has no llama.cpp mapping here (supported: LlamaForCausalLM, "
                         "MistralForCausalLM, Qwen2ForCausalLM)");
    }
    auto integer = [&](const char* key) -> Result<std::uint32_t> {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() <= 0 ||
            it->get<std::int64_t>() > 0xFFFFFFFFll)
            return makeError(std::string("config.json: \"") + key +
                             "\" is missing or not a positive integer");
        return static_cast<std::uint32_t>(it->get<std::int64_t>());
    };
    auto hidden = integer("hidden_size");
    auto layers = integer("num_hidden_layers");
    auto heads = integer("num_attention_heads");
    auto ffn = integer("intermediate_size");
    for (auto* r : {&hidden, &layers, &heads, &ffn})
        if (!*r)
            return r->error();
    std::uint32_t kvHeads = *heads;
    if (j.contains("num_key_value_heads")) {
        auto kv = integer("num_key_value_heads");
        if (!kv)
            return kv.error();
        kvHeads = *kv;
    }
    std::uint32_t headDim = *hidden / *heads;
    if (j.contains("head_dim") && j["head_dim"].is_number_integer())
        headDim = j["head_dim"].get<std::uint32_t>();
    m.arch.heads = static_cast<int>(*heads);
    m.arch.kvHeads = static_cast<int>(kvHeads);
    m.tiedEmbeddings = j.value("tie_word_embeddings", false);
    const std::string a = m.arch.ggufArch;
    auto str = [&](std::string k, std::string v) {
        m.metadata.push_back({GgufMetaValue::Kind::String, std::move(k), std::move(v)});
    };
    auto u32 = [&](std::string k, std::uint32_t v) {
        GgufMetaValue x{GgufMetaValue::Kind::U32, std::move(k)};
        x.u = v;
        m.metadata.push_back(x);
    };
    auto f32 = [&](std::string k, double v) {
        GgufMetaValue x{GgufMetaValue::Kind::F32, std::move(k)};
        x.f = static_cast<float>(v);
        m.metadata.push_back(x);
    };
    str("general.architecture", a);
    str("general.name", modelName);
    u32(a + ".context_length", j.value("max_position_embeddings", 2048u));
    u32(a + ".embedding_length", *hidden);
    u32(a + ".block_count", *layers);
    u32(a + ".feed_forward_length", *ffn);
    u32(a + ".attention.head_count", *heads);
    u32(a + ".attention.head_count_kv", kvHeads);
    u32(a + ".rope.dimension_count", headDim);
    if (j.contains("head_dim")) {
        u32(a + ".attention.key_length", headDim);
        u32(a + ".attention.value_length", headDim);
    }
    f32(a + ".attention.layer_norm_rms_epsilon", j.value("rms_norm_eps", 1e-6));
    f32(a + ".rope.freq_base", j.value("rope_theta", 10000.0));
    if (j.contains("vocab_size") && j["vocab_size"].is_number_integer())
        u32(a + ".vocab_size", j["vocab_size"].get<std::uint32_t>());
    return m;
}

} // namespace qs
