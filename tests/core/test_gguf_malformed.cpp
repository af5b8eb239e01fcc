// Bad GGUF files of every kind end in one line naming the file and the problem: truncation at
// every section, lying counts and lengths, offsets past the end, unaligned or overlapping, shapes
// that overflow or split a block, unsupported versions, and random mutation (never a crash).

#include "fixture_gguf.h"
#include "io/checkpoint.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <functional>
#include <random>

using namespace qs;
using namespace qs::test;

class TestGgufMalformed : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void malformedFilesGiveOneLineErrors_data();
    void malformedFilesGiveOneLineErrors();
    void truncationAnywhereBeforeTheDataEndFails();
    void randomMutationNeverCrashes();

private:
    std::string path(const char* name) { return (m_dir.path() + "/" + name).toStdString(); }
    QTemporaryDir m_dir;
};

namespace {

using Bytes = std::vector<std::uint8_t>;

GgufFixture validFixture() {
    GgufFixture f;
    f.addString("general.architecture", "llama");
    f.addKv("tokenizer.ggml.scores", 9, GgufBytes().u32(6).u64(2).f32(0.5f).f32(-1));
    f.addTensor({"a", 0, {4, 2}, floatBytes({0, 1, 2, 3, 4, 5, 6, 7})});
    std::vector<std::uint8_t> q8(34, 1);
    f.addTensor({"q", 8, {32}, q8});
    return f;
}

void putU64(Bytes& b, std::size_t at, std::uint64_t v) {
    std::memcpy(b.data() + at, &v, 8);
}

void putU32(Bytes& b, std::size_t at, std::uint32_t v) {
    std::memcpy(b.data() + at, &v, 4);
}

Bytes withTensor(GgufFixtureTensor t, std::uint32_t alignment = 0) {
    GgufFixture f;
    if (alignment)
        f.setAlignment(alignment);
    f.addTensor(std::move(t));
    return f.bytes();
}

Bytes withKv(std::uint32_t type, const GgufBytes& value) {
    GgufFixture f;
    f.addKv("k", type, value);
    return f.bytes();
}

} // namespace

void TestGgufMalformed::malformedFilesGiveOneLineErrors_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expected");
    auto row = [](const char* name, const Bytes& b, const char* expected) {
        QTest::newRow(name) << QByteArray(reinterpret_cast<const char*>(b.data()),
                                          static_cast<qsizetype>(b.size()))
                            << QString(expected);
    };
    const auto f = validFixture();
    const Bytes good = f.bytes();
    row("header only half there", Bytes(good.begin(), good.begin() + 12), "too short");
    GgufFixture meta;
    meta.addString("general.architecture", "llama");
    meta.addString("general.name", "a name that the cut goes through");
    const Bytes metaBytes = meta.bytes();
    row("truncated in the metadata", Bytes(metaBytes.begin(), metaBytes.begin() + 90),
        "past the end");
    row("truncated in the tensor infos",
        Bytes(good.begin(), good.begin() + static_cast<long>(f.infoStart()) + 10), "past the end");
    row("truncated in the data", Bytes(good.begin(), good.end() - 40), "past the end");
    Bytes b = good;
    putU32(b, 4, 1);
    row("version 1", b, "version 1");
    b = good;
    putU32(b, 4, 0x03000000);
    row("big-endian", b, "big-endian");
    b = good;
    putU32(b, 4, 7);
    row("version 7", b, "version 7");
    b = good;
    putU64(b, 16, 1ull << 60);
    row("lying metadata count", b, "more than the file can hold");
    b = good;
    putU64(b, 8, 1ull << 40);
    row("lying tensor count", b, "more than the file can hold");
    b = good;
    putU64(b, 24, 1ull << 50);
    row("key length past the end", b, "past the end");
    row("string value past the end", withKv(8, GgufBytes().u64(1000).u32(0)), "past the end");
    row("huge array count", withKv(9, GgufBytes().u32(10).u64(1ull << 61)), "does not fit");
    row("huge string array count", withKv(9, GgufBytes().u32(8).u64(1ull << 40)), "does not fit");
    GgufBytes deep;
    for (int i = 0; i < 12; ++i)
        deep.u32(9).u64(1);
    deep.u32(0).u64(0);
    row("arrays nested too deep", withKv(9, deep), "nested deeper");
    row("unknown value type", withKv(13, GgufBytes().u32(0)), "unknown value type 13");
    row("array of unknown type", withKv(9, GgufBytes().u32(77).u64(1)), "unknown value type 77");
    GgufFixture dup;
    dup.addU32("x", 1);
    dup.addU32("x", 2);
    row("duplicate key", dup.bytes(), "duplicate metadata key 'x'");
    GgufFixture badAlign;
    badAlign.addU32("general.alignment", 48);
    row("alignment not a power of two", badAlign.bytes(), "not a power of two");
    GgufFixture strAlign;
    strAlign.addString("general.alignment", "32");
    row("alignment of the wrong type", strAlign.bytes(), "general.alignment");
    row("offset past the end",
        withTensor({"t", 0, {8}, floatBytes(std::vector<float>(8)), 1 << 20}), "past the end");
    row("offset not aligned", withTensor({"t", 0, {8}, floatBytes(std::vector<float>(8)), 4}),
        "not a multiple of the alignment");
    GgufFixture overlap;
    overlap.addTensor({"a", 0, {16}, floatBytes(std::vector<float>(16))});
    overlap.addTensor({"b", 0, {8}, floatBytes(std::vector<float>(8)), 32});
    row("overlapping tensors", overlap.bytes(), "overlap");
    row("row not whole blocks", withTensor({"t", 2, {48}, Bytes(27)}), "whole blocks of 32");
    row("dims overflow", withTensor({"t", 0, {1ll << 40, 1ll << 40, 1ll << 40}, Bytes(4)}),
        "overflows");
    row("unknown type claiming too many values",
        withTensor({"t", 99, {1ll << 20, 1ll << 20}, Bytes(64)}), "more than the file can hold");
    row("too many dims", withTensor({"t", 0, {1, 1, 1, 1, 1}, Bytes(4)}), "5 dimensions");
    GgufFixture dupTensor;
    dupTensor.addTensor({"t", 0, {1}, floatBytes({1})});
    dupTensor.addTensor({"t", 0, {1}, floatBytes({2})});
    row("duplicate tensor name", dupTensor.bytes(), "duplicate tensor name 't'");
}

void TestGgufMalformed::malformedFilesGiveOneLineErrors() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expected);
    const std::string p = path("bad.gguf");
    writeBytes(p, Bytes(bytes.begin(), bytes.end()));
    auto ck = Checkpoint::open(p);
    QVERIFY(!ck.ok());
    const QString msg = QString::fromStdString(ck.message());
    QVERIFY2(msg.contains(expected), qPrintable(msg));
    QVERIFY2(msg.startsWith(QString::fromStdString(p)), qPrintable(msg));
    QVERIFY(!msg.contains('\n'));
}

void TestGgufMalformed::truncationAnywhereBeforeTheDataEndFails() {
    const Bytes good = validFixture().bytes();
    const std::size_t dataEnd = good.size() - 30; // q8 ends at 32 + 34 = 66 of 96 data bytes
    const std::string p = path("trunc.gguf");
    for (std::size_t n = 0; n < dataEnd; ++n) {
        writeBytes(p, Bytes(good.begin(), good.begin() + static_cast<long>(n)));
        auto ck = Checkpoint::open(p);
        QVERIFY2(!ck.ok(), qPrintable(QString("prefix of %1 bytes opened").arg(n)));
    }
    writeBytes(p, Bytes(good.begin(), good.begin() + static_cast<long>(dataEnd)));
    QVERIFY(Checkpoint::open(p).ok());
}

void TestGgufMalformed::randomMutationNeverCrashes() {
    const Bytes good = validFixture().bytes();
    std::mt19937 rng(20250101);
    const std::string p = path("mutant.gguf");
    int opened = 0;
    for (int iter = 0; iter < 1500; ++iter) {
        Bytes b = good;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % b.size();
            switch (rng() % 4) {
            case 0: // one random byte
                b[at] = static_cast<std::uint8_t>(rng());
                break;
            case 1: // a large or extreme 64-bit count, length or offset
                if (at + 8 <= b.size())
                    putU64(b, at, rng() % 2 ? ~0ull - (rng() % 4) : (1ull << (rng() % 64)));
                break;
            case 2: // a small count: element counts, dims, type ids
                if (at + 4 <= b.size())
                    putU32(b, at, static_cast<std::uint32_t>(rng() % 48));
                break;
            default: // cut the file short
                b.resize(at);
                break;
            }
            if (b.empty())
                break;
        }
        writeBytes(p, b);
        auto ck = Checkpoint::open(p);
        if (!ck.ok()) {
            QVERIFY(!ck.message().empty());
            QVERIFY(ck.message().find('\n') == std::string::npos);
            continue;
        }
        ++opened;
        for (const auto& t : ck->tensors())
            (void)ck->readFloat(t); // may fail, must not crash
    }
    qInfo("%d of 1500 mutants still opened", opened);
}

QTEST_APPLESS_MAIN(TestGgufMalformed)
#include "test_gguf_malformed.moc"
