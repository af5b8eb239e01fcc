#include "fixture_zip.h"
#include "io/checkpoint.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <random>

using namespace qs;
using namespace qs::test;

namespace {

Bytes halfBytes(const std::vector<std::uint16_t>& v) {
    Bytes b;
    for (auto h : v) {
        b.push_back(std::uint8_t(h & 0xFF));
        b.push_back(std::uint8_t(h >> 8));
    }
    return b;
}

} // namespace

class TestTorchZip : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void stateDictWithViewsAndSharedStorage();
    void wrappedStateDictIsUnwrapped();
    void npzStoredAndDeflated_data();
    void npzStoredAndDeflated();
    void maliciousPicklesAreRefused_data();
    void maliciousPicklesAreRefused();
    void brokenArchives();
    void randomCorruptionNeverCrashes();

private:
    std::string path(const char* n) { return m_dir.filePath(n).toStdString(); }
    QTemporaryDir m_dir;
};

void TestTorchZip::stateDictWithViewsAndSharedStorage() {
    // Storage "0": 6 floats 0..5. "a" = the whole [2,3]; "b" = a view from offset 3 of size [3];
    // "t" = the transpose of "a" ([3,2], strides (1,3)); "h" = a half parameter.
    const std::vector<TorchTensorSpec> specs{
        {"a", "0", "FloatStorage", 6, 0, {2, 3}, {3, 1}},
        {"b", "0", "FloatStorage", 6, 3, {3}, {1}},
        {"t", "0", "FloatStorage", 6, 0, {3, 2}, {1, 3}},
        {"h", "1", "HalfStorage", 2, 0, {2}, {1}, true},
    };
    writeTorchZip(path("m.pt"), torchStateDictPickle(specs),
                  {{"0", floatBytes({0, 1, 2, 3, 4, 5})}, {"1", halfBytes({0x3C00, 0xC000})}});
    auto c = Checkpoint::open(path("m.pt"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->format(), std::string("pytorch"));
    QCOMPARE(c->tensors().size(), size_t(4));
    QCOMPARE(c->readFloat(*c->find("a")).value(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
    QCOMPARE(c->readFloat(*c->find("b")).value(), (std::vector<float>{3, 4, 5}));
    QCOMPARE(c->readFloat(*c->find("t")).value(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    QCOMPARE(c->find("t")->shape, (std::vector<std::int64_t>{3, 2}));
    QCOMPARE(c->readFloat(*c->find("h")).value(), (std::vector<float>{1, -2}));
    QVERIFY(c->find("h")->dtype == DType::F16);
}

void TestTorchZip::wrappedStateDictIsUnwrapped() {
    writeTorchZip(
        path("w.pth"),
        torchStateDictPickle({{"layer.weight", "0", "FloatStorage", 2, 0, {2}, {1}}}, "state_dict"),
        {{"0", floatBytes({1, 2})}}, "w");
    auto c = Checkpoint::open(path("w.pth"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QVERIFY(c->find("layer.weight"));
    QVERIFY(!c->find("state_dict.layer.weight"));
    // {"model": {...}} is a wrapper too; a flat state dict whose keys all start with "model."
    // (a Hugging Face LlamaModel's) is not: its names stay as saved.
    writeTorchZip(
        path("m.pth"),
        torchStateDictPickle({{"layer.weight", "0", "FloatStorage", 2, 0, {2}, {1}}}, "model"),
        {{"0", floatBytes({1, 2})}}, "m");
    auto m = Checkpoint::open(path("m.pth"));
    QVERIFY(m.ok());
    QVERIFY(m->find("layer.weight"));
    writeTorchZip(
        path("flat.bin"),
        torchStateDictPickle({{"model.embed.weight", "0", "FloatStorage", 2, 0, {2}, {1}},
                              {"model.norm.weight", "1", "FloatStorage", 2, 0, {2}, {1}}}),
        {{"0", floatBytes({1, 2})}, {"1", floatBytes({3, 4})}}, "flat");
    auto f = Checkpoint::open(path("flat.bin"));
    QVERIFY2(f.ok(), f.ok() ? "" : f.message().c_str());
    QVERIFY(f->find("model.embed.weight"));
    QVERIFY(f->find("model.norm.weight"));
    QCOMPARE(f->readFloat(*f->find("model.norm.weight")).value(), (std::vector<float>{3, 4}));
}

void TestTorchZip::npzStoredAndDeflated_data() {
    QTest::addColumn<bool>("deflate");
    QTest::newRow("stored") << false;
    QTest::newRow("deflated") << true;
}

void TestTorchZip::npzStoredAndDeflated() {
    QFETCH(bool, deflate);
    std::vector<float> big(5000);
    for (size_t i = 0; i < big.size(); ++i)
        big[i] = float(i % 17) - 8.0f;
    writeZip(path("a.npz"),
             {{"w.npy", npyBytes("<f4", {2, 2}, floatBytes({1, 2, 3, 4}))},
              {"big.npy", npyBytes("<f4", {50, 100}, floatBytes(big))},
              {"i.npy", npyBytes("|i1", {3}, {0xFF, 2, 3})}},
             deflate);
    auto c = Checkpoint::open(path("a.npz"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->format(), std::string("npz"));
    QCOMPARE(c->tensors().size(), size_t(3));
    QCOMPARE(c->readFloat(*c->find("w")).value(), (std::vector<float>{1, 2, 3, 4}));
    QCOMPARE(c->readFloat(*c->find("big")).value(), big);
    QCOMPARE(c->readFloat(*c->find("i")).value(), (std::vector<float>{-1, 2, 3}));
    QCOMPARE(c->find("big")->zipMember.empty(), !deflate);
}

void TestTorchZip::maliciousPicklesAreRefused_data() {
    QTest::addColumn<QByteArray>("pickle");
    QTest::addColumn<QString>("mustMention");
    auto q = [](const PickleWriter& p) {
        return QByteArray(reinterpret_cast<const char*>(p.bytes().data()), int(p.bytes().size()));
    };
    QTest::newRow("os.system") << q(PickleWriter()
                                        .global("os", "system")
                                        .mark()
                                        .str("touch /tmp/pwned")
                                        .op('t')
                                        .op('R')
                                        .stop())
                               << "os.system";
    QTest::newRow("builtins.eval")
        << q(PickleWriter().global("builtins", "eval").stop()) << "builtins.eval";
    QTest::newRow("stack global exec")
        << q(PickleWriter().str("builtins").str("exec").op(0x93).stop()) << "builtins.exec";
    QTest::newRow("INST opcode") << q(PickleWriter().op('i').stop()) << "opcode 0x69";
    QTest::newRow("OBJ opcode") << q(PickleWriter().mark().op('o').stop()) << "opcode 0x6f";
    QTest::newRow("newobj of other class")
        << q(PickleWriter().global("torch", "FloatStorage").op(')').op(0x81).stop()) << "NEWOBJ";
    QTest::newRow("reduce of a dtype")
        << q(PickleWriter().global("torch", "float32").op(')').op('R').stop()) << "refusing";
    QTest::newRow("truncated") << q(PickleWriter().str("abc")).left(5) << "truncated";
    QTest::newRow("no stop") << q(PickleWriter().op('}')) << "STOP";
    QTest::newRow("stack underflow") << q(PickleWriter().op('R').stop()) << "underflow";
    QTest::newRow("bad memo") << q(PickleWriter().op('h').op(7).stop()) << "memo";
    QTest::newRow("no tensors") << q(PickleWriter().op('}').stop()) << "no tensors";
}

void TestTorchZip::maliciousPicklesAreRefused() {
    QFETCH(QByteArray, pickle);
    QFETCH(QString, mustMention);
    writeTorchZip(path("evil.pt"), Bytes(pickle.begin(), pickle.end()), {});
    auto c = Checkpoint::open(path("evil.pt"));
    QVERIFY(!c.ok());
    QVERIFY2(QString::fromStdString(c.message()).contains(mustMention), c.message().c_str());
    QVERIFY(!QFile::exists("/tmp/pwned"));
}

void TestTorchZip::brokenArchives() {
    const std::vector<TorchTensorSpec> spec{{"a", "0", "FloatStorage", 6, 0, {2, 3}, {3, 1}}};
    // Storage record missing.
    writeTorchZip(path("nostorage.pt"), torchStateDictPickle(spec), {});
    auto c = Checkpoint::open(path("nostorage.pt"));
    QVERIFY(!c.ok());
    QVERIFY(QString::fromStdString(c.message()).contains("missing"));
    // Storage shorter than declared.
    writeTorchZip(path("short.pt"), torchStateDictPickle(spec), {{"0", floatBytes({1, 2})}});
    QVERIFY(!Checkpoint::open(path("short.pt")).ok());
    // A view past the end of its storage.
    writeTorchZip(path("past.pt"),
                  torchStateDictPickle({{"a", "0", "FloatStorage", 6, 4, {2, 3}, {3, 1}}}),
                  {{"0", floatBytes({0, 1, 2, 3, 4, 5})}});
    auto past = Checkpoint::open(path("past.pt"));
    QVERIFY(!past.ok());
    QVERIFY(QString::fromStdString(past.message()).contains("past the end"));
    // TorchScript.
    writeTorchZip(path("ts.pt"), torchStateDictPickle(spec),
                  {{"0", floatBytes({0, 1, 2, 3, 4, 5})}}, "archive",
                  {{"archive/constants.pkl", Bytes{0x80, 2, '.'}}});
    auto ts = Checkpoint::open(path("ts.pt"));
    QVERIFY(!ts.ok());
    QVERIFY(QString::fromStdString(ts.message()).contains("TorchScript"));
    // Legacy format.
    writeBytes(path("legacy.pt"), {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a,
                                   0xa8, 0x50, 0x19});
    auto legacy = Checkpoint::open(path("legacy.pt"));
    QVERIFY(!legacy.ok());
    QVERIFY(QString::fromStdString(legacy.message()).contains("legacy"));
    // A truncated ZIP.
    QFile f(QString::fromStdString(path("nostorage.pt")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray whole = f.readAll();
    writeBytes(path("cut.pt"), Bytes(whole.begin(), whole.begin() + whole.size() / 2));
    auto cut = Checkpoint::open(path("cut.pt"));
    QVERIFY(!cut.ok());
    QVERIFY(QString::fromStdString(cut.message()).contains("ZIP"));
}

void TestTorchZip::randomCorruptionNeverCrashes() {
    const std::vector<TorchTensorSpec> specs{
        {"a", "0", "FloatStorage", 6, 0, {2, 3}, {3, 1}},
        {"t", "0", "FloatStorage", 6, 0, {3, 2}, {1, 3}, true}};
    writeTorchZip(path("seed.pt"), torchStateDictPickle(specs, "model"),
                  {{"0", floatBytes({0, 1, 2, 3, 4, 5})}});
    QFile f(QString::fromStdString(path("seed.pt")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray seed = f.readAll();
    std::mt19937 rng(99);
    int opened = 0;
    for (int iter = 0; iter < 2000; ++iter) {
        QByteArray b = seed;
        const int edits = 1 + int(rng() % 3);
        for (int e = 0; e < edits; ++e) {
            const int pos = int(rng() % std::uint32_t(b.size()));
            if (rng() % 8 == 0)
                b.truncate(pos);
            else
                b[pos] = char(rng());
            if (b.isEmpty())
                break;
        }
        writeBytes(path("fuzz.pt"), Bytes(b.begin(), b.end()));
        auto c = Checkpoint::open(path("fuzz.pt"));
        if (!c.ok()) {
            QVERIFY(!c.message().empty() && c.message().find('\n') == std::string::npos);
            continue;
        }
        ++opened;
        for (const auto& t : c->tensors()) {
            auto v = c->readFloat(t);
            if (v.ok())
                QCOMPARE(std::int64_t(v->size()), t.numel());
        }
    }
    QVERIFY(opened > 0);
}

QTEST_APPLESS_MAIN(TestTorchZip)
#include "test_torch_zip.moc"
