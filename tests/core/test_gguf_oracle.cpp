// The gold standard for reading GGUF: files written by ggml itself. Held-out data is quantized
// into every ggml type with ggml's own ggml_quantize_chunk (the function llama-quantize calls;
// with an importance matrix for the IQ types, which need or benefit from one), written with
// ggml's own gguf writer, opened with Quantscope's reader, and each tensor's decoded values must
// equal ggml's dequantize_row_<type> bit for bit. ggml comes from libggml-base.so at run time
// (see test_ggml_oracle.cpp for where it lives); the test is skipped when it is absent.

#include "io/checkpoint.h"
#include "quant/ggml_quant.h"

#include <QTemporaryDir>
#include <QtTest>

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

using namespace qs;

namespace {

// ggml's C API as far as this test uses it (ggml.h, gguf.h); contexts and tensors stay opaque.
struct GgmlInitParams {
    std::size_t memSize;
    void* memBuffer;
    bool noAlloc;
};
using InitFn = void* (*)(GgmlInitParams);
using FreeFn = void (*)(void*);
using NewTensor2dFn = void* (*)(void*, int, std::int64_t, std::int64_t);
using SetNameFn = void* (*)(void*, const char*);
using TypeNameFn = const char* (*)(int);
using QuantizeChunkFn = std::size_t (*)(int, const float*, void*, std::int64_t, std::int64_t,
                                        std::int64_t, const float*);
using RowRefFn = void (*)(const float*, void*, std::int64_t);
using ToFloatFn = void (*)(const void*, float*, std::int64_t);
using GgufEmptyFn = void* (*)();
using GgufSetStrFn = void (*)(void*, const char*, const char*);
using GgufSetU32Fn = void (*)(void*, const char*, std::uint32_t);
using GgufSetArrStrFn = void (*)(void*, const char*, const char**, std::size_t);
using GgufAddTensorFn = void (*)(void*, const void*);
using GgufSetDataFn = void (*)(void*, const char*, const void*);
using GgufWriteFn = bool (*)(const void*, const char*, bool);

constexpr std::int64_t kRows = 16, kCols = 1024;

std::vector<float> heldOutData() {
    std::mt19937 rng(314159);
    std::normal_distribution<float> nd(0.0f, 0.02f);
    std::student_t_distribution<float> td(3.0f);
    std::vector<float> x(static_cast<std::size_t>(kRows * kCols));
    for (std::int64_t r = 0; r < kRows; ++r)
        for (std::int64_t c = 0; c < kCols; ++c) {
            float v = r % 4 == 0   ? nd(rng)
                      : r % 4 == 1 ? td(rng) * 0.01f
                      : r % 4 == 2 ? (c % 64 < 32 ? 0.0f : nd(rng) * 10.0f)
                                   : nd(rng) * std::pow(10.0f, static_cast<float>(c % 9) - 6.0f);
            x[static_cast<std::size_t>(r * kCols + c)] = v;
        }
    return x;
}

bool plainInteger(GgmlType t) {
    return t == GgmlType::I8 || t == GgmlType::I16 || t == GgmlType::I32 || t == GgmlType::I64 ||
           t == GgmlType::F64;
}

bool wantsImatrix(const std::string& name) {
    return name.rfind("iq", 0) == 0 && name != "iq4_nl" && name != "iq4_xs";
}

} // namespace

class TestGgufOracle : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void metadataWrittenByGgml();
    void decodesLikeGgml_data();
    void decodesLikeGgml();

private:
    void* sym(const std::string& name) { return dlsym(m_lib, name.c_str()); }
    void quantizeAll(void* ctx, void* gguf);

    void* m_lib = nullptr;
    QTemporaryDir m_dir;
    std::string m_path;
    std::vector<float> m_x, m_imatrix;
    std::map<std::string, std::vector<std::byte>> m_blocks; // by tensor name
    std::map<std::string, std::vector<float>> m_expected;   // ggml's own decoding
};

void TestGgufOracle::initTestCase() {
    QString lib = QString::fromLocal8Bit(qgetenv("QS_GGML_ORACLE_LIB"));
    if (lib.isEmpty())
        lib = QString::fromLocal8Bit(qgetenv("QS_BINARY_DIR")) + "/ggml-oracle/libggml-base.so";
    if (!QFileInfo::exists(lib))
        QSKIP(qPrintable("ggml oracle not installed (" + lib + ")"));
    m_lib = dlopen(lib.toLocal8Bit().constData(), RTLD_NOW | RTLD_LOCAL);
    if (!m_lib)
        QSKIP(qPrintable(QString("cannot load ggml: ") + dlerror()));
    m_x = heldOutData();
    std::mt19937 rng(2718);
    std::uniform_real_distribution<float> u(0.01f, 3.0f);
    m_imatrix.resize(kCols);
    for (auto& w : m_imatrix)
        w = u(rng) * u(rng);

    auto ggmlInit = reinterpret_cast<InitFn>(sym("ggml_init"));
    auto ggmlFree = reinterpret_cast<FreeFn>(sym("ggml_free"));
    auto ggufEmpty = reinterpret_cast<GgufEmptyFn>(sym("gguf_init_empty"));
    auto ggufFree = reinterpret_cast<FreeFn>(sym("gguf_free"));
    auto setStr = reinterpret_cast<GgufSetStrFn>(sym("gguf_set_val_str"));
    auto setU32 = reinterpret_cast<GgufSetU32Fn>(sym("gguf_set_val_u32"));
    auto setArrStr = reinterpret_cast<GgufSetArrStrFn>(sym("gguf_set_arr_str"));
    auto write = reinterpret_cast<GgufWriteFn>(sym("gguf_write_to_file"));
    QVERIFY(ggmlInit && ggmlFree && ggufEmpty && ggufFree && setStr && setU32 && setArrStr &&
            write);
    void* ctx = ggmlInit({std::size_t{16} << 20, nullptr, true});
    void* gguf = ggufEmpty();
    setStr(gguf, "general.architecture", "llama");
    setU32(gguf, "general.quantization_version", 2);
    const char* tokens[] = {"<unk>", "<s>", "</s>"};
    setArrStr(gguf, "tokenizer.ggml.tokens", tokens, 3);
    quantizeAll(ctx, gguf);
    m_path = (m_dir.path() + "/every_type.gguf").toStdString();
    QVERIFY(write(gguf, m_path.c_str(), false));
    ggufFree(gguf);
    ggmlFree(ctx);
}

// One tensor "w.<type>" per ggml type, quantized and decoded by ggml itself.
void TestGgufOracle::quantizeAll(void* ctx, void* gguf) {
    auto newTensor = reinterpret_cast<NewTensor2dFn>(sym("ggml_new_tensor_2d"));
    auto setName = reinterpret_cast<SetNameFn>(sym("ggml_set_name"));
    auto typeName = reinterpret_cast<TypeNameFn>(sym("ggml_type_name"));
    auto chunk = reinterpret_cast<QuantizeChunkFn>(sym("ggml_quantize_chunk"));
    auto addTensor = reinterpret_cast<GgufAddTensorFn>(sym("gguf_add_tensor"));
    auto setData = reinterpret_cast<GgufSetDataFn>(sym("gguf_set_tensor_data"));
    const std::size_t n = m_x.size();
    for (const auto& tr : kGgmlTypeTraits) {
        const int id = static_cast<int>(tr.type);
        QCOMPARE(QString(typeName(id)), QString(tr.name)); // the two enums agree
        const std::string name = std::string("w.") + tr.name;
        auto& blocks = m_blocks[name];
        blocks.resize(n / static_cast<std::size_t>(tr.blockSize) *
                      static_cast<std::size_t>(tr.bytesPerBlock));
        auto& expected = m_expected[name];
        expected.resize(n);
        if (plainInteger(tr.type)) {
            // not produced by quantization: small integers, exact in every such type
            for (std::size_t i = 0; i < n; ++i) {
                const auto v = static_cast<std::int64_t>(i % 200) - 100;
                expected[i] = static_cast<float>(v);
                const double dv = static_cast<double>(v);
                std::memcpy(blocks.data() + i * tr.bytesPerBlock,
                            tr.type == GgmlType::F64 ? static_cast<const void*>(&dv) : &v,
                            static_cast<std::size_t>(tr.bytesPerBlock));
            }
        } else if (tr.type == GgmlType::Q8_1 || tr.type == GgmlType::Q8_K) {
            // dot-product intermediates: ggml_quantize_chunk refuses them, the _ref rows do not
            const std::string t = tr.type == GgmlType::Q8_1 ? "q8_1" : "q8_K";
            auto ref = reinterpret_cast<RowRefFn>(sym("quantize_row_" + t + "_ref"));
            QVERIFY(ref);
            ref(m_x.data(), blocks.data(), static_cast<std::int64_t>(n));
        } else {
            const float* imatrix = wantsImatrix(tr.name) ? m_imatrix.data() : nullptr;
            const std::size_t written =
                chunk(id, m_x.data(), blocks.data(), 0, kRows, kCols, imatrix);
            QCOMPARE(written, blocks.size());
        }
        if (!plainInteger(tr.type)) {
            const std::string fn = tr.type == GgmlType::F16 ? "ggml_fp16_to_fp32_row"
                                   : tr.type == GgmlType::BF16
                                       ? "ggml_bf16_to_fp32_row"
                                       : "dequantize_row_" + std::string(tr.name);
            if (tr.type == GgmlType::F32) {
                std::memcpy(expected.data(), blocks.data(), n * sizeof(float));
            } else if (tr.type == GgmlType::Q8_1) {
                // ggml has no to_float for Q8_1; its layout says value = d * q
                for (std::size_t b = 0; b < n / 32; ++b) {
                    BlockQ8_1 blk;
                    std::memcpy(&blk, blocks.data() + b * sizeof blk, sizeof blk);
                    for (int j = 0; j < 32; ++j)
                        expected[b * 32 + j] = static_cast<float>(blk.qs[j]) * halfToFloat(blk.d);
                }
            } else {
                auto toFloat = reinterpret_cast<ToFloatFn>(sym(fn));
                QVERIFY2(toFloat, fn.c_str());
                toFloat(blocks.data(), expected.data(), static_cast<std::int64_t>(n));
            }
        }
        void* t = newTensor(ctx, id, kCols, kRows);
        QVERIFY(t);
        setName(t, name.c_str());
        addTensor(gguf, t);
        setData(gguf, name.c_str(), blocks.data());
    }
}

void TestGgufOracle::cleanupTestCase() {
    if (m_lib)
        dlclose(m_lib);
}

void TestGgufOracle::metadataWrittenByGgml() {
    auto ck = Checkpoint::open(m_path);
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.message().c_str());
    QCOMPARE(ck->metadata().at("general.architecture"), std::string("llama"));
    QCOMPARE(ck->metadata().at("general.quantization_version"), std::string("2"));
    QCOMPARE(ck->metadata().at("tokenizer.ggml.tokens"), std::string("[<unk>, <s>, </s>]"));
    QCOMPARE(ck->tensors().size(), std::size(kGgmlTypeTraits));
}

void TestGgufOracle::decodesLikeGgml_data() {
    QTest::addColumn<QString>("name");
    for (const auto& tr : kGgmlTypeTraits)
        QTest::newRow(tr.name) << QString("w.") + tr.name;
}

void TestGgufOracle::decodesLikeGgml() {
    QFETCH(QString, name);
    auto ck = Checkpoint::open(m_path);
    QVERIFY(ck.ok());
    const auto* t = ck->find(name.toStdString());
    QVERIFY(t);
    QCOMPARE(t->shapeString(), "[" + std::to_string(kRows) + ", " + std::to_string(kCols) + "]");
    QCOMPARE(t->nbytes, static_cast<std::uint64_t>(m_blocks.at(t->name).size()));
    auto got = ck->readFloat(*t);
    QVERIFY2(got.ok(), got.ok() ? "" : got.message().c_str());
    const auto& expected = m_expected.at(t->name);
    // guard against a vacuous comparison (ternary types round most of this data to 0)
    const auto nonzero =
        std::count_if(expected.begin(), expected.end(), [](float v) { return v != 0; });
    QVERIFY2(nonzero > static_cast<long>(expected.size() / 50),
             qPrintable(QString::number(nonzero)));
    std::size_t differing = 0;
    for (std::size_t i = 0; i < expected.size(); ++i)
        differing += std::memcmp(&expected[i], &(*got)[i], sizeof(float)) != 0;
    QVERIFY2(differing == 0,
             qPrintable(
                 QString("%1 of %2 values differ from ggml").arg(differing).arg(expected.size())));
}

QTEST_APPLESS_MAIN(TestGgufOracle)
#include "test_gguf_oracle.moc"
