// The tensors of a ModelArchitecture, named and shaped as Hugging Face transformers stores them
// (nn.Linear weights are [out_features, in_features]).

#include "plan/architecture.h"

namespace qs {

namespace {

class TensorList {
public:
    TensorList(std::vector<ArchTensor>& out, bool mtp) : m_out(out), m_mtp(mtp) {}
    void add(std::string name, std::vector<std::int64_t> shape) {
        m_out.push_back({std::move(name), std::move(shape), m_mtp});
    }
    // A linear layer: weight [out, in] and optionally bias [out].
    void linear(const std::string& prefix, std::int64_t out, std::int64_t in, bool bias = false) {
        add(prefix + ".weight", {out, in});
        if (bias)
            add(prefix + ".bias", {out});
    }
    void mlp(const std::string& prefix, std::int64_t hidden, std::int64_t width, bool bias) {
        linear(prefix + ".gate_proj", width, hidden, bias);
        linear(prefix + ".up_proj", width, hidden, bias);
        linear(prefix + ".down_proj", hidden, width, bias);
    }

private:
    std::vector<ArchTensor>& m_out;
    bool m_mtp;
};

void attention(TensorList& t, const ModelArchitecture& a, const std::string& p) {
    const std::int64_t h = a.hiddenSize;
    if (a.isMla()) {
        const std::int64_t qDim = a.numHeads * (a.qkNopeHeadDim + a.qkRopeHeadDim);
        if (a.qLoraRank > 0) {
            t.linear(p + ".q_a_proj", a.qLoraRank, h);
            t.add(p + ".q_a_layernorm.weight", {a.qLoraRank});
            t.linear(p + ".q_b_proj", qDim, a.qLoraRank);
        } else {
            t.linear(p + ".q_proj", qDim, h);
        }
        t.linear(p + ".kv_a_proj_with_mqa", a.kvLoraRank + a.qkRopeHeadDim, h);
        t.add(p + ".kv_a_layernorm.weight", {a.kvLoraRank});
        t.linear(p + ".kv_b_proj", a.numHeads * (a.qkNopeHeadDim + a.vHeadDim), a.kvLoraRank);
        t.linear(p + ".o_proj", h, a.numHeads * a.vHeadDim, a.oBias);
        return;
    }
    t.linear(p + ".q_proj", a.numHeads * a.headDim, h, a.qkvBias);
    t.linear(p + ".k_proj", a.numKvHeads * a.headDim, h, a.qkvBias);
    t.linear(p + ".v_proj", a.numKvHeads * a.vHeadDim, h, a.qkvBias);
    t.linear(p + ".o_proj", h, a.numHeads * a.vHeadDim, a.oBias);
    if (a.qkNorm) {
        t.add(p + ".q_norm.weight", {a.headDim});
        t.add(p + ".k_norm.weight", {a.headDim});
    }
}

void feedForward(TensorList& t, const ModelArchitecture& a, const std::string& p, bool moe) {
    const std::int64_t h = a.hiddenSize;
    if (!moe) {
        t.mlp(p + ".mlp", h, a.intermediateSize, a.mlpBias);
        return;
    }
    const bool mixtral = a.modelType.rfind("mixtral", 0) == 0;
    const std::string block = p + (mixtral ? ".block_sparse_moe" : ".mlp");
    t.linear(block + ".gate", a.numExperts, h);
    if (a.routerBias)
        t.add(block + ".gate.e_score_correction_bias", {a.numExperts});
    for (std::int64_t e = 0; e < a.numExperts; ++e) {
        const std::string ep = block + ".experts." + std::to_string(e);
        if (mixtral) {
            t.linear(ep + ".w1", a.moeIntermediateSize, h);
            t.linear(ep + ".w2", h, a.moeIntermediateSize);
            t.linear(ep + ".w3", a.moeIntermediateSize, h);
        } else {
            t.mlp(ep, h, a.moeIntermediateSize, false);
        }
    }
    if (a.numSharedExperts > 0)
        t.mlp(block + ".shared_experts", h, a.numSharedExperts * a.moeIntermediateSize, false);
    if (a.sharedExpertIntermediateSize > 0) {
        t.mlp(block + ".shared_expert", h, a.sharedExpertIntermediateSize, false);
        if (a.sharedExpertGate)
            t.linear(block + ".shared_expert_gate", 1, h);
    }
}

void layer(TensorList& t, const ModelArchitecture& a, std::int64_t l, bool moe) {
    const std::int64_t h = a.hiddenSize;
    const std::string p = "model.layers." + std::to_string(l);
    t.add(p + ".input_layernorm.weight", {h});
    attention(t, a, p + ".self_attn");
    t.add(p + ".post_attention_layernorm.weight", {h});
    if (a.normsPerLayer == 4) {
        t.add(p + ".pre_feedforward_layernorm.weight", {h});
        t.add(p + ".post_feedforward_layernorm.weight", {h});
    }
    feedForward(t, a, p, moe);
}

} // namespace

std::vector<ArchTensor> architectureTensors(const ModelArchitecture& a, bool includeMtp) {
    std::vector<ArchTensor> out;
    TensorList main(out, false);
    const std::int64_t h = a.hiddenSize;
    main.add("model.embed_tokens.weight", {a.vocabSize, h});
    for (std::int64_t l = 0; l < a.numLayers; ++l)
        layer(main, a, l, a.isMoeLayer(l));
    main.add("model.norm.weight", {h});
    if (!a.tiedEmbeddings)
        main.add("lm_head.weight", {a.vocabSize, h});
    if (!includeMtp)
        return out;
    // DeepSeek-V3's MTP module as its checkpoint stores it: a full (MoE) layer plus the
    // projections that join the next token's embedding, and copies of embedding and head.
    TensorList mtp(out, true);
    const bool moe = a.numExperts > 0;
    for (std::int64_t m = 0; m < a.numMtpLayers; ++m) {
        const std::int64_t l = a.numLayers + m;
        const std::string p = "model.layers." + std::to_string(l);
        mtp.add(p + ".embed_tokens.weight", {a.vocabSize, h});
        mtp.add(p + ".enorm.weight", {h});
        mtp.add(p + ".hnorm.weight", {h});
        mtp.linear(p + ".eh_proj", h, 2 * h);
        layer(mtp, a, l, moe);
        mtp.add(p + ".shared_head.norm.weight", {h});
        mtp.add(p + ".shared_head.head.weight", {a.vocabSize, h});
    }
    return out;
}

std::uint64_t parameterCount(const std::vector<ArchTensor>& tensors, bool includeMtp) {
    std::uint64_t n = 0;
    for (const auto& t : tensors) {
        if (t.mtp && !includeMtp)
            continue;
        std::uint64_t e = 1;
        for (auto d : t.shape)
            e *= static_cast<std::uint64_t>(d);
        n += e;
    }
    return n;
}

} // namespace qs
