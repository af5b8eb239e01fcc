// The memory planner against published model sizes: parameters from config.json for dense, GQA,
// MLA, sliding-window and MoE architectures, KV cache sizes, weights under schemes and plans,
// training modes and the GPU table.

#include "plan/memory_model.h"
#include "plan/scheme_cost.h"
#include "quant/registry.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace qs;

namespace {

std::string fixture(const std::string& model) {
    std::ifstream f(test::sourceDir() + "/tests/data/configs/" + model + "/config.json");
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

ModelDescription describe(const std::string& json, bool mtp = false) {
    auto d = describeConfig(json, mtp);
    if (!d)
        qFatal("%s", d.message().c_str());
    return std::move(d).value();
}

MemoryEstimate estimate(const ModelDescription& m, MemoryOptions o = {}) {
    auto e = estimateMemory(m, o);
    if (!e)
        qFatal("%s", e.message().c_str());
    return std::move(e).value();
}

MemoryOptions withContext(std::int64_t context, KvDtype kv = KvDtype::F16) {
    MemoryOptions o;
    o.context = context;
    o.kvDtype = kv;
    return o;
}

// Published configs (Hugging Face Hub), inline where only the parameter count is checked.
const char* kMixtral = R"({"model_type": "mixtral", "hidden_size": 4096,
  "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
  "num_key_value_heads": 8, "vocab_size": 32000, "num_local_experts": 8,
  "num_experts_per_tok": 2, "sliding_window": null, "tie_word_embeddings": false,
  "torch_dtype": "bfloat16"})";
const char* kQwenMoe = R"({"model_type": "qwen2_moe", "hidden_size": 2048,
  "intermediate_size": 5632, "num_hidden_layers": 24, "num_attention_heads": 16,
  "num_key_value_heads": 16, "vocab_size": 151936, "num_experts": 60, "num_experts_per_tok": 4,
  "moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632,
  "decoder_sparse_step": 1, "mlp_only_layers": [], "tie_word_embeddings": false,
  "use_sliding_window": false, "sliding_window": 32768, "torch_dtype": "bfloat16"})";
const char* kGemma2 = R"({"model_type": "gemma2", "hidden_size": 3584,
  "intermediate_size": 14336, "num_hidden_layers": 42, "num_attention_heads": 16,
  "num_key_value_heads": 8, "head_dim": 256, "vocab_size": 256000, "sliding_window": 4096,
  "torch_dtype": "float32"})";

} // namespace

class TestMemoryModel : public QObject {
    Q_OBJECT

private slots:
    void llama31_8bParametersAndKvCache() {
        const auto m = describe(fixture("llama-3.1-8b"));
        QCOMPARE(m.params, std::uint64_t(8'030'261'248));
        const auto e = estimate(m, withContext(8192));
        QCOMPARE(e.kvCacheBytes, std::uint64_t(1) << 30); // 1 GiB of f16 KV at 8192 tokens
        QCOMPARE(e.kvBytesPerToken, std::uint64_t(32 * 2 * 8 * 128 * 2));
        QCOMPARE(e.weightsBytes, m.params * 2); // bf16 as torch_dtype says
        QCOMPARE(e.totalBytes, e.weightsBytes + e.kvCacheBytes + e.activationBytes);
        QVERIFY(e.activationBytes > 0);
    }

    void qwen25_05bTiedEmbeddingsAndQkvBiases() {
        const auto m = describe(fixture("qwen2.5-0.5b"));
        QCOMPARE(m.params, std::uint64_t(494'032'768));
        bool head = false, qBias = false, oBias = false;
        for (const auto& w : m.weights) {
            head |= w.name == "lm_head.weight";
            qBias |= w.name == "model.layers.0.self_attn.q_proj.bias";
            oBias |= w.name == "model.layers.0.self_attn.o_proj.bias";
        }
        QVERIFY(!head && qBias && !oBias);
        // use_sliding_window is false: every layer caches the whole context.
        QCOMPARE(estimate(m, withContext(32768)).kvCacheBytes, std::uint64_t(384) << 20);
    }

    void deepSeekV3MlaCacheAndPublishedSize() {
        const auto m = describe(fixture("deepseek-v3"));
        const auto e = estimate(m, withContext(1));
        QCOMPARE(e.kvBytesPerToken, std::uint64_t(61 * 576 * 2));
        QCOMPARE(e.kvCacheBytes, std::uint64_t(61 * 576 * 2));
        QCOMPARE(estimate(m, withContext(1000)).kvCacheBytes, std::uint64_t(61 * 576 * 2 * 1000));
        // 671B in the main model (DeepSeek's own figure); the MTP module is reported apart.
        QVERIFY2(std::abs(static_cast<double>(m.params) - 671e9) < 0.5e9,
                 std::to_string(m.params).c_str());
        QVERIFY(m.mtpParams > 11.5e9 && m.mtpParams < 14.5e9); // 11.5B + embedding/head copies
        const auto all = describe(fixture("deepseek-v3"), true);
        QCOMPARE(all.params, m.params + m.mtpParams);
        QCOMPARE(all.mtpParams, std::uint64_t(0));
        // Stored as its quantization_config says: fp8 matrices with 128x128 fp32 block scales,
        // so a little over one byte per parameter (the published checkpoint is ~689 GB).
        QVERIFY(e.weightsBytes > 0.67e12 && e.weightsBytes < 0.70e12);
    }

    void moeModelsMatchTheirPublishedSizes() {
        const auto mixtral = describe(kMixtral);
        QVERIFY2(std::abs(static_cast<double>(mixtral.params) - 46.7e9) < 0.05e9,
                 std::to_string(mixtral.params).c_str());
        const auto qwen = describe(kQwenMoe); // Qwen1.5-MoE-A2.7B: 14.3B
        QVERIFY2(std::abs(static_cast<double>(qwen.params) - 14.3e9) < 0.05e9,
                 std::to_string(qwen.params).c_str());
        QVERIFY(qwen.arch->sharedExpertGate);
    }

    void slidingWindowLayersCapTheirCache() {
        const auto m = describe(kGemma2); // Gemma-2-9B: 9.24B, tied, every other layer local
        QVERIFY(std::abs(static_cast<double>(m.params) - 9.24e9) < 0.01e9);
        const std::uint64_t perTokenLayer = 2 * 8 * 256 * 2;
        QCOMPARE(estimate(m, withContext(8192)).kvCacheBytes,
                 (21 * 8192 + 21 * 4096) * perTokenLayer);
        QCOMPARE(estimate(m, withContext(2048)).kvCacheBytes, 42 * 2048 * perTokenLayer);
        QCOMPARE(estimate(m).weightsBytes, m.params * 4); // float32 config
    }

    void kvDtypesCostTheirBlockBits() {
        const auto m = describe(fixture("llama-3.1-8b"));
        const auto f16 = estimate(m, withContext(8192)).kvCacheBytes;
        QCOMPARE(estimate(m, withContext(8192, KvDtype::FP8)).kvCacheBytes, f16 / 2);
        QCOMPARE(estimate(m, withContext(8192, KvDtype::Q8_0)).kvCacheBytes, f16 / 32 * 17);
        QCOMPARE(estimate(m, withContext(8192, KvDtype::Q4_0)).kvCacheBytes, f16 / 32 * 9);
        auto o = withContext(8192);
        o.batch = 4;
        QCOMPARE(estimate(m, o).kvCacheBytes, 4 * f16);
    }

    void schemeWeightsAreHonestAndKeepNormsStored() {
        const auto m = describe(fixture("llama-3.1-8b"));
        MemoryOptions o;
        o.scheme = *Scheme::parse("int4:g64");
        const auto e = estimate(m, o);
        std::uint64_t matrixParams = 0, vectorParams = 0;
        for (const auto& w : m.weights)
            (w.shape.size() == 2 ? matrixParams : vectorParams) += w.numel();
        // 4 bits + fp16 scale + 4-bit zero per 64: 4.3125 bits; norms stay bf16.
        const std::uint64_t bits = matrixParams * 43125 / 10000 + vectorParams * 16;
        QCOMPARE(e.weightsBytes, (bits + 7) / 8);
        QCOMPARE(e.quantizedParams, matrixParams);
    }

    void ggmlBlocksFallBackAsLlamaCppDoes() {
        const auto m = describe(fixture("qwen2.5-0.5b")); // hidden 896 is not a multiple of 256
        MemoryOptions o;
        o.scheme = *Scheme::parse("q4_k");
        const auto e = estimate(m, o);
        std::uint64_t bits = 0;
        for (const auto& w : m.weights) {
            if (w.shape.size() < 2)
                bits += w.numel() * 16;
            else
                bits += w.numel() * (w.shape[1] % 256 == 0 ? 45 : 55) / 10; // q4_k or q5_0
        }
        QCOMPARE(e.weightsBytes, (bits + 7) / 8);
        bool noted = false;
        for (const auto& n : e.notes)
            noted |= n.find("q4_k -> q5_0") != std::string::npos;
        QVERIFY(noted);
    }

    void largeTensorsArePricedLikeQuantizingThem() {
        // Above the exact-probe size, the cost comes from two slices of rows; it must agree
        // with quantizing the whole tensor.
        const std::int64_t rows = 100, cols = 4096;
        QVERIFY(rows * cols > kExactProbeElements);
        std::vector<float> v(static_cast<size_t>(rows * cols));
        for (size_t i = 0; i < v.size(); ++i)
            v[i] = std::sin(0.37 * i) * (1 + (i % 7));
        for (const char* spec :
             {"nf4:g64:dq", "int3:g128:sym", "mxfp4", "q6_k", "kmeans3:channel", "int4:tensor"}) {
            const Scheme s = *Scheme::parse(spec);
            auto direct = quantize(s, MatrixView{v.data(), rows, cols});
            auto priced = schemeStorageCost(s, rows, cols);
            QVERIFY(direct && priced);
            QVERIFY2(direct->cost.totalBits() == priced->totalBits(), spec);
        }
        QCOMPARE(resolvedStorageCost(*Scheme::parse("q4_k"), 64, 172)->scheme.toString(),
                 std::string("f16")); // q4_k -> q5_0 -> f16, as llama.cpp
        QCOMPARE(schemeStorageCost(*Scheme::parse("q4_k"), 64, 172).error().kind,
                 ErrorKind::NotApplicable);
    }

    void planWeightsUseEachTensorsSpec() {
        const auto m = describe(fixture("qwen2.5-0.5b"));
        Plan p;
        p.defaultSpec = "int8:channel:sym";
        p.tensors = {{"model.embed_tokens.weight", "q8_0"}};
        MemoryOptions o;
        o.plan = &p;
        const auto e = estimate(m, o);
        std::uint64_t bits = 0;
        for (const auto& w : m.weights) {
            if (w.name == "model.embed_tokens.weight")
                bits += w.numel() * 85 / 10;
            else if (w.shape.size() == 2)
                bits += w.numel() * 8 + w.shape[0] * 16;
            else
                bits += w.numel() * 16;
        }
        QCOMPARE(e.weightsBytes, (bits + 7) / 8);
        // That plan names one of the model's matrices: the rest take its default, and the
        // notes say the plan does not fit the model.
        bool said = false;
        for (const auto& n : e.notes)
            said |= n.rfind("the plan does not fit this model: ", 0) == 0 &&
                    n.find("take its default int8:channel:sym") != std::string::npos;
        QVERIFY(said);
        // q4_0 asked for rows its block does not divide: llama.cpp has no fallback, so those
        // tensors are priced as stored and the notes say why.
        ModelDescription odd;
        odd.weights = {{"a.weight", {64, 172}, DType::F32, 64 * 172 * 32ull, TensorRole::Mlp},
                       {"b.weight", {64, 64}, DType::F32, 64 * 64 * 32ull, TensorRole::Mlp}};
        odd.params = 64 * 172 + 64 * 64;
        MemoryOptions q;
        q.scheme = *Scheme::parse("q4_0");
        const auto eq = estimate(odd, q);
        QCOMPARE(eq.weightsBytes, std::uint64_t(64 * 172 * 4 + 64 * 64 * 18 / 32));
        QCOMPARE(eq.quantizedParams, std::uint64_t(64 * 64));
        said = false;
        for (const auto& n : eq.notes)
            said |= n.rfind("1 tensors priced as stored: q4_0's block", 0) == 0;
        QVERIFY(said);
    }

    void trainingModes() {
        const auto m = describe(fixture("llama-3.1-8b"));
        MemoryOptions o;
        o.mode = MemoryMode::Train;
        const auto train = estimate(m, o);
        QCOMPARE(train.gradientBytes, m.params * 2);
        QCOMPARE(train.optimizerBytes, m.params * 12); // fp32 master + two fp32 moments
        QCOMPARE(train.kvCacheBytes, std::uint64_t(0));
        o.gradientCheckpointing = true;
        QVERIFY(estimate(m, o).activationBytes < train.activationBytes / 4);

        o = {};
        o.mode = MemoryMode::Lora;
        const auto lora = estimate(m, o);
        QCOMPARE(lora.adapterParams, std::uint64_t(41'943'040)); // PEFT's count, r=16 all-linear
        QCOMPARE(lora.weightsBytes, m.params * 2);
        o.loraTargets = {"q_proj", "v_proj"};
        QCOMPARE(estimate(m, o).adapterParams, std::uint64_t(16 * 32 * (8192 + 5120)));

        o = {};
        o.mode = MemoryMode::Qlora;
        const auto qlora = estimate(m, o);
        QCOMPARE(qlora.adapterParams, lora.adapterParams);
        // nf4 + double-quantized absmax on the matrices; embeddings and head stay bf16.
        const std::uint64_t embHead = 2 * 128256ull * 4096 * 2;
        QVERIFY(qlora.weightsBytes > embHead + 3.3e9 && qlora.weightsBytes < embHead + 3.7e9);
        QVERIFY(qlora.totalBytes < lora.totalBytes);
        // The same rule with another base format: nf4 without double quantization costs more
        // than with it (embeddings and head stay bf16 either way), and the notes say so.
        o.scheme = *Scheme::parse("nf4:g64");
        const auto plainNf4 = estimate(m, o);
        QVERIFY(plainNf4.weightsBytes > qlora.weightsBytes);
        QVERIFY(plainNf4.weightsBytes - qlora.weightsBytes < 0.4e9); // 0.375 bits x 6.98B
        bool said = false;
        for (const auto& n : plainNf4.notes)
            said |= n.find("stay as stored: QLoRA quantizes the base's Linear layers") !=
                    std::string::npos;
        QVERIFY(said);
        o.scheme = *Scheme::parse("int4:g64");
        o.mode = MemoryMode::Train;
        QVERIFY(!estimateMemory(m, o).ok());
    }

    void gpuTableSaysWhatFitsAndHowMany() {
        const auto m = describe(fixture("llama-3.1-8b"));
        const auto e = estimate(m, withContext(8192));
        for (const auto& f : e.fits) {
            QCOMPARE(f.fits, e.totalBytes <= f.gpu->usableBytes);
            if (f.gpu->unifiedMemory && !f.fits) { // Macs are not pooled: none will do
                QCOMPARE(f.count, std::uint64_t(0));
                continue;
            }
            QVERIFY(f.count * f.gpu->usableBytes >= e.totalBytes);
            QVERIFY((f.count - 1) * f.gpu->usableBytes < e.totalBytes);
            if (f.gpu->name == std::string_view("RTX 3060 12 GB"))
                QVERIFY(!f.fits && f.count == 2);
            if (f.gpu->name == std::string_view("H100 80 GB")) {
                QVERIFY(f.fits && f.count == 1);
                // nvidia-smi on a lent H100: 81559 MiB total, 480 reserved by the driver.
                QCOMPARE(f.gpu->memoryBytes, std::uint64_t(81559) << 20);
                QCOMPARE(f.gpu->usableBytes, std::uint64_t(81559 - 480) << 20);
            }
            if (f.gpu->name == std::string_view("Apple M-series 16 GB"))
                QVERIFY(!f.fits && f.count == 0); // 8B in bf16 with 8K context: 17 GiB
        }
    }

    void parameterCountOnly() {
        const auto m = describeParameterCount(7'000'000'000);
        MemoryOptions o;
        QCOMPARE(estimate(m, o).weightsBytes, std::uint64_t(14'000'000'000));
        o.scheme = *Scheme::parse("int4:g64:sym");
        const auto e = estimate(m, o);
        QCOMPARE(e.weightsBytes, std::uint64_t(7'000'000'000ull * 425 / 100 / 8));
        QCOMPARE(e.kvCacheBytes, std::uint64_t(0));
        QVERIFY(!e.notes.empty());
    }

    void malformedConfigsAreErrors() {
        QVERIFY(!describeConfig("not json").ok());
        QVERIFY(!describeConfig("[]").ok());
        QVERIFY(!describeConfig(R"({"hidden_size": 64})").ok());
        QVERIFY(!describeConfig(R"({"hidden_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 8, "num_key_value_heads": 3, "vocab_size": 10})")
                     .ok());
    }
};

QTEST_APPLESS_MAIN(TestMemoryModel)
#include "test_memory_model.moc"
