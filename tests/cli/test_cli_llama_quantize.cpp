// GGUF files written by llama.cpp's own quantizer, read back by Quantscope.
//
// llama_model_quantize() from libllama is the whole of what the llama-quantize program does (the
// program only parses its arguments and calls it): it picks each tensor's type for a file type
// (the K-quant mixes of Q4_K_M and the rest, the fallbacks for rows that are not a multiple of
// 256), quantizes with ggml and writes the file. Two float32 llama models go through it for every
// file type it makes without an importance matrix:
//   - the bundled stories260K (real trained weights; rows of 64 and 172, so llama.cpp falls back
//     to its legacy types and to f16 for most tensors), and
//   - a wider llama written here (rows of 256 and 768, so the K, IQ and ternary types are used).
// Every tensor of every output file, decoded by Quantscope's reader, must equal ggml's own
// dequantize_row_<type> on the file's bytes, bit for bit; and one tensor per file also goes
// through `quantscope-cli dequant` to a .npy, which must hold the same bits.
// llama.cpp comes from <build>/ggml-oracle (scripts/quantscope fetches it); skipped when absent.

#include "cli_run.h"
#include "fixture_imatrix.h"
#include "io/checkpoint.h"
#include "test_support.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>

using namespace qs;

namespace {

// llama.h: only the first two fields are set here; the rest keep llama.cpp's defaults, so the
// struct is over-allocated rather than copied field by field (it grows between releases).
struct QuantizeParams {
    std::int32_t nthread;
    std::int32_t ftype;
    unsigned char rest[1024];
};
struct GgufInitParams {
    bool noAlloc;
    void** ctx;
};
struct GgmlInitParams {
    std::size_t memSize;
    void* memBuffer;
    bool noAlloc;
};

struct FileType {
    const char* name;
    int id;               // enum llama_ftype
    const char* main;     // the ggml type most weights of the wide model must get
    bool imatrix = false; // llama.cpp refuses to make it without an importance matrix
};
// Every llama_ftype llama-quantize offers for a dense model (MXFP4_MOE only changes experts).
constexpr FileType kFileTypes[] = {
    {"F16", 1, "f16"},
    {"BF16", 32, "bf16"},
    {"Q4_0", 2, "q4_0"},
    {"Q4_1", 3, "q4_1"},
    {"Q5_0", 8, "q5_0"},
    {"Q5_1", 9, "q5_1"},
    {"Q8_0", 7, "q8_0"},
    {"Q2_K", 10, "q2_K"},
    {"Q3_K_S", 11, "q3_K"},
    {"Q3_K_M", 12, "q3_K"},
    {"Q3_K_L", 13, "q3_K"},
    {"Q4_K_S", 14, "q4_K"},
    {"Q4_K_M", 15, "q4_K"},
    {"Q5_K_S", 16, "q5_K"},
    {"Q5_K_M", 17, "q5_K"},
    {"Q6_K", 18, "q6_K"},
    {"IQ3_XXS", 23, "iq3_xxs", true},
    {"IQ3_XS", 22, "iq3_s", true},
    {"IQ3_S", 26, "iq3_s"},
    {"IQ3_M", 27, "iq3_s"},
    {"IQ4_NL", 25, "iq4_nl"},
    {"IQ4_XS", 30, "iq4_xs"},
    {"TQ1_0", 36, "tq1_0"},
    {"TQ2_0", 37, "tq2_0"},
    {"Q2_K_S", 21, "q2_K", true},
    {"IQ1_S", 24, "iq1_s", true},
    {"IQ1_M", 31, "iq1_m", true},
    {"IQ2_XXS", 19, "iq2_xxs", true},
    {"IQ2_XS", 20, "iq2_xs", true},
    {"IQ2_S", 28, "iq2_xs", true},
    {"IQ2_M", 29, "iq2_s", true},
};

// llama.h of the pinned build: `const struct llama_model_imatrix_data* imatrix` follows the four
// enums and six bools (offset 0x18), an array of {name, data, size} ended by a null name. The
// defaults are checked to have exactly that shape before the field is set.
struct ImatrixEntry {
    const char* name;
    const float* data;
    std::size_t size;
};
constexpr std::size_t kImatrixOffset = 0x18;
bool paramsLookAsExpected(const QuantizeParams& p) {
    const auto* b = reinterpret_cast<const unsigned char*>(&p);
    if (b[0x10] != 0 || b[0x11] != 1 || b[0x12] != 0 ||
        b[0x13] != 0) // requantize, output, copy, pure
        return false;
    for (std::size_t i = kImatrixOffset; i < kImatrixOffset + 32; ++i) // four null pointers
        if (b[i] != 0)
            return false;
    return true;
}
using Imatrix = std::map<std::string, std::vector<float>>;

// One weight per input column of every matrix of `ckpt`, as llama-imatrix makes; with `loud`,
// one column in sixteen weighs 50 times more.
Imatrix randomImportance(const Checkpoint& ckpt, unsigned seed, bool loud) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.05f, 2.0f);
    Imatrix importance;
    for (const auto& t : ckpt.tensors())
        if (t.shape.size() == 2) {
            auto& w = importance[t.name];
            w.resize(static_cast<std::size_t>(t.shape[1]));
            for (auto& v : w)
                v = u(rng) * u(rng) * (loud && rng() % 16 == 0 ? 50.0f : 1.0f);
        }
    return importance;
}

std::string llamaLog;
void captureLog(int level, const char* text, void*) {
    if (level >= 3) // warnings and errors
        llamaLog += text;
}

// The wide model's weights: per-row scales spread over a decade, heavy-tailed rows, a few
// outlier columns, norms near 1, as trained transformer weights look.
std::vector<float> wideWeights(std::int64_t rows, std::int64_t cols, bool norm, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::student_t_distribution<float> td(4.0f);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> w(static_cast<std::size_t>(rows * cols));
    for (std::int64_t r = 0; r < rows; ++r) {
        const float scale = 0.02f * std::pow(10.0f, u(rng) - 0.5f);
        const bool heavy = r % 5 == 3;
        for (std::int64_t c = 0; c < cols; ++c) {
            float v = norm ? 1.0f + 0.15f * nd(rng) : scale * (heavy ? td(rng) : nd(rng));
            if (!norm && c % 97 == 13)
                v *= 8.0f;
            w[static_cast<std::size_t>(r * cols + c)] = v;
        }
    }
    return w;
}

std::vector<char> fileBytes(const std::string& path, std::uint64_t offset, std::size_t n) {
    std::vector<char> out(n);
    std::ifstream f(path, std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    f.read(out.data(), static_cast<std::streamsize>(n));
    return f.gcount() == static_cast<std::streamsize>(n) ? out : std::vector<char>{};
}

} // namespace

class TestCliLlamaQuantize : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void readsWhatLlamaQuantizeWrote_data();
    void readsWhatLlamaQuantizeWrote();
    void everyTypeWasExercised();
    void exportWithAnImatrixIsLlamaQuantizes_data();
    void exportWithAnImatrixIsLlamaQuantizes();

private:
    template <class F> F base(const char* name) { return reinterpret_cast<F>(dlsym(m_base, name)); }
    // llama_model_quantize of `in` to `out` at file type `id`, with `importance` as its imatrix
    // when not empty: "" when it wrote the file, else why not ("layout": this build's params
    // are not laid out as expected, so no imatrix can be given).
    std::string llamaQuantize(const std::string& in, const std::string& out, int id,
                              const Imatrix& importance);
    void writeWideModel(const std::string& path);
    std::vector<float> ggmlDecode(int type, const std::vector<char>& bytes, std::int64_t n);

    void* m_base = nullptr;
    void* m_ggml = nullptr;
    void* m_llama = nullptr;
    QTemporaryDir m_dir;
    std::string m_wide, m_stories;
    std::set<std::string> m_typesSeen;
};

void TestCliLlamaQuantize::initTestCase() {
    const std::string dir = test::binaryDir() + "/ggml-oracle";
    if (!QFileInfo::exists(QString::fromStdString(dir + "/libllama.v0.5.0.so")))
        QSKIP("llama.cpp (libllama.v0.5.0.so) not installed in <build>/ggml-oracle");
    m_base = dlopen((dir + "/libggml-base.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
    m_ggml = dlopen((dir + "/libggml.v0.5.0.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
    m_llama = dlopen((dir + "/libllama.v0.5.0.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!m_base || !m_ggml || !m_llama)
        QSKIP(qPrintable(QString("cannot load llama.cpp: ") + dlerror()));
    auto loadAll =
        reinterpret_cast<void (*)(const char*)>(dlsym(m_ggml, "ggml_backend_load_all_from_path"));
    auto logSet = reinterpret_cast<void (*)(void (*)(int, const char*, void*), void*)>(
        dlsym(m_llama, "llama_log_set"));
    auto backendInit = reinterpret_cast<void (*)()>(dlsym(m_llama, "llama_backend_init"));
    QVERIFY(loadAll && logSet && backendInit);
    loadAll(dir.c_str());
    logSet(captureLog, nullptr);
    backendInit();
    QVERIFY(m_dir.isValid());
    m_stories = test::sourceDir() + "/resources/samples/stories260K.f32.gguf";
    m_wide = (m_dir.path() + "/wide.f32.gguf").toStdString();
    writeWideModel(m_wide);
}

void TestCliLlamaQuantize::cleanupTestCase() {
    // libllama and ggml keep global state (backends, thread pools): left loaded until exit.
}

// A 2-layer llama (n_embd 256, GQA 4/2 heads, n_ff 768, vocabulary 512) in float32, written with
// ggml's own gguf writer; the tokenizer and other keys are copied from stories260K.
void TestCliLlamaQuantize::writeWideModel(const std::string& path) {
    auto ggufInit = base<void* (*)(const char*, GgufInitParams)>("gguf_init_from_file");
    auto ggufEmpty = base<void* (*)()>("gguf_init_empty");
    auto ggufFree = base<void (*)(void*)>("gguf_free");
    auto setKv = base<void (*)(void*, const void*)>("gguf_set_kv");
    auto setU32 = base<void (*)(void*, const char*, std::uint32_t)>("gguf_set_val_u32");
    auto addTensor = base<void (*)(void*, const void*)>("gguf_add_tensor");
    auto setData = base<void (*)(void*, const char*, const void*)>("gguf_set_tensor_data");
    auto write = base<bool (*)(const void*, const char*, bool)>("gguf_write_to_file");
    auto ggmlInit = base<void* (*)(GgmlInitParams)>("ggml_init");
    auto ggmlFree = base<void (*)(void*)>("ggml_free");
    auto new1d = base<void* (*)(void*, int, std::int64_t)>("ggml_new_tensor_1d");
    auto new2d = base<void* (*)(void*, int, std::int64_t, std::int64_t)>("ggml_new_tensor_2d");
    auto setName = base<void* (*)(void*, const char*)>("ggml_set_name");
    QVERIFY(ggufInit && ggufEmpty && ggufFree && setKv && setU32 && addTensor && setData && write &&
            ggmlInit && ggmlFree && new1d && new2d && setName);

    void* src = ggufInit(m_stories.c_str(), {true, nullptr});
    QVERIFY(src);
    void* gguf = ggufEmpty();
    setKv(gguf, src);
    ggufFree(src);
    constexpr std::int64_t kEmbd = 256, kFf = 768, kVocab = 512, kHead = 4, kKvHead = 2;
    constexpr std::int64_t kHeadDim = kEmbd / kHead, kLayers = 2;
    setU32(gguf, "llama.embedding_length", kEmbd);
    setU32(gguf, "llama.feed_forward_length", kFf);
    setU32(gguf, "llama.block_count", kLayers);
    setU32(gguf, "llama.attention.head_count", kHead);
    setU32(gguf, "llama.attention.head_count_kv", kKvHead);
    setU32(gguf, "llama.rope.dimension_count", kHeadDim);

    struct Spec {
        std::string name;
        std::int64_t cols, rows; // rows 0: a 1-D norm gain
    };
    std::vector<Spec> specs{{"token_embd.weight", kEmbd, kVocab},
                            {"output_norm.weight", kEmbd, 0},
                            {"output.weight", kEmbd, kVocab}};
    for (std::int64_t l = 0; l < kLayers; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        specs.push_back({b + "attn_norm.weight", kEmbd, 0});
        specs.push_back({b + "attn_q.weight", kEmbd, kEmbd});
        specs.push_back({b + "attn_k.weight", kEmbd, kKvHead * kHeadDim});
        specs.push_back({b + "attn_v.weight", kEmbd, kKvHead * kHeadDim});
        specs.push_back({b + "attn_output.weight", kEmbd, kEmbd});
        specs.push_back({b + "ffn_norm.weight", kEmbd, 0});
        specs.push_back({b + "ffn_gate.weight", kEmbd, kFf});
        specs.push_back({b + "ffn_up.weight", kEmbd, kFf});
        specs.push_back({b + "ffn_down.weight", kFf, kEmbd});
    }
    void* ctx = ggmlInit({std::size_t{1} << 20, nullptr, true});
    std::vector<std::vector<float>> data; // alive until written
    data.reserve(specs.size());
    unsigned seed = 1;
    for (const auto& s : specs) {
        const bool norm = s.rows == 0;
        data.push_back(wideWeights(norm ? 1 : s.rows, s.cols, norm, seed++));
        void* t = norm ? new1d(ctx, 0, s.cols) : new2d(ctx, 0, s.cols, s.rows); // GGML_TYPE_F32
        setName(t, s.name.c_str());
        addTensor(gguf, t);
        setData(gguf, s.name.c_str(), data.back().data());
    }
    QVERIFY(write(gguf, path.c_str(), false));
    ggufFree(gguf);
    ggmlFree(ctx);
}

// ggml's own decoding of n values of `type` (dequantize_row_<type>, or the f16/bf16 rows).
std::vector<float> TestCliLlamaQuantize::ggmlDecode(int type, const std::vector<char>& bytes,
                                                    std::int64_t n) {
    std::vector<float> out(static_cast<std::size_t>(n));
    const std::string name = base<const char* (*)(int)>("ggml_type_name")(type);
    if (name == "f32") {
        std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
        return out;
    }
    const std::string fn = name == "f16"    ? "ggml_fp16_to_fp32_row"
                           : name == "bf16" ? "ggml_bf16_to_fp32_row"
                                            : "dequantize_row_" + name;
    auto toFloat = base<void (*)(const void*, float*, std::int64_t)>(fn.c_str());
    if (!toFloat)
        return {};
    toFloat(bytes.data(), out.data(), n);
    return out;
}

void TestCliLlamaQuantize::readsWhatLlamaQuantizeWrote_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("ftype");
    QTest::addColumn<int>("id");
    QTest::addColumn<QString>("mainType");
    QTest::addColumn<bool>("imatrix");
    for (const char* model : {"wide", "stories260K"})
        for (const auto& ft : kFileTypes)
            QTest::newRow(qPrintable(QString("%1 %2").arg(model, ft.name)))
                << model << ft.name << ft.id << ft.main << ft.imatrix;
}

void TestCliLlamaQuantize::readsWhatLlamaQuantizeWrote() {
    QFETCH(QString, model);
    QFETCH(QString, ftype);
    QFETCH(int, id);
    QFETCH(QString, mainType);
    QFETCH(bool, imatrix);
    const bool wide = model == "wide";
    const std::string in = wide ? m_wide : m_stories;
    Imatrix importance;
    if (imatrix) {
        auto src = Checkpoint::open(in);
        QVERIFY(src.ok());
        importance = randomImportance(*src, 7, false);
    }
    const std::string out = (m_dir.path() + "/" + model + "-" + ftype + ".gguf").toStdString();
    const std::string failed = llamaQuantize(in, out, id, importance);
    if (failed == "layout")
        QSKIP("this llama.cpp build lays out llama_model_quantize_params differently");
    QVERIFY2(failed.empty(),
             qPrintable("llama_model_quantize failed: " + QString::fromStdString(failed)));

    // The file as ggml's gguf reader sees it.
    auto ggufInit = base<void* (*)(const char*, GgufInitParams)>("gguf_init_from_file");
    auto ggufFree = base<void (*)(void*)>("gguf_free");
    auto nTensors = base<std::int64_t (*)(const void*)>("gguf_get_n_tensors");
    auto tensorName = base<const char* (*)(const void*, std::int64_t)>("gguf_get_tensor_name");
    auto tensorType = base<int (*)(const void*, std::int64_t)>("gguf_get_tensor_type");
    auto tensorOffset = base<std::size_t (*)(const void*, std::int64_t)>("gguf_get_tensor_offset");
    auto tensorSize = base<std::size_t (*)(const void*, std::int64_t)>("gguf_get_tensor_size");
    auto dataOffset = base<std::size_t (*)(const void*)>("gguf_get_data_offset");
    auto typeSize = base<std::size_t (*)(int)>("ggml_type_size");
    auto blockSize = base<std::int64_t (*)(int)>("ggml_blck_size");
    auto typeName = base<const char* (*)(int)>("ggml_type_name");
    QVERIFY(ggufInit && ggufFree && nTensors && tensorName && tensorType && tensorOffset &&
            tensorSize && dataOffset && typeSize && blockSize && typeName);
    void* gguf = ggufInit(out.c_str(), {true, nullptr});
    QVERIFY(gguf);

    auto ck = Checkpoint::open(out);
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.message().c_str());
    QCOMPARE(static_cast<std::int64_t>(ck->tensors().size()), nTensors(gguf));
    std::map<std::string, std::vector<float>> expected;
    std::map<std::string, int> typeOf;
    for (std::int64_t i = 0; i < nTensors(gguf); ++i) {
        const std::string name = tensorName(gguf, i);
        const int type = tensorType(gguf, i);
        const std::size_t size = tensorSize(gguf, i);
        const std::int64_t n = static_cast<std::int64_t>(size / typeSize(type)) * blockSize(type);
        const auto bytes = fileBytes(out, dataOffset(gguf) + tensorOffset(gguf, i), size);
        QVERIFY2(!bytes.empty(), name.c_str());
        auto want = ggmlDecode(type, bytes, n);
        QVERIFY2(!want.empty(), qPrintable(QString("ggml has no decoder for ") + typeName(type)));

        const TensorInfo* t = ck->find(name);
        QVERIFY2(t, name.c_str());
        QCOMPARE(t->numel(), n);
        auto got = ck->readFloat(*t);
        QVERIFY2(got.ok(), got.ok() ? "" : got.message().c_str());
        QVERIFY(std::memcmp(got->data(), want.data(), want.size() * sizeof(float)) == 0);
        typeOf[name] = type;
        expected[name] = std::move(want);
        m_typesSeen.insert(typeName(type));
    }
    ggufFree(gguf);

    // The wide model's weights get the file type's own ggml type (K mixes put some at others).
    if (wide) {
        QString types;
        std::size_t withMain = 0;
        for (const auto& [name, type] : typeOf) {
            withMain += mainType == typeName(type);
            if (!types.contains(typeName(type)))
                types += QString(typeName(type)) + " ";
        }
        QVERIFY2(withMain >= 4, qPrintable(ftype + " wrote " + types));
        qInfo("%s: types %s", qPrintable(ftype), qPrintable(types));
    }

    // One tensor through the CLI: the quantized FFN down projection, or the largest weight.
    const std::string pick = wide ? "blk.1.ffn_down.weight" : "blk.0.attn_q.weight";
    QVERIFY(expected.count(pick));
    const QString npy = m_dir.filePath(model + "-" + ftype + ".npy");
    const auto r = test::runCli({"dequant", QString::fromStdString(out), "--tensor",
                                 QString::fromStdString(pick), "--out", npy});
    QVERIFY2(r.code == 0, r.err.constData());
    QFile f(npy);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray all = f.readAll();
    QVERIFY(all.startsWith("\x93NUMPY"));
    const auto& want = expected.at(pick);
    const qsizetype dataBytes = static_cast<qsizetype>(want.size() * sizeof(float));
    QVERIFY(all.size() > dataBytes);
    const QByteArray header = all.left(all.size() - dataBytes);
    QVERIFY2(header.contains("'descr': '<f4'"), header.constData());
    QVERIFY(std::memcmp(all.constData() + header.size(), want.data(),
                        static_cast<std::size_t>(dataBytes)) == 0);
}

// The two models together made llama.cpp write every type named below, and each was decoded.
void TestCliLlamaQuantize::everyTypeWasExercised() {
    for (const char* type :
         {"f32",    "f16",   "bf16",  "q4_0",  "q4_1",  "q5_0",    "q5_1",   "q8_0",
          "q2_K",   "q3_K",  "q4_K",  "q5_K",  "q6_K",  "iq3_xxs", "iq3_s",  "iq4_nl",
          "iq4_xs", "tq1_0", "tq2_0", "iq1_s", "iq1_m", "iq2_xxs", "iq2_xs", "iq2_s"})
        QVERIFY2(m_typesSeen.count(type), type);
    qInfo("types llama-quantize wrote and Quantscope decoded: %s",
          qPrintable(QStringList([this] {
                         QStringList l;
                         for (const auto& t : m_typesSeen)
                             l << QString::fromStdString(t);
                         return l;
                     }())
                         .join(' ')));
}

std::string TestCliLlamaQuantize::llamaQuantize(const std::string& in, const std::string& out,
                                                int id, const Imatrix& importance) {
    auto defaults = reinterpret_cast<QuantizeParams (*)()>(
        dlsym(m_llama, "llama_model_quantize_default_params"));
    auto quantize =
        reinterpret_cast<std::uint32_t (*)(const char*, const char*, const QuantizeParams*)>(
            dlsym(m_llama, "llama_model_quantize"));
    if (!defaults || !quantize)
        return "no llama_model_quantize in libllama";
    QuantizeParams params = defaults();
    params.nthread = 2;
    params.ftype = id;
    std::vector<ImatrixEntry> entries;
    if (!importance.empty()) {
        if (!paramsLookAsExpected(params))
            return "layout";
        for (const auto& [name, w] : importance)
            entries.push_back({name.c_str(), w.data(), w.size()});
        entries.push_back({nullptr, nullptr, 0});
        const ImatrixEntry* p = entries.data();
        std::memcpy(reinterpret_cast<unsigned char*>(&params) + kImatrixOffset, &p, sizeof p);
    }
    llamaLog.clear();
    if (quantize(in.c_str(), out.c_str(), &params) != 0)
        return llamaLog.empty() ? std::string("failed") : llamaLog;
    return {};
}

// Quantscope's GGUF export with an importance matrix is llama-quantize's: llama.cpp quantizes the
// wide model with an imatrix (llama_model_quantize, the file type's mix of types); a plan giving
// every matrix the type llama.cpp chose, with the imatrix option, exported with the same
// importance in a llama-imatrix GGUF (sums over a count of 1) writes the same bytes, tensor for
// tensor.
void TestCliLlamaQuantize::exportWithAnImatrixIsLlamaQuantizes_data() {
    QTest::addColumn<int>("id");
    for (const auto& [name, id] : {std::pair{"Q4_K_M", 15},
                                   {"Q3_K_M", 12},
                                   {"Q2_K", 10},
                                   {"IQ4_XS", 30},
                                   {"Q5_1", 9},
                                   {"Q4_0", 2}})
        QTest::newRow(name) << id;
}

void TestCliLlamaQuantize::exportWithAnImatrixIsLlamaQuantizes() {
    QFETCH(int, id);
    auto src = Checkpoint::open(m_wide);
    QVERIFY(src.ok());
    const Imatrix importance = randomImportance(*src, 11, true);
    std::vector<test::ImatrixFixtureEntry> fileEntries;
    for (const auto& [name, w] : importance)
        fileEntries.push_back({name, w, {1.0f}});
    const QString tag = QString::number(id);
    const std::string theirs = m_dir.filePath("theirs-" + tag + ".gguf").toStdString();
    const std::string failed = llamaQuantize(m_wide, theirs, id, importance);
    if (failed == "layout")
        QSKIP("this llama.cpp build lays out llama_model_quantize_params differently");
    QVERIFY2(failed.empty(), failed.c_str());

    auto ref = Checkpoint::open(theirs);
    QVERIFY(ref.ok());
    QJsonObject tensors;
    for (const auto& t : ref->tensors()) {
        if (t.shape.size() < 2)
            continue;
        const QString type = QString::fromStdString(t.typeName()).toLower();
        tensors[QString::fromStdString(t.name)] =
            type == "f32" || type == "f16" || type == "bf16" ? type : type + ":imatrix";
    }
    const QString plan = m_dir.filePath("plan-" + tag + ".json"),
                  imx = m_dir.filePath("imatrix-" + tag + ".gguf"),
                  ours = m_dir.filePath("ours-" + tag + ".gguf");
    QFile f(plan);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QJsonDocument(QJsonObject{{"tensors", tensors}}).toJson());
    f.close();
    test::writeBytes(imx.toStdString(), test::imatrixGguf(fileEntries, 1, "test"));
    const auto r = test::runCli({"export", QString::fromStdString(m_wide), "--plan", plan, "--to",
                                 "gguf", "--out", ours, "--imatrix", imx});
    QVERIFY2(r.code == 0, r.err.constData());

    auto mine = Checkpoint::open(ours.toStdString());
    QVERIFY(mine.ok());
    int quantized = 0;
    for (const auto& t : ref->tensors()) {
        const TensorInfo* m = mine->find(t.name);
        QVERIFY2(m, t.name.c_str());
        QCOMPARE(m->typeName(), t.typeName());
        QCOMPARE(m->nbytes, t.nbytes);
        const bool same = fileBytes(theirs, t.offset, t.nbytes) ==
                          fileBytes(ours.toStdString(), m->offset, m->nbytes);
        QVERIFY2(same, qPrintable(QString::fromStdString(t.name + " " + t.typeName())));
        quantized += !t.storedType.empty() && t.typeName() != "F16";
    }
    QVERIFY(quantized >= 8);
}

QTEST_APPLESS_MAIN(TestCliLlamaQuantize)
#include "test_cli_llama_quantize.moc"
