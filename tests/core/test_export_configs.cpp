// Config and command targets of the exporter on the real sample checkpoint: the fields each
// tool reads, the approximations they must admit, and the refusals where nothing fits.

#include "export/export_plan.h"
#include "export/exporter.h"
#include "test_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace qs;

class TestExportConfigs : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void hfConfigPicksTheMethod_data();
    void hfConfigPicksTheMethod();
    void bitsandbytesFields();
    void gptqFields();
    void compressedTensorsGroupsPerSchemeForPlans();
    void hfConfigRefusesWhatNoMethodRepresents_data();
    void hfConfigRefusesWhatNoMethodRepresents();
    void llmCompressorGptqRecipeUsesPreset();
    void llmCompressorExplicitGroupsOtherwise();
    void llamaQuantizeUniformIsPure();
    void llamaQuantizePlanPinsEveryTensor();
    void llamaQuantizeApproximatesIntAndSaysSo();
    void torchaoMixedPlanUsesFqnToConfig();
    void commandTargets_data();
    void commandTargets();
    void runExportWritesAtomicallyAndNeverOverInput();

private:
    ExportSelection uniform(const std::string& spec);
    ExportSelection planned(const Plan& p);
    static QJsonObject qc(const ConfigExport& c);
    static bool anyWarning(const ConfigExport& c, const QString& needle);

    std::optional<Checkpoint> m_ckpt;
    QTemporaryDir m_dir;
};

void TestExportConfigs::initTestCase() {
    auto c = Checkpoint::open(test::samplePath());
    QVERIFY(c.ok());
    m_ckpt = std::move(c).value();
}

ExportSelection TestExportConfigs::uniform(const std::string& spec) {
    auto s = Scheme::parse(spec);
    if (!s)
        qFatal("%s", s.message().c_str());
    return *selectForExport(*m_ckpt, *s);
}

ExportSelection TestExportConfigs::planned(const Plan& p) {
    auto sel = selectForExport(*m_ckpt, p);
    if (!sel)
        qFatal("%s", sel.message().c_str());
    return *sel;
}

QJsonObject TestExportConfigs::qc(const ConfigExport& c) {
    return QJsonDocument::fromJson(QByteArray::fromStdString(c.content))
        .object()["quantization_config"]
        .toObject();
}

bool TestExportConfigs::anyWarning(const ConfigExport& c, const QString& needle) {
    for (const auto& w : c.warnings)
        if (QString::fromStdString(w).contains(needle))
            return true;
    return false;
}

void TestExportConfigs::hfConfigPicksTheMethod_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("method");
    QTest::newRow("nf4:g64:dq") << "nf4:g64:dq"
                                << "bitsandbytes";
    QTest::newRow("gptq4:g128") << "gptq4:g128"
                                << "gptq";
    QTest::newRow("int4:g32:sym") << "int4:g32:sym"
                                  << "compressed-tensors";
    QTest::newRow("awq4:g128") << "awq4:g128"
                               << "awq";
    QTest::newRow("hqq4:g64") << "hqq4:g64"
                              << "hqq";
    QTest::newRow("fp8_e4m3") << "fp8_e4m3"
                              << "compressed-tensors";
    QTest::newRow("nvfp4") << "nvfp4"
                           << "compressed-tensors";
    QTest::newRow("fp8_e5m2") << "fp8_e5m2"
                              << "torchao";
    QTest::newRow("autoround4") << "autoround4"
                                << "auto-round";
}

void TestExportConfigs::hfConfigPicksTheMethod() {
    QFETCH(QString, spec);
    QFETCH(QString, method);
    auto r = previewExport(ExportTarget::HfConfig, uniform(spec.toStdString()), {});
    QVERIFY2(r.ok(), r.ok() ? "" : r.message().c_str());
    QCOMPARE(qc(*r)["quant_method"].toString(), method);
}

void TestExportConfigs::bitsandbytesFields() {
    auto r = previewExport(ExportTarget::HfConfig, uniform("nf4:g64:dq"), {});
    QVERIFY(r.ok());
    const auto j = qc(*r);
    QCOMPARE(j["load_in_4bit"].toBool(), true);
    QCOMPARE(j["load_in_8bit"].toBool(), false);
    QCOMPARE(j["bnb_4bit_quant_type"].toString(), QString("nf4"));
    QCOMPARE(j["bnb_4bit_use_double_quant"].toBool(), true);
    QCOMPARE(j["bnb_4bit_compute_dtype"].toString(), QString("bfloat16")); // model is float32
    QCOMPARE(j["bnb_4bit_quant_storage"].toString(), QString("uint8"));
    QVERIFY(r->warnings.empty()); // nf4 in blocks of 64 is exactly bitsandbytes' default
    ConfigOptions o;
    o.computeDtype = "float16";
    auto fp4 = previewExport(ExportTarget::HfConfig, uniform("bnb_fp4:g128"), o);
    QVERIFY(fp4.ok());
    QCOMPARE(qc(*fp4)["bnb_4bit_quant_type"].toString(), QString("fp4"));
    QCOMPARE(qc(*fp4)["bnb_4bit_use_double_quant"].toBool(), false);
    QCOMPARE(qc(*fp4)["bnb_4bit_compute_dtype"].toString(), QString("float16"));
    QVERIFY(anyWarning(*fp4, "blocks of 64")); // g128 cannot be expressed
}

void TestExportConfigs::gptqFields() {
    auto r = previewExport(ExportTarget::HfConfig, uniform("gptq4:g128:act_order"), {});
    QVERIFY(r.ok());
    const auto j = qc(*r);
    QCOMPARE(j["bits"].toInt(), 4);
    QCOMPARE(j["group_size"].toInt(), 128);
    QCOMPARE(j["sym"].toBool(), true);
    QCOMPARE(j["desc_act"].toBool(), true);
    QCOMPARE(j["checkpoint_format"].toString(), QString("gptq"));
    auto channel = previewExport(ExportTarget::HfConfig, uniform("gptq8:channel"), {});
    QVERIFY(channel.ok());
    QCOMPARE(qc(*channel)["group_size"].toInt(), -1);
}

void TestExportConfigs::compressedTensorsGroupsPerSchemeForPlans() {
    auto r = previewExport(ExportTarget::HfConfig, uniform("int4:g32:sym"), {});
    QVERIFY(r.ok());
    auto j = qc(*r);
    QCOMPARE(j["format"].toString(), QString("pack-quantized"));
    const auto g0 = j["config_groups"].toObject()["group_0"].toObject();
    QCOMPARE(g0["targets"].toArray().first().toString(), QString("Linear"));
    const auto w = g0["weights"].toObject();
    QCOMPARE(w["num_bits"].toInt(), 4);
    QCOMPARE(w["type"].toString(), QString("int"));
    QCOMPARE(w["symmetric"].toBool(), true);
    QCOMPARE(w["strategy"].toString(), QString("group"));
    QCOMPARE(w["group_size"].toInt(), 32);
    QCOMPARE(j["ignore"].toArray().first().toString(), QString("lm_head"));
    QVERIFY(anyWarning(*r, "range=full")); // the symmetric scale rule differs

    Plan p;
    p.defaultSpec = "int4:g32:sym:range=full";
    p.tensors = {{"model.layers.0.mlp.up_proj.weight", "int8:channel:sym:range=full"},
                 {"model.layers.1.mlp.up_proj.weight", "f16"}};
    auto m = previewExport(ExportTarget::HfConfig, planned(p), {});
    QVERIFY2(m.ok(), m.ok() ? "" : m.message().c_str());
    j = qc(*m);
    const auto groups = j["config_groups"].toObject();
    QCOMPARE(groups.size(), 2);
    const auto targets8 = groups["group_1"].toObject()["targets"].toArray();
    QCOMPARE(targets8.size(), 1);
    QCOMPARE(targets8.first().toString(), QString("re:^model\\.layers\\.0\\.mlp\\.up_proj$"));
    QVERIFY(j["ignore"].toArray().contains(QString("model.layers.1.mlp.up_proj")));
    // The plan's default also covers the embedding, which compressed-tensors keeps dense, and
    // the 172-wide down_proj layers, which groups of 32 do not divide.
    QCOMPARE(m->warnings.size(), std::size_t{2});
    QVERIFY(anyWarning(*m, "dropped: embeddings stay dense"));
    QVERIFY(anyWarning(*m, "kept dense: 5 layers"));
    QVERIFY(j["ignore"].toArray().contains(QString("model.layers.2.mlp.down_proj")));
}

void TestExportConfigs::hfConfigRefusesWhatNoMethodRepresents_data() {
    QTest::addColumn<QString>("spec");
    for (const char* s : {"q4_k", "kmeans3", "mulaw4:g128", "nf3:g64", "sinq4:g64"})
        QTest::newRow(s) << s;
}

void TestExportConfigs::hfConfigRefusesWhatNoMethodRepresents() {
    QFETCH(QString, spec);
    auto r = previewExport(ExportTarget::HfConfig, uniform(spec.toStdString()), {});
    QVERIFY(!r.ok());
    QVERIFY(!r.message().empty());
}

void TestExportConfigs::llmCompressorGptqRecipeUsesPreset() {
    auto r = previewExport(ExportTarget::LlmCompressor, uniform("gptq4:g128"), {});
    QVERIFY2(r.ok(), r.ok() ? "" : r.message().c_str());
    const QString y = QString::fromStdString(r->content);
    QVERIFY(y.contains("quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n"));
    QVERIFY(y.contains("scheme: \"W4A16\""));
    QVERIFY(y.contains("targets: [\"Linear\"]"));
    // Groups of 128 divide none of this small model's 64- and 172-wide rows: every layer is
    // ignored, and the recipe says so (on a real model only lm_head is).
    QVERIFY(y.contains("ignore: [\"lm_head\",\"model.layers.0.mlp.down_proj\""));
    QVERIFY(anyWarning(*r, "kept dense: 35 layers"));
    QVERIFY(y.contains("dampening_frac: 0.01"));
    QVERIFY(y.contains("actorder: null"));
    QCOMPARE(r->warnings.size(), std::size_t{1});
}

void TestExportConfigs::llmCompressorExplicitGroupsOtherwise() {
    auto r = previewExport(ExportTarget::LlmCompressor, uniform("int4:g64"), {});
    QVERIFY(r.ok());
    const QString y = QString::fromStdString(r->content);
    QVERIFY(y.contains("QuantizationModifier:"));
    QVERIFY(y.contains("config_groups:"));
    QVERIFY(y.contains("\"group_size\":64"));
    QVERIFY(y.contains("\"symmetric\":false"));
    auto nf = previewExport(ExportTarget::LlmCompressor, uniform("nf4:g64"), {});
    QVERIFY(!nf.ok());
}

void TestExportConfigs::llamaQuantizeUniformIsPure() {
    auto gguf = Checkpoint::open(test::sourceDir() + "/resources/samples/stories260K.f32.gguf");
    QVERIFY(gguf.ok());
    auto sel = selectForExport(*gguf, *Scheme::parse("q4_k"));
    auto r = previewExport(ExportTarget::LlamaCpp, *sel, {});
    QVERIFY(r.ok());
    const QString c = QString::fromStdString(r->content);
    QVERIFY2(c.contains("llama-quantize --pure ") && c.endsWith(" Q4_K\n"), qPrintable(c));
    QVERIFY(c.contains("stories260K.f32.gguf"));
    QVERIFY(!c.contains("convert_hf_to_gguf"));
    QVERIFY(r->warnings.empty());

    auto hf = previewExport(ExportTarget::LlamaCpp, uniform("q8_0"), {});
    QVERIFY(hf.ok());
    const QString h = QString::fromStdString(hf->content);
    QVERIFY2(h.contains("python convert_hf_to_gguf.py ") && h.contains("--outtype f32"),
             qPrintable(h));
    QVERIFY(h.contains(" Q8_0\n"));
}

void TestExportConfigs::llamaQuantizePlanPinsEveryTensor() {
    Plan p;
    p.defaultSpec = "q4_k";
    p.tensors = {{"model.layers.0.self_attn.v_proj.weight", "q8_0"},
                 {"model.embed_tokens.weight", "q6_k"}};
    ConfigOptions o;
    o.outPath = (m_dir.path() + "/quantize.sh").toStdString();
    auto r = previewExport(ExportTarget::LlamaCpp, planned(p), o);
    QVERIFY2(r.ok(), r.ok() ? "" : r.message().c_str());
    const QString c = QString::fromStdString(r->content);
    QVERIFY(!c.contains("--pure"));
    QVERIFY(c.contains("--token-embedding-type q6_K"));
    QVERIFY2(c.contains("--tensor-type-file"), qPrintable(c)); // 35 tensors: a file
    QCOMPARE(r->sideFiles.size(), std::size_t{1});
    const QString f = QString::fromStdString(r->sideFiles[0].content);
    QVERIFY(f.contains("^blk\\.0\\.attn_v\\.weight$=q8_0\n"));
    QVERIFY(f.contains("^blk\\.0\\.attn_q\\.weight$=q4_K\n"));
    QVERIFY(!f.contains("norm")); // 1-D tensors are never quantized
}

void TestExportConfigs::llamaQuantizeApproximatesIntAndSaysSo() {
    auto r = previewExport(ExportTarget::LlamaCpp, uniform("int4:g32:sym"), {});
    QVERIFY(r.ok());
    QVERIFY(QString::fromStdString(r->content).endsWith(" Q4_0\n"));
    QVERIFY(anyWarning(*r, "int4:g32:sym -> q4_0"));
    QVERIFY(!previewExport(ExportTarget::LlamaCpp, uniform("mulaw4:g128"), {}).ok());
}

void TestExportConfigs::torchaoMixedPlanUsesFqnToConfig() {
    Plan p;
    p.defaultSpec = "int4:g32:sym:range=full";
    p.tensors = {{"model.layers.4.mlp.down_proj.weight", "int8:channel:sym:range=full"},
                 {"model.layers.0.self_attn.q_proj.weight", "bf16"}};
    auto r = previewExport(ExportTarget::Torchao, planned(p), {});
    QVERIFY2(r.ok(), r.ok() ? "" : r.message().c_str());
    const QString c = QString::fromStdString(r->content);
    QVERIFY(c.contains("FqnToConfig({"));
    QVERIFY(c.contains("\"model.layers.4.mlp.down_proj\": Int8WeightOnlyConfig()"));
    QVERIFY(c.contains("\"model.layers.0.self_attn.q_proj\": None"));
    QVERIFY(c.contains("\"_default\": IntxWeightOnlyConfig(weight_dtype=torch.int4, "
                       "granularity=PerGroup(32), mapping_type=MappingType.SYMMETRIC)"));
    QVERIFY(r->warnings.empty());
}

void TestExportConfigs::commandTargets_data() {
    QTest::addColumn<int>("target");
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("expect"); // "" = refused
    QTest::newRow("autoround") << int(ExportTarget::AutoRound) << "autoround4:g128"
                               << "auto-round --model";
    QTest::newRow("autoround asym") << int(ExportTarget::AutoRound) << "int4:g128"
                                    << "--asym --format auto_round";
    QTest::newRow("autoround nf4") << int(ExportTarget::AutoRound) << "nf4"
                                   << "";
    QTest::newRow("mlx") << int(ExportTarget::Mlx) << "int4:g64"
                         << "mlx_lm.convert --hf-path";
    QTest::newRow("mlx mxfp4") << int(ExportTarget::Mlx) << "mxfp4"
                               << "--q-mode mxfp4";
    QTest::newRow("mlx kmeans") << int(ExportTarget::Mlx) << "kmeans4"
                                << "";
    QTest::newRow("openvino") << int(ExportTarget::OpenVino) << "int4:g128:sym"
                              << "--weight-format int4 --group-size 128 --sym --ratio 1.00";
    QTest::newRow("openvino nf4") << int(ExportTarget::OpenVino) << "nf4"
                                  << "--weight-format nf4";
    QTest::newRow("openvino q4_k") << int(ExportTarget::OpenVino) << "q4_k"
                                   << "";
    QTest::newRow("ort-genai") << int(ExportTarget::OrtGenAi) << "int4:g32"
                               << "-p int4 -e cpu --extra_options int4_block_size=32 "
                                  "int4_is_symmetric=false";
    QTest::newRow("ort-genai int8") << int(ExportTarget::OrtGenAi) << "int8:channel"
                                    << "";
}

void TestExportConfigs::commandTargets() {
    QFETCH(int, target);
    QFETCH(QString, spec);
    QFETCH(QString, expect);
    auto r = previewExport(static_cast<ExportTarget>(target), uniform(spec.toStdString()), {});
    if (expect.isEmpty()) {
        QVERIFY(!r.ok());
        return;
    }
    QVERIFY2(r.ok(), r.ok() ? "" : r.message().c_str());
    QVERIFY2(QString::fromStdString(r->content).contains(expect), r->content.c_str());
}

void TestExportConfigs::runExportWritesAtomicallyAndNeverOverInput() {
    const std::string out = (m_dir.path() + "/config.json").toStdString();
    auto r = runExport(ExportTarget::HfConfig, uniform("gptq4:g128"), out, {test::samplePath()});
    QVERIFY(r.ok());
    QCOMPARE(r->files, std::vector<std::string>{out});
    QFile f(QString::fromStdString(out));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(f.readAll())["quantization_config"]["quant_method"].toString(),
             QString("gptq"));
    QDir dir(m_dir.path());
    QCOMPARE(dir.entryList(QDir::Files).filter("tmp").size(), 0);
    auto refused = runExport(ExportTarget::HfConfig, uniform("gptq4:g128"), test::samplePath(),
                             {test::samplePath()});
    QVERIFY(!refused.ok());
    QVERIFY(refused.message().find("refusing") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestExportConfigs)
#include "test_export_configs.moc"
