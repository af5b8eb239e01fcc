#include "io/checkpoint.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <random>

using namespace qs;
using namespace qs::test;

class TestSafetensors : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void readsEveryNumericDtype();
    void metadataAndOrder();
    void scalarsAndEmptyTensors();
    void malformedFilesGiveAnError_data();
    void malformedFilesGiveAnError();
    void theBundledSample();
    void unknownFormatListsSupportedOnes();
    void randomCorruptionNeverCrashes();

private:
    std::string path(const char* name) { return (m_dir.path() + "/" + name).toStdString(); }
    QTemporaryDir m_dir;
};

void TestSafetensors::readsEveryNumericDtype() {
    std::vector<FixtureTensor> ts;
    ts.push_back({"f32", "F32", {2, 2}, floatBytes({1.5f, -2, 0, 3})});
    ts.push_back({"f16", "F16", {2}, {0x00, 0x3C, 0x00, 0xC0}});       // 1, -2
    ts.push_back({"bf16", "BF16", {2}, {0x80, 0x3F, 0xF7, 0xC2}});     // 1, -123.5
    ts.push_back({"f64", "F64", {1}, {0, 0, 0, 0, 0, 0, 0xF0, 0x3F}}); // 1.0
    ts.push_back({"i8", "I8", {3}, {0xFF, 0x7F, 0x80}});               // -1, 127, -128
    ts.push_back({"u8", "U8", {1}, {200}});
    ts.push_back({"i16", "I16", {1}, {0x00, 0x80}});             // -32768
    ts.push_back({"i32", "I32", {1}, {0xFE, 0xFF, 0xFF, 0xFF}}); // -2
    ts.push_back({"i64", "I64", {1}, {5, 0, 0, 0, 0, 0, 0, 0}});
    ts.push_back({"e4m3", "F8_E4M3", {2}, {0x7E, 0x38}}); // 448, 1
    ts.push_back({"e5m2", "F8_E5M2", {1}, {0x3C}});       // 1
    ts.push_back({"f4", "F4", {2}, {0x72}});              // 1, 6
    ts.push_back({"bool", "BOOL", {2}, {1, 0}});
    writeSafetensors(path("all.safetensors"), ts);
    auto c = Checkpoint::open(path("all.safetensors"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->format(), std::string("safetensors"));
    QCOMPARE(c->tensors().size(), ts.size());
    auto values = [&](const char* name) {
        const TensorInfo* t = c->find(name);
        if (!t) qFatal("missing %s", name);
        return c->readFloat(*t).value();
    };
    QCOMPARE(values("f32"), (std::vector<float>{1.5f, -2, 0, 3}));
    QCOMPARE(values("f16"), (std::vector<float>{1, -2}));
    QCOMPARE(values("bf16"), (std::vector<float>{1, -123.5f}));
    QCOMPARE(values("f64"), std::vector<float>{1});
    QCOMPARE(values("i8"), (std::vector<float>{-1, 127, -128}));
    QCOMPARE(values("u8"), std::vector<float>{200});
    QCOMPARE(values("i16"), std::vector<float>{-32768});
    QCOMPARE(values("i32"), std::vector<float>{-2});
    QCOMPARE(values("i64"), std::vector<float>{5});
    QCOMPARE(values("e4m3"), (std::vector<float>{448, 1}));
    QCOMPARE(values("e5m2"), std::vector<float>{1});
    QCOMPARE(values("f4"), (std::vector<float>{1, 6}));
    QCOMPARE(values("bool"), (std::vector<float>{1, 0}));
    QCOMPARE(c->find("f32")->shapeString(), std::string("[2, 2]"));
}

void TestSafetensors::metadataAndOrder() {
    writeSafetensors(path("meta.safetensors"),
                     {{"b", "F32", {1}, floatBytes({1})}, {"a", "F32", {1}, floatBytes({2})}},
                     {{"format", "pt"}});
    auto c = Checkpoint::open(path("meta.safetensors"));
    QVERIFY(c.ok());
    QCOMPARE(c->metadata().at("format"), std::string("pt"));
    // Tensors are listed in file order, not alphabetically.
    QCOMPARE(c->tensors()[0].name, std::string("b"));
    QCOMPARE(c->tensors()[1].name, std::string("a"));
}

void TestSafetensors::scalarsAndEmptyTensors() {
    writeSafetensors(path("scalar.safetensors"),
                     {{"s", "F32", {}, floatBytes({7})}, {"empty", "F32", {0, 4}, {}}});
    auto c = Checkpoint::open(path("scalar.safetensors"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    const TensorInfo* s = c->find("s");
    QCOMPARE(s->numel(), std::int64_t(1));
    QCOMPARE(c->readFloat(*s).value(), std::vector<float>{7});
    QCOMPARE(c->find("empty")->numel(), std::int64_t(0));
}

void TestSafetensors::malformedFilesGiveAnError_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("mustMention");
    auto st = [](const std::string& header, std::vector<std::uint8_t> data) {
        const auto b = safetensorsBytes(header, data);
        return QByteArray(reinterpret_cast<const char*>(b.data()), int(b.size()));
    };
    const std::vector<std::uint8_t> eight(8, 0);
    const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    QByteArray good = st(ok, eight);
    QTest::newRow("truncated data") << good.left(good.size() - 3) << "past the end";
    QTest::newRow("truncated header") << good.left(20) << "";
    QByteArray hugeLen = good;
    const std::uint64_t big = 1ull << 40;
    std::memcpy(hugeLen.data(), &big, 8);
    QTest::newRow("header length past the end") << hugeLen << "";
    QByteArray pastEnd = good;
    const std::uint64_t past = std::uint64_t(good.size());
    std::memcpy(pastEnd.data(), &past, 8);
    QTest::newRow("header length just past the end") << pastEnd << "";
    QTest::newRow("overlapping offsets")
        << st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
              eight)
        << "overlaps";
    QTest::newRow("hole") << st(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight)
                          << "hole";
    QTest::newRow("trailing bytes")
        << st(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight) << "trailing";
    QTest::newRow("size mismatch")
        << st(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight) << "need";
    QTest::newRow("shape product overflows")
        << st(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})",
              eight)
        << "overflows";
    QTest::newRow("shape overflow to a small size")
        << st(R"({"a":{"dtype":"F32","shape":[4611686018427387904,2],"data_offsets":[0,8]}})",
              eight)
        << "overflow";
    QTest::newRow("negative dimension")
        << st(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight)
        << "non-negative";
    QTest::newRow("unknown dtype")
        << st(R"({"a":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}})", eight)
        << "unknown dtype";
    QTest::newRow("end before begin")
        << st(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", eight) << "";
    QTest::newRow("duplicate names")
        << st(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
              eight)
        << "duplicate";
    QTest::newRow("bad json") << st(R"({"a":{"dtype":"F32",)", eight) << "JSON";
    QTest::newRow("not an object") << st(R"({"a":[1,2]})", eight) << "";
    QTest::newRow("metadata not strings")
        << st(R"({"__metadata__":{"x":1}})", {}) << "not a string";
    QTest::newRow("sub-byte not whole bytes")
        << st(R"({"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", {0, 0}) << "whole bytes";
    QTest::newRow("empty file") << QByteArray() << "unrecognised";
}

void TestSafetensors::malformedFilesGiveAnError() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, mustMention);
    const std::string p = path("bad.safetensors");
    writeBytes(p, std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    auto c = Checkpoint::open(p);
    QVERIFY(!c.ok());
    const QString msg = QString::fromStdString(c.message());
    QVERIFY2(msg.contains(mustMention), qPrintable(msg));
    QVERIFY2(!msg.contains('\n'), "errors are one line");
}

void TestSafetensors::theBundledSample() {
    auto c = Checkpoint::open(samplePath());
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->tensors().size(), size_t(47));
    QCOMPARE(c->totalParameters(), std::int64_t(260032));
    const TensorInfo* emb = c->find("model.embed_tokens.weight");
    QVERIFY(emb);
    QCOMPARE(emb->shape, (std::vector<std::int64_t>{512, 64}));
    QVERIFY(emb->dtype == DType::F32);
    const TensorInfo* norm = c->find("model.layers.0.input_layernorm.weight");
    auto v = c->readFloat(*norm);
    QVERIFY(v.ok());
    // Real trained norm gains lie between 0.49 and 2.6 (see the sample's README).
    for (float x : *v)
        QVERIFY(x > 0.45f && x < 2.7f);
}

void TestSafetensors::unknownFormatListsSupportedOnes() {
    writeBytes(path("garbage.bin"), {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!'});
    auto c = Checkpoint::open(path("garbage.bin"));
    QVERIFY(!c.ok());
    const QString msg = QString::fromStdString(c.message());
    QVERIFY2(msg.contains("unrecognised file format (supported: ") && msg.contains("safetensors") &&
                 msg.contains("ONNX"),
             qPrintable(msg));
    auto missing = Checkpoint::open(path("does-not-exist.safetensors"));
    QVERIFY(!missing.ok());
    QVERIFY(QString::fromStdString(missing.message()).contains("cannot open"));
}

void TestSafetensors::randomCorruptionNeverCrashes() {
    // Mutated and truncated variants of a valid file: each either opens (and every tensor then
    // reads within bounds) or gives a one-line error. A crash fails the test run.
    writeSafetensors(path("seed.safetensors"),
                     {{"a", "F32", {2, 3}, floatBytes({1, 2, 3, 4, 5, 6})},
                      {"b", "F16", {4}, {0, 0x3C, 0, 0x40, 0, 0x42, 0, 0x44}},
                      {"c", "I8", {3}, {1, 2, 3}}});
    QFile f(QString::fromStdString(path("seed.safetensors")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray seed = f.readAll();
    std::mt19937 rng(12345);
    auto next = [&] { return std::uint32_t(rng()); };
    int opened = 0, rejected = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        QByteArray b = seed;
        const int edits = 1 + int(next() % 4);
        for (int e = 0; e < edits; ++e) {
            const int pos = int(next() % std::uint32_t(b.size()));
            switch (next() % 4) {
            case 0:
                b[pos] = char(next());
                break; // random byte
            case 1:
                b[pos] = "0123456789[],:{}\"-e"[next() % 19];
                break; // JSON-ish byte
            case 2:
                b.truncate(pos);
                break;
            default:
                b.insert(pos, char(next()));
                break;
            }
            if (b.isEmpty()) break;
        }
        writeBytes(path("fuzz.safetensors"), std::vector<std::uint8_t>(b.begin(), b.end()));
        auto c = Checkpoint::open(path("fuzz.safetensors"));
        if (!c.ok()) {
            ++rejected;
            QVERIFY2(c.message().find('\n') == std::string::npos, c.message().c_str());
            QVERIFY(!c.message().empty());
            continue;
        }
        ++opened;
        for (const auto& t : c->tensors()) {
            auto v = c->readFloat(t);
            if (v.ok()) QCOMPARE(std::int64_t(v->size()), t.numel());
        }
    }
    QVERIFY(rejected > 1000);
    QVERIFY(opened > 0);
}

QTEST_APPLESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
