// Tensor roles from real tensor names of common architectures and file layouts: what the
// sensitivity map filters by, what QLoRA quantizes and what keep rules usually pin.

#include "plan/tensor_roles.h"

#include <QtTest>

using namespace qs;

Q_DECLARE_METATYPE(qs::TensorRole)

class TestTensorRoles : public QObject {
    Q_OBJECT

private slots:
    void realNamesGetTheirRole_data();
    void realNamesGetTheirRole();
    void layerIndexFromBlockNames_data();
    void layerIndexFromBlockNames();
    void routersAreRecognised();
    void roleNamesRoundTrip();
};

void TestTensorRoles::realNamesGetTheirRole_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<TensorRole>("role");
    using R = TensorRole;
    const std::pair<const char*, R> rows[] = {
        // Llama / Mistral / Qwen / Gemma (Hugging Face)
        {"model.embed_tokens.weight", R::Embedding},
        {"model.layers.0.self_attn.q_proj.weight", R::Attention},
        {"model.layers.0.self_attn.k_proj.bias", R::Attention},
        {"model.layers.0.self_attn.o_proj.weight", R::Attention},
        {"model.layers.0.mlp.gate_proj.weight", R::Mlp},
        {"model.layers.31.mlp.down_proj.weight", R::Mlp},
        {"model.layers.0.input_layernorm.weight", R::Norm},
        {"model.layers.0.post_attention_layernorm.weight", R::Norm},
        {"model.layers.0.pre_feedforward_layernorm.weight", R::Norm},
        {"model.layers.0.self_attn.q_norm.weight", R::Norm},
        {"model.norm.weight", R::Norm},
        {"lm_head.weight", R::Output},
        // Mixtral, Qwen-MoE, DeepSeek (MLA and MoE)
        {"model.layers.3.block_sparse_moe.experts.7.w2.weight", R::Mlp},
        {"model.layers.3.block_sparse_moe.gate.weight", R::Mlp},
        {"model.layers.2.mlp.shared_expert_gate.weight", R::Mlp},
        {"model.layers.5.mlp.experts.255.up_proj.weight", R::Mlp},
        {"model.layers.5.mlp.shared_experts.down_proj.weight", R::Mlp},
        {"model.layers.0.self_attn.kv_a_proj_with_mqa.weight", R::Attention},
        {"model.layers.0.self_attn.q_b_proj.weight", R::Attention},
        {"model.layers.0.self_attn.kv_a_layernorm.weight", R::Norm},
        {"model.layers.61.shared_head.head.weight", R::Output},
        {"model.layers.61.enorm.weight", R::Norm},
        // Phi-2 / Phi-3
        {"model.layers.0.self_attn.qkv_proj.weight", R::Attention},
        {"model.layers.0.self_attn.dense.weight", R::Attention},
        {"model.layers.0.mlp.gate_up_proj.weight", R::Mlp},
        {"model.layers.0.mlp.fc1.weight", R::Mlp},
        {"model.final_layernorm.weight", R::Norm},
        // GPT-2, GPT-NeoX, Falcon
        {"transformer.wte.weight", R::Embedding},
        {"transformer.wpe.weight", R::Embedding},
        {"h.0.attn.c_attn.weight", R::Attention},
        {"h.0.attn.c_proj.weight", R::Attention},
        {"h.0.mlp.c_fc.weight", R::Mlp},
        {"h.0.mlp.c_proj.bias", R::Mlp},
        {"h.0.ln_1.weight", R::Norm},
        {"ln_f.bias", R::Norm},
        {"gpt_neox.embed_in.weight", R::Embedding},
        {"gpt_neox.layers.0.attention.query_key_value.weight", R::Attention},
        {"gpt_neox.layers.0.mlp.dense_4h_to_h.weight", R::Mlp},
        {"embed_out.weight", R::Output},
        {"transformer.h.0.self_attention.query_key_value.weight", R::Attention},
        {"transformer.word_embeddings.weight", R::Embedding},
        // BERT
        {"bert.embeddings.word_embeddings.weight", R::Embedding},
        {"bert.embeddings.token_type_embeddings.weight", R::Embedding},
        {"bert.embeddings.LayerNorm.weight", R::Norm},
        {"bert.encoder.layer.0.attention.self.query.weight", R::Attention},
        {"bert.encoder.layer.0.attention.output.dense.weight", R::Attention},
        {"bert.encoder.layer.0.attention.output.LayerNorm.bias", R::Norm},
        {"bert.encoder.layer.0.intermediate.dense.weight", R::Mlp},
        {"bert.encoder.layer.0.output.dense.weight", R::Mlp},
        {"bert.pooler.dense.weight", R::Other},
        {"cls.predictions.transform.dense.weight", R::Output},
        // ViT (transformers and timm)
        {"vit.embeddings.patch_embeddings.projection.weight", R::Embedding},
        {"vit.embeddings.cls_token", R::Embedding},
        {"vit.encoder.layer.0.layernorm_before.weight", R::Norm},
        {"vit.encoder.layer.0.attention.attention.value.weight", R::Attention},
        {"classifier.weight", R::Output},
        {"blocks.0.attn.qkv.weight", R::Attention},
        {"blocks.0.mlp.fc2.weight", R::Mlp},
        {"blocks.0.norm1.weight", R::Norm},
        {"patch_embed.proj.weight", R::Embedding},
        {"pos_embed", R::Embedding},
        {"head.weight", R::Output},
        // Meta's original Llama checkpoints
        {"tok_embeddings.weight", R::Embedding},
        {"layers.0.attention.wq.weight", R::Attention},
        {"layers.0.feed_forward.w1.weight", R::Mlp},
        {"layers.0.attention_norm.weight", R::Norm},
        {"output.weight", R::Output},
        // Keras (HDF5 / .keras)
        {"model_weights/dense/dense/kernel:0", R::Mlp},
        {"dense_1/dense_1/bias:0", R::Mlp},
        {"embedding/embedding/embeddings:0", R::Embedding},
        {"layer_normalization/layer_normalization/gamma:0", R::Norm},
        {"multi_head_attention/multi_head_attention/query/kernel:0", R::Attention},
        {"batch_normalization/batch_normalization/moving_mean:0", R::Norm},
        {"conv2d/conv2d/kernel:0", R::Other},
        // GGUF
        {"token_embd.weight", R::Embedding},
        {"blk.0.attn_q.weight", R::Attention},
        {"blk.0.attn_output.weight", R::Attention},
        {"blk.0.attn_kv_a_mqa.weight", R::Attention},
        {"blk.0.ffn_gate.weight", R::Mlp},
        {"blk.3.ffn_down_exps.weight", R::Mlp},
        {"blk.3.ffn_gate_inp.weight", R::Mlp},
        {"blk.0.attn_norm.weight", R::Norm},
        {"blk.0.ffn_norm.weight", R::Norm},
        {"output_norm.weight", R::Norm},
        {"rope_freqs.weight", R::Other},
    };
    for (const auto& [name, role] : rows)
        QTest::newRow(name) << QString(name) << role;
}

void TestTensorRoles::realNamesGetTheirRole() {
    QFETCH(QString, name);
    QFETCH(TensorRole, role);
    const TensorRole got = classifyTensor(name.toStdString());
    QVERIFY2(got == role, qPrintable(QString("%1 classified as %2, expected %3")
                                         .arg(name)
                                         .arg(QString::fromUtf8(tensorRoleName(got).data()))
                                         .arg(QString::fromUtf8(tensorRoleName(role).data()))));
}

void TestTensorRoles::layerIndexFromBlockNames_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("layer"); // -1: outside the blocks
    QTest::newRow("hf") << "model.layers.12.mlp.up_proj.weight" << 12;
    QTest::newRow("gguf") << "blk.3.attn_q.weight" << 3;
    QTest::newRow("gpt2") << "h.0.attn.c_attn.weight" << 0;
    QTest::newRow("gpt2 prefixed") << "transformer.h.11.mlp.c_fc.weight" << 11;
    QTest::newRow("bert") << "bert.encoder.layer.5.output.dense.weight" << 5;
    QTest::newRow("timm") << "blocks.7.attn.qkv.weight" << 7;
    QTest::newRow("meta") << "layers.30.feed_forward.w3.weight" << 30;
    QTest::newRow("embedding") << "model.embed_tokens.weight" << -1;
    QTest::newRow("head") << "lm_head.weight" << -1;
    QTest::newRow("gguf output") << "output_norm.weight" << -1;
}

void TestTensorRoles::layerIndexFromBlockNames() {
    QFETCH(QString, name);
    QFETCH(int, layer);
    const auto got = layerIndex(name.toStdString());
    QCOMPARE(got.value_or(-1), layer);
}

void TestTensorRoles::routersAreRecognised() {
    QVERIFY(isRouter("model.layers.3.block_sparse_moe.gate.weight"));
    QVERIFY(isRouter("model.layers.3.mlp.gate.weight"));
    QVERIFY(isRouter("model.layers.3.mlp.gate.e_score_correction_bias"));
    QVERIFY(isRouter("blk.3.ffn_gate_inp.weight"));
    QVERIFY(!isRouter("model.layers.3.mlp.gate_proj.weight"));
    QVERIFY(!isRouter("model.layers.3.mlp.experts.0.gate_proj.weight"));
    QVERIFY(!isRouter("blk.3.ffn_gate.weight"));
}

void TestTensorRoles::roleNamesRoundTrip() {
    for (auto r : {TensorRole::Attention, TensorRole::Mlp, TensorRole::Embedding, TensorRole::Norm,
                   TensorRole::Output, TensorRole::Other})
        QCOMPARE(tensorRoleFromName(tensorRoleName(r)).value(), r);
    QVERIFY(!tensorRoleFromName("bogus").has_value());
}

QTEST_APPLESS_MAIN(TestTensorRoles)
#include "test_tensor_roles.moc"
