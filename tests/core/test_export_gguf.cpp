// The GGUF exporter against the real thing. Files exported from the float GGUF sample (q8_0,
// q4_0, q4_k) and from the safetensors sample (mapped from config.json) must:
//  - reopen in Quantscope's reader with the metadata and tensors of the source;
//  - parse with ggml's own gguf reader (libggml-base.so), and every quantized tensor must be
//    byte-identical to ggml_quantize_chunk on the source values (what llama-quantize writes);
//  - load in llama.cpp (libllama, llama_model_load_from_file).
// ggml and llama.cpp are loaded at run time from <build>/ggml-oracle (scripts/quantscope test
// fetches them from the npm package @node-llama-cpp/linux-x64); those parts skip without them.

#include "export/export_plan.h"
#include "export/gguf_export.h"
#include "export/gguf_writer.h"
#include "io/checkpoint.h"
#include "io/gguf_reader.h"
#include "io/mapped_file.h"
#include "quant/ggml_quant.h"
#include "quant/registry.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <dlfcn.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

using namespace qs;

namespace {

struct GgufInitParams {
    bool noAlloc;
    void** ctx;
};
using GgufInitFn = void* (*)(const char*, GgufInitParams);
using GgufFreeFn = void (*)(void*);
using GgufCountFn = std::int64_t (*)(const void*);
using GgufFindFn = std::int64_t (*)(const void*, const char*);
using GgufTypeFn = int (*)(const void*, std::int64_t);
using GgufOffsetFn = std::size_t (*)(const void*, std::int64_t);
using GgufDataOffsetFn = std::size_t (*)(const void*);
using QuantizeChunkFn = std::size_t (*)(int, const float*, void*, std::int64_t, std::int64_t,
                                        std::int64_t, const float*);

// llama.h (llama.cpp, as shipped by @node-llama-cpp 3.22.1): model params are passed by value;
// the struct is opaque here, with room to spare (passed in memory on x86-64 either way).
struct LlamaModelParams {
    alignas(8) unsigned char bytes[512];
};
using LogCallback = void (*)(int, const char*, void*);
using LlamaLogSetFn = void (*)(LogCallback, void*);
using LlamaDefaultParamsFn = LlamaModelParams (*)();
using LlamaLoadFn = void* (*)(const char*, LlamaModelParams);
using LlamaFreeFn = void (*)(void*);
using LlamaVoidFn = void (*)();
using LlamaNParamsFn = std::uint64_t (*)(const void*);
using LlamaNLayerFn = std::int32_t (*)(const void*);
using LlamaDescFn = std::int32_t (*)(const void*, char*, std::size_t);
using BackendLoadAllFn = void (*)(const char*);

std::string oracleDir() {
    return test::binaryDir() + "/ggml-oracle";
}

std::string sampleGguf() {
    return test::sourceDir() + "/resources/samples/stories260K.f32.gguf";
}

std::string llamaLog;
void captureLog(int level, const char* text, void*) {
    if (level >= 4) // GGML_LOG_LEVEL_ERROR
        llamaLog += text;
}

} // namespace

class TestExportGguf : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void writerRoundTripsEveryValueType();
    void exportKeepsMetadataAndReopens_data();
    void exportKeepsMetadataAndReopens();
    void blocksAreByteIdenticalToGgml_data();
    void blocksAreByteIdenticalToGgml();
    void safetensorsSourceMapsNamesAndUnpermutesQk();
    void kQuantsFallBackAsLlamaQuantizeDoes();
    void nonGgmlSchemeIsRefused();
    void planNamingMissingTensorsIsRefused();
    void llamaCppLoadsTheExport_data();
    void llamaCppLoadsTheExport();

private:
    std::string exportFrom(const std::string& source, const std::string& spec,
                           const std::string& name, std::uint32_t alignment = 32);
    void* ggml();

    QTemporaryDir m_dir;
    void* m_ggml = nullptr;
    bool m_ggmlTried = false;
};

void TestExportGguf::initTestCase() {
    QVERIFY(m_dir.isValid());
}

void* TestExportGguf::ggml() {
    if (!m_ggmlTried) {
        m_ggmlTried = true;
        const std::string lib = oracleDir() + "/libggml-base.so";
        if (QFileInfo::exists(QString::fromStdString(lib)))
            m_ggml = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    }
    return m_ggml;
}

std::string TestExportGguf::exportFrom(const std::string& source, const std::string& spec,
                                       const std::string& name, std::uint32_t alignment) {
    auto ckpt = Checkpoint::open(source);
    if (!ckpt)
        return "open: " + ckpt.message();
    auto scheme = Scheme::parse(spec);
    if (!scheme)
        return "scheme: " + scheme.message();
    auto sel = selectForExport(*ckpt, *scheme);
    if (!sel)
        return "select: " + sel.message();
    const std::string out = (m_dir.path() + "/" + QString::fromStdString(name)).toStdString();
    GgufExportOptions o;
    o.alignment = alignment;
    auto r = exportGguf(*sel, out, o);
    if (!r)
        return "export: " + r.message();
    return out;
}

void TestExportGguf::writerRoundTripsEveryValueType() {
    GgufWriter w;
    QVERIFY(w.setAlignment(64).ok());
    QVERIFY(!w.setAlignment(12).ok());
    w.setString("general.architecture", "llama");
    w.setU32("a.u32", 7);
    w.setI32("a.i32", -3);
    w.setU64("a.u64", 1ull << 40);
    w.setF32("a.f32", 0.5f);
    w.setBool("a.bool", true);
    w.setStringArray("a.strs", {"x", "yy", ""});
    w.setI32Array("a.ints", {1, -2, 3});
    w.setF32Array("a.floats", {1.5f});
    w.setU32("a.u32", 9); // replaces in place
    const std::vector<float> x(64, 0.25f);
    QVERIFY(w.addTensor("t", {2, 32}, GgmlType::Q8_0, [&]() -> Result<std::vector<std::byte>> {
                 return ggmlQuantizeRows(GgmlType::Q8_0, MatrixView{x.data(), 2, 32});
             }).ok());
    QVERIFY(!w.addTensor("t", {2, 32}, GgmlType::F32, {}).ok());              // duplicate
    QVERIFY(!w.addTensor("u", {2, 33}, GgmlType::Q8_0, {}).ok());             // rows not divisible
    QVERIFY(!w.addTensor(std::string(64, 'n'), {1}, GgmlType::F32, {}).ok()); // long name
    const std::string path = (m_dir.path() + "/writer.gguf").toStdString();
    {
        std::ofstream out(path, std::ios::binary);
        QVERIFY(w.write(out).ok());
    }
    auto f = MappedFile::open(path);
    QVERIFY(f.ok());
    auto g = parseGguf((*f)->bytes());
    QVERIFY2(g.ok(), g.ok() ? "" : g.message().c_str());
    QCOMPARE(g->alignment, std::uint64_t{64});
    QCOMPARE(g->dataOffset % 64, std::uint64_t{0});
    std::map<std::string, std::string> kv;
    for (const auto& p : g->metadata)
        kv[p.key] = p.display;
    QCOMPARE(kv.size(), std::size_t{10});
    QCOMPARE(kv["a.u32"], std::string("9"));
    QCOMPARE(kv["a.i32"], std::string("-3"));
    QCOMPARE(kv["a.bool"], std::string("true"));
    QVERIFY2(kv["a.strs"].find("x, yy") != std::string::npos, kv["a.strs"].c_str());
    QCOMPARE(g->tensors.size(), std::size_t{1});
    QCOMPARE(g->tensors[0].typeId, std::uint32_t(GgmlType::Q8_0));
    QCOMPARE(g->tensors[0].shape, (std::vector<std::int64_t>{2, 32}));
}

void TestExportGguf::exportKeepsMetadataAndReopens_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("type");
    QTest::addColumn<int>("alignment");
    QTest::newRow("q8_0") << "q8_0"
                          << "Q8_0" << 32;
    QTest::newRow("q4_0") << "q4_0"
                          << "Q4_0" << 32;
    QTest::newRow("q5_1, aligned to 64") << "q5_1"
                                         << "Q5_1" << 64;
}

void TestExportGguf::exportKeepsMetadataAndReopens() {
    QFETCH(QString, spec);
    QFETCH(QString, type);
    QFETCH(int, alignment);
    const std::string out =
        exportFrom(sampleGguf(), spec.toStdString(), "meta-" + spec.toStdString() + ".gguf",
                   static_cast<std::uint32_t>(alignment));
    QVERIFY2(out.ends_with(".gguf"), out.c_str());
    auto src = Checkpoint::open(sampleGguf());
    auto dst = Checkpoint::open(out);
    QVERIFY(src.ok());
    QVERIFY2(dst.ok(), dst.ok() ? "" : dst.message().c_str());
    // Every source pair is kept with its value, except the three the export sets anew.
    for (const auto& [key, value] : src->metadata()) {
        if (key == "general.file_type" || key == "general.alignment")
            continue;
        QVERIFY2(dst->metadata().count(key), key.c_str());
        QCOMPARE(dst->metadata().at(key), value);
    }
    QCOMPARE(dst->metadata().at("general.quantization_version"), std::string("2"));
    QCOMPARE(dst->metadata().at("general.alignment"), std::to_string(alignment));
    QCOMPARE(dst->tensors().size(), src->tensors().size());
    int quantized = 0, keptForRows = 0;
    for (std::size_t i = 0; i < src->tensors().size(); ++i) {
        const auto& s = src->tensors()[i];
        const auto& d = dst->tensors()[i];
        QCOMPARE(d.name, s.name);
        QCOMPARE(d.shape, s.shape);
        const auto block = 32;
        if (s.shape.size() == 1 || s.shape.back() % block != 0) {
            QCOMPARE(QString::fromStdString(d.typeName()), QString("F32"));
            keptForRows += s.shape.size() == 2;
            // Kept tensors are the source's bytes.
            QCOMPARE(*dst->readFloat(d), *src->readFloat(s));
        } else {
            QCOMPARE(QString::fromStdString(d.typeName()), type);
            ++quantized;
        }
    }
    QVERIFY(quantized > 0);
    QCOMPARE(keptForRows, 5); // the five 172-wide ffn_down
}

void TestExportGguf::blocksAreByteIdenticalToGgml_data() {
    QTest::addColumn<QString>("spec");
    for (const char* s : {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1"})
        QTest::newRow(s) << s;
}

void TestExportGguf::blocksAreByteIdenticalToGgml() {
    QFETCH(QString, spec);
    void* lib = ggml();
    if (!lib)
        QSKIP("ggml oracle (libggml-base.so) not installed in <build>/ggml-oracle");
    auto init = reinterpret_cast<GgufInitFn>(dlsym(lib, "gguf_init_from_file"));
    auto free = reinterpret_cast<GgufFreeFn>(dlsym(lib, "gguf_free"));
    auto nTensors = reinterpret_cast<GgufCountFn>(dlsym(lib, "gguf_get_n_tensors"));
    auto nKv = reinterpret_cast<GgufCountFn>(dlsym(lib, "gguf_get_n_kv"));
    auto find = reinterpret_cast<GgufFindFn>(dlsym(lib, "gguf_find_tensor"));
    auto typeOf = reinterpret_cast<GgufTypeFn>(dlsym(lib, "gguf_get_tensor_type"));
    auto offsetOf = reinterpret_cast<GgufOffsetFn>(dlsym(lib, "gguf_get_tensor_offset"));
    auto dataOffset = reinterpret_cast<GgufDataOffsetFn>(dlsym(lib, "gguf_get_data_offset"));
    auto quantizeChunk = reinterpret_cast<QuantizeChunkFn>(dlsym(lib, "ggml_quantize_chunk"));
    QVERIFY(init && free && nTensors && nKv && find && typeOf && offsetOf && dataOffset &&
            quantizeChunk);

    const std::string out =
        exportFrom(sampleGguf(), spec.toStdString(), "oracle-" + spec.toStdString() + ".gguf");
    QVERIFY2(out.ends_with(".gguf"), out.c_str());
    void* g = init(out.c_str(), GgufInitParams{true, nullptr}); // ggml's own parser
    QVERIFY2(g, "ggml's gguf reader rejects the export");
    auto src = Checkpoint::open(sampleGguf());
    auto mapped = MappedFile::open(out);
    QVERIFY(src.ok() && mapped.ok());
    QCOMPARE(nTensors(g), static_cast<std::int64_t>(src->tensors().size()));
    const auto type = *ggmlTypeForFamily(spec.toStdString());
    int compared = 0;
    for (const auto& t : src->tensors()) {
        const std::int64_t id = find(g, t.name.c_str());
        QVERIFY2(id >= 0, t.name.c_str());
        if (typeOf(g, id) != static_cast<int>(type))
            continue;
        const auto values = src->readFloat(t);
        QVERIFY(values.ok());
        const std::int64_t cols = t.shape.back(), rows = t.numel() / cols;
        std::vector<std::byte> expected(*ggmlTensorBytes(type, t.shape));
        QCOMPARE(quantizeChunk(static_cast<int>(type), values->data(), expected.data(), 0, rows,
                               cols, nullptr),
                 expected.size());
        const auto at = dataOffset(g) + offsetOf(g, id);
        QVERIFY(at + expected.size() <= (*mapped)->size());
        QVERIFY2(std::memcmp((*mapped)->bytes().data() + at, expected.data(), expected.size()) == 0,
                 qPrintable(QString::fromStdString(t.name) + " differs from ggml's bytes"));
        ++compared;
    }
    free(g);
    QCOMPARE(compared, 31); // 36 matrices; the five 172-wide ffn_down stay F32
}

// llama_tensor_get_type: q4_k's 256-blocks divide none of the sample's rows (64 or 172 wide):
// rows of 64 take Q5_0, and the 172-wide ones F16 (Q5_0's 32-blocks do not divide them either);
// the data is ggml's own quantizer's for the type taken.
void TestExportGguf::kQuantsFallBackAsLlamaQuantizeDoes() {
    const std::string out = exportFrom(sampleGguf(), "q4_k", "fallback-q4_k.gguf");
    QVERIFY2(out.ends_with(".gguf"), out.c_str());
    auto src = Checkpoint::open(sampleGguf());
    auto dst = Checkpoint::open(out);
    QVERIFY(src.ok() && dst.ok());
    int q5 = 0, f16 = 0;
    for (std::size_t i = 0; i < src->tensors().size(); ++i) {
        const auto& s = src->tensors()[i];
        const auto& d = dst->tensors()[i];
        if (s.shape.size() < 2)
            continue;
        const QString want = s.shape.back() == 172 ? QStringLiteral("F16") : QStringLiteral("Q5_0");
        QCOMPARE(QString::fromStdString(d.typeName()), want);
        (want == QLatin1String("F16") ? f16 : q5) += 1;
        if (want == QLatin1String("Q5_0")) {
            const auto values = src->readFloat(s);
            const std::int64_t cols = s.shape.back(), rows = s.numel() / cols;
            const auto expect =
                quantize(*Scheme::parse("q5_0"), MatrixView{values->data(), rows, cols});
            QVERIFY(expect.ok());
            QCOMPARE(*dst->readFloat(d), expect->reconstruction); // decoded Q5_0 data
        }
    }
    QCOMPARE(f16, 5);
    QCOMPARE(q5, 31);
}

void TestExportGguf::safetensorsSourceMapsNamesAndUnpermutesQk() {
    // The safetensors sample holds the GGUF sample's weights with Hugging Face names and q/k
    // rows in HF order; exported as f32 they must equal the GGUF's tensors exactly.
    const std::string out = exportFrom(test::samplePath(), "f32", "from-safetensors.gguf");
    QVERIFY2(out.ends_with(".gguf"), out.c_str());
    auto dst = Checkpoint::open(out);
    auto ref = Checkpoint::open(sampleGguf());
    QVERIFY(dst.ok() && ref.ok());
    QCOMPARE(dst->metadata().at("general.architecture"), std::string("llama"));
    QCOMPARE(dst->metadata().at("llama.attention.head_count_kv"), std::string("4"));
    QCOMPARE(dst->metadata().at("llama.block_count"), std::string("5"));
    QCOMPARE(dst->metadata().at("tokenizer.ggml.model"), std::string("none"));
    QCOMPARE(dst->tensors().size(), ref->tensors().size());
    for (const auto& t : ref->tensors()) {
        const TensorInfo* d = dst->find(t.name);
        QVERIFY2(d, t.name.c_str());
        QCOMPARE(d->shape, t.shape);
        QVERIFY2(*dst->readFloat(*d) == *ref->readFloat(t), t.name.c_str());
    }
}

void TestExportGguf::nonGgmlSchemeIsRefused() {
    const std::string r = exportFrom(sampleGguf(), "int4:g64", "refused.gguf");
    QVERIFY2(r.starts_with("export: ") && r.find("not a ggml type") != std::string::npos,
             r.c_str());
    QVERIFY(!QFileInfo::exists(m_dir.path() + "/refused.gguf"));
}

void TestExportGguf::planNamingMissingTensorsIsRefused() {
    auto ckpt = Checkpoint::open(sampleGguf());
    QVERIFY(ckpt.ok());
    Plan p;
    p.defaultSpec = "q8_0";
    p.tensors = {{"blk.0.attn_q.weight", "q4_0"}, {"model.layers.0.mlp.up_proj.weight", "q4_0"}};
    auto sel = selectForExport(*ckpt, p);
    QVERIFY(!sel.ok());
    QVERIFY2(sel.message().find("model.layers.0.mlp.up_proj.weight") != std::string::npos,
             sel.message().c_str());
    p.tensors.pop_back();
    auto ok = selectForExport(*ckpt, p);
    QVERIFY(ok.ok());
    QCOMPARE(ok->groups().size(), std::size_t{2});
}

void TestExportGguf::llamaCppLoadsTheExport_data() {
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("ftype");
    QTest::newRow("q8_0 from GGUF") << "gguf"
                                    << "q8_0"
                                    << "Q8_0";
    QTest::newRow("q4_0 from GGUF") << "gguf"
                                    << "q4_0"
                                    << "Q4_0";
    QTest::newRow("q5_0 from GGUF") << "gguf"
                                    << "q5_0"
                                    << "Q5_0";
    QTest::newRow("q8_0 from safetensors") << "safetensors"
                                           << "q8_0"
                                           << "Q8_0";
}

void TestExportGguf::llamaCppLoadsTheExport() {
    QFETCH(QString, source);
    QFETCH(QString, spec);
    QFETCH(QString, ftype);
    const std::string dir = oracleDir();
    if (!QFileInfo::exists(QString::fromStdString(dir + "/libllama.v0.5.0.so")))
        QSKIP("llama.cpp (libllama.v0.5.0.so) not installed in <build>/ggml-oracle");
    void* ggmlLib = dlopen((dir + "/libggml.v0.5.0.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
    void* llama = dlopen((dir + "/libllama.v0.5.0.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!ggmlLib || !llama)
        QSKIP(qPrintable(QString("cannot load llama.cpp: ") + dlerror()));
    auto loadAll =
        reinterpret_cast<BackendLoadAllFn>(dlsym(ggmlLib, "ggml_backend_load_all_from_path"));
    auto logSet = reinterpret_cast<LlamaLogSetFn>(dlsym(llama, "llama_log_set"));
    auto backendInit = reinterpret_cast<LlamaVoidFn>(dlsym(llama, "llama_backend_init"));
    auto defaults =
        reinterpret_cast<LlamaDefaultParamsFn>(dlsym(llama, "llama_model_default_params"));
    auto load = reinterpret_cast<LlamaLoadFn>(dlsym(llama, "llama_model_load_from_file"));
    auto freeModel = reinterpret_cast<LlamaFreeFn>(dlsym(llama, "llama_model_free"));
    auto nParams = reinterpret_cast<LlamaNParamsFn>(dlsym(llama, "llama_model_n_params"));
    auto nLayer = reinterpret_cast<LlamaNLayerFn>(dlsym(llama, "llama_model_n_layer"));
    auto desc = reinterpret_cast<LlamaDescFn>(dlsym(llama, "llama_model_desc"));
    QVERIFY(loadAll && logSet && backendInit && defaults && load && freeModel && nParams &&
            nLayer && desc);
    static bool backendsLoaded = false;
    if (!backendsLoaded) {
        loadAll(dir.c_str());
        logSet(captureLog, nullptr);
        backendInit();
        backendsLoaded = true;
    }
    const std::string from = source == "gguf" ? sampleGguf() : test::samplePath();
    const std::string out =
        exportFrom(from, spec.toStdString(),
                   "llama-" + source.toStdString() + "-" + spec.toStdString() + ".gguf");
    QVERIFY2(out.ends_with(".gguf"), out.c_str());
    llamaLog.clear();
    void* model = load(out.c_str(), defaults());
    QVERIFY2(model,
             qPrintable("llama.cpp refused the export: " + QString::fromStdString(llamaLog)));
    QCOMPARE(nParams(model), std::uint64_t{260032});
    QCOMPARE(nLayer(model), 5);
    char buf[128] = {};
    desc(model, buf, sizeof buf);
    QVERIFY2(QString(buf).contains(ftype), buf); // general.file_type as llama.cpp reads it
    freeModel(model);
}

QTEST_GUILESS_MAIN(TestExportGguf)
#include "test_export_gguf.moc"
