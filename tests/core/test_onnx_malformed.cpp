#include "fixture_onnx.h"
#include "io/checkpoint.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <random>

using namespace qs;
using namespace qs::test;

namespace {

QByteArray toQBytes(const std::vector<std::uint8_t>& b) {
    return QByteArray(reinterpret_cast<const char*>(b.data()), qsizetype(b.size()));
}

} // namespace

// Bad ONNX input of every kind ends in one line naming file and problem, never a crash.
class TestOnnxMalformed : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void malformedModels_data();
    void malformedModels();
    void garbageIsNotOnnx();
    void typedValueOutOfRangeFailsOnRead();
    void deepSubgraphNestingIsRefused();
    void randomCorruptionNeverCrashes();

private:
    std::string path(const QString& n) { return m_dir.filePath(n).toStdString(); }
    QTemporaryDir m_dir;
};

void TestOnnxMalformed::initTestCase() {
    QVERIFY(m_dir.isValid());
    writeBytes(path("side.bin"), floatBytes(std::vector<float>(16, 1.0f))); // 64 bytes
}

void TestOnnxMalformed::malformedModels_data() {
    QTest::addColumn<QByteArray>("model");
    QTest::addColumn<QString>("expected"); // part of the one-line message

    const auto whole = onnxBytes(onnxRichModel());
    QTest::newRow("truncated") << toQBytes({whole.begin(), whole.begin() + long(whole.size() / 2)})
                               << "truncated";
    auto one = [](onnx::TensorProto t) {
        auto m = onnxModel();
        *m.mutable_graph()->add_initializer() = std::move(t);
        return toQBytes(onnxBytes(m));
    };
    QTest::newRow("raw_data too short")
        << one(onnxRawTensor("w", kOnnxFloat, {2, 3}, std::vector<std::uint8_t>(20)))
        << "tensor 'w': raw_data holds 20 bytes but shape [2, 3] of FLOAT needs 24 bytes";
    QTest::newRow("raw_data too long")
        << one(onnxRawTensor("w", kOnnxFloat16, {2}, std::vector<std::uint8_t>(5)))
        << "raw_data holds 5 bytes";
    QTest::newRow("negative dim") << one(onnxRawTensor("w", kOnnxFloat, {2, -1}, {}))
                                  << "tensor 'w': negative dimension in shape [2, -1]";
    QTest::newRow("overflowing dims")
        << one(onnxRawTensor("w", kOnnxFloat, {1LL << 40, 1LL << 40}, {})) << "overflows";
    QTest::newRow("too few float_data")
        << one(onnxFloatTensor("w", {2, 2}, {1, 2, 3}))
        << "tensor 'w': FLOAT values in float_data: 3 stored, shape [2, 2] needs 4";
    auto wrongField = onnxFloatTensor("w", {1}, {1});
    wrongField.set_data_type(kOnnxFloat16);
    QTest::newRow("values in the wrong field")
        << one(wrongField) << "FLOAT16 values in int32_data: 0 stored, shape [1] needs 1";
    QTest::newRow("no data at all")
        << one(onnxFloatTensor("w", {3}, {})) << "0 stored, shape [3] needs 3 (no raw_data";
    QTest::newRow("escaping location")
        << one(onnxExternalTensor("w", kOnnxFloat, {1}, "../side.bin", 0, 4))
        << "tensor 'w': external data location '../side.bin' leaves the model's directory";
    QTest::newRow("absolute location")
        << one(onnxExternalTensor("w", kOnnxFloat, {1}, "/etc/passwd", 0, 4)) << "absolute path";
    QTest::newRow("missing external file")
        << one(onnxExternalTensor("w", kOnnxFloat, {1}, "nowhere.bin", 0, 4)) << "missing";
    QTest::newRow("external past the end")
        << one(onnxExternalTensor("w", kOnnxFloat, {4}, "side.bin", 60, -1))
        << "runs past the end of 'side.bin' (64 bytes)";
    QTest::newRow("external length disagrees")
        << one(onnxExternalTensor("w", kOnnxFloat, {4}, "side.bin", 0, 12)) << "needs 16 bytes";
    auto badOffset = onnxExternalTensor("w", kOnnxFloat, {1}, "side.bin", -1, -1);
    auto* entry = badOffset.add_external_data();
    entry->set_key("offset");
    entry->set_value("12abc");
    QTest::newRow("external offset not a number")
        << one(badOffset) << "external data offset '12abc' is not a byte count";
    auto dup = onnxModel();
    *dup.mutable_graph()->add_initializer() = onnxFloatTensor("w", {1}, {1});
    addOnnxConstant(*dup.mutable_graph(), "w", onnxFloatTensor("", {1}, {2}));
    QTest::newRow("duplicate names") << toQBytes(onnxBytes(dup)) << "duplicate tensor name 'w'";
    QTest::newRow("onnx prefix then garbage")
        << QByteArray("\x08\x08\x3a\xff\xff\xff\xff\x0f garbage", 16) << "ONNX";
    QTest::newRow("no graph") << QByteArray("\x08\x08\x12\x01x", 5) << "without a graph";
}

void TestOnnxMalformed::malformedModels() {
    QFETCH(QByteArray, model);
    QFETCH(QString, expected);
    const std::string file = path("bad.onnx");
    writeBytes(file, std::vector<std::uint8_t>(model.begin(), model.end()));
    auto c = Checkpoint::open(file);
    QVERIFY2(!c.ok(), "a malformed model opened");
    const QString msg = QString::fromStdString(c.message());
    QVERIFY2(msg.contains(expected), qPrintable(msg));
    QVERIFY2(msg.startsWith(QString::fromStdString(file)), qPrintable(msg));
    QVERIFY(!msg.contains('\n'));
}

void TestOnnxMalformed::garbageIsNotOnnx() {
    std::mt19937 rng(7);
    std::vector<std::uint8_t> garbage(4096);
    for (auto& b : garbage)
        b = std::uint8_t(rng());
    garbage[0] = 0x08; // even with ONNX's first tag
    for (int variant = 0; variant < 2; ++variant) {
        if (variant == 1)
            garbage[0] = 0x5A;
        writeBytes(path("garbage.bin"), garbage);
        auto c = Checkpoint::open(path("garbage.bin"));
        QVERIFY(!c.ok());
        QVERIFY2(QString::fromStdString(c.message()).contains("ONNX"), c.message().c_str());
        QVERIFY(!QString::fromStdString(c.message()).contains('\n'));
    }
}

void TestOnnxMalformed::typedValueOutOfRangeFailsOnRead() {
    auto m = onnxModel();
    *m.mutable_graph()->add_initializer() =
        onnxInt32Tensor("h", kOnnxFloat16, {2}, {0x3C00, 70000});
    *m.mutable_graph()->add_initializer() = onnxInt32Tensor("u", kOnnxUint8, {1}, {256});
    writeOnnx(path("range.onnx"), m);
    auto c = Checkpoint::open(path("range.onnx"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    for (const char* name : {"h", "u"}) {
        auto v = c->readFloat(*c->find(name));
        QVERIFY(!v.ok());
        QVERIFY2(QString::fromStdString(v.message()).contains("does not fit"), v.message().c_str());
    }
}

void TestOnnxMalformed::deepSubgraphNestingIsRefused() {
    onnx::GraphProto inner;
    addOnnxConstant(inner, "deep", onnxFloatTensor("", {1}, {1}));
    for (int level = 0; level < 40; ++level) {
        onnx::GraphProto outer;
        addOnnxSubgraphNode(outer, "Loop", "l" + std::to_string(level), "o", {{"body", inner}});
        inner = std::move(outer);
    }
    auto m = onnxModel();
    *m.mutable_graph() = inner;
    writeOnnx(path("deep.onnx"), m);
    auto c = Checkpoint::open(path("deep.onnx"));
    QVERIFY(!c.ok());
    QVERIFY2(QString::fromStdString(c.message()).contains("nested deeper"), c.message().c_str());
}

void TestOnnxMalformed::randomCorruptionNeverCrashes() {
    auto model = onnxRichModel();
    *model.mutable_graph()->add_initializer() =
        onnxExternalTensor("ext", kOnnxFloat, {2, 2}, "side.bin", 16, 16);
    const auto seed = onnxBytes(model);
    std::mt19937 rng(2024);
    int opened = 0, failed = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        auto b = seed;
        const int edits = 1 + int(rng() % 4);
        for (int e = 0; e < edits && !b.empty(); ++e) {
            const size_t pos = rng() % b.size();
            if (rng() % 10 == 0)
                b.resize(pos);
            else
                b[pos] = std::uint8_t(rng());
        }
        writeBytes(path("fuzz.onnx"), b);
        auto c = Checkpoint::open(path("fuzz.onnx"));
        if (!c.ok()) {
            ++failed;
            QVERIFY(!c.message().empty() && c.message().find('\n') == std::string::npos);
            continue;
        }
        ++opened;
        for (const auto& t : c->tensors()) {
            auto v = c->readFloat(t);
            if (v.ok())
                QCOMPARE(std::int64_t(v->size()), t.numel());
            else
                QVERIFY(v.message().find('\n') == std::string::npos);
        }
    }
    QVERIFY(opened > 0 && failed > 0);
}

QTEST_APPLESS_MAIN(TestOnnxMalformed)
#include "test_onnx_malformed.moc"
