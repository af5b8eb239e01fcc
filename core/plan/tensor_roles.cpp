#include "plan/tensor_roles.h"

#include <array>
#include <cctype>
#include <regex>
#include <string>

namespace qs {

namespace {

struct RoleRule {
    TensorRole role;
    const char* pattern; // ECMAScript, searched in the lower-cased name
};

// Order matters: the first rule that matches wins. Norms come first because their names often
// sit inside attention or MLP blocks ("attention.output.LayerNorm", "post_attention_layernorm");
// heads and embeddings before attention/MLP because "output" and "embed" occur inside blocks too.
const std::array kRules = {
    RoleRule{TensorRole::Norm,
             R"((norm|^ln_|[._/]ln_?[0-9f]?[._/]|layer_?norm|batch_?norm|_ln[._]|/gamma|/beta|)"
             R"(moving_(mean|variance)|rms_?norm|[._]ln\.))"},
    RoleRule{
        TensorRole::Output,
        R"((^|[./])(lm_head|embed_out|score|classifier|cls\.predictions|shared_head\.head)[./])"
        R"(|^output\.weight$|^head\.|^output/|^predictions/)"},
    RoleRule{TensorRole::Embedding,
             R"((embed|wte\.|wpe\.|token_embd|tok_embeddings|patch_embed|pos_embed|cls_token|)"
             R"(position_embedding|word_embeddings|token_type))"},
    RoleRule{TensorRole::Attention,
             R"((attn|attention|self_attn|\.(q|k|v|o)_proj|qkv|query_key_value|\.(wq|wk|wv|wo)\.|)"
             R"(/query/|/key/|/value/|c_attn|\.(query|key|value)\.))"},
    RoleRule{TensorRole::Mlp,
             R"((mlp|feed_?forward|ffn|experts?|moe|gate_proj|up_proj|down_proj|\.(w1|w2|w3)\.|)"
             R"(fc_?[12]|c_fc|dense_h_to_4h|dense_4h_to_h|intermediate|output\.dense|^dense|)"
             R"(/dense|_dense))"},
};

const std::regex& compiled(size_t i) {
    static const auto regexes = [] {
        std::array<std::regex, kRules.size()> r;
        for (size_t k = 0; k < kRules.size(); ++k)
            r[k] = std::regex(kRules[k].pattern, std::regex::ECMAScript | std::regex::optimize);
        return r;
    }();
    return regexes[i];
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

std::string_view tensorRoleName(TensorRole r) {
    switch (r) {
    case TensorRole::Attention:
        return "attention";
    case TensorRole::Mlp:
        return "mlp";
    case TensorRole::Embedding:
        return "embedding";
    case TensorRole::Norm:
        return "norm";
    case TensorRole::Output:
        return "output";
    case TensorRole::Other:
        return "other";
    }
    return "other";
}

std::optional<TensorRole> tensorRoleFromName(std::string_view name) {
    for (auto r : {TensorRole::Attention, TensorRole::Mlp, TensorRole::Embedding, TensorRole::Norm,
                   TensorRole::Output, TensorRole::Other})
        if (tensorRoleName(r) == name)
            return r;
    return std::nullopt;
}

TensorRole classifyTensor(std::string_view tensorName) {
    const std::string name = lower(tensorName);
    for (size_t i = 0; i < kRules.size(); ++i)
        if (std::regex_search(name, compiled(i)))
            return kRules[i].role;
    return TensorRole::Other;
}

std::optional<int> layerIndex(std::string_view tensorName) {
    static const std::regex re(
        R"((?:^|[./_])(?:layers|layer|blk|h|blocks|block|encoder\.layer|decoder\.layer)[._/]([0-9]+)(?:[./_]|$))",
        std::regex::ECMAScript | std::regex::optimize);
    const std::string name(tensorName);
    std::smatch m;
    if (!std::regex_search(name, m, re))
        return std::nullopt;
    try {
        return std::stoi(m[1].str());
    } catch (...) {
        return std::nullopt;
    }
}

bool isRouter(std::string_view tensorName) {
    static const std::regex re(R"((block_sparse_moe\.gate|mlp\.gate|ffn_gate_inp|router)(\.|$))",
                               std::regex::ECMAScript | std::regex::optimize);
    return std::regex_search(std::string(tensorName), re);
}

} // namespace qs
