#include "io/checkpoint.h"
#include "io/npy.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace qs;
using namespace qs::test;

class TestNpy : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void versionsOneToThree_data();
    void versionsOneToThree();
    void bigEndianIsSwapped();
    void fortranOrderIsTransposedBack();
    void integerAndHalfTypes();
    void objectArraysAreRefused();
    void malformedFiles_data();
    void malformedFiles();
    void writerRoundTrips();

private:
    std::string path(const char* name) { return (m_dir.path() + "/" + name).toStdString(); }
    QTemporaryDir m_dir;
};

void TestNpy::versionsOneToThree_data() {
    QTest::addColumn<int>("version");
    QTest::newRow("1.0") << 1;
    QTest::newRow("2.0") << 2;
    QTest::newRow("3.0") << 3;
}

void TestNpy::versionsOneToThree() {
    QFETCH(int, version);
    writeNpy(path("w.npy"), "<f4", {2, 3}, floatBytes({1, 2, 3, 4, 5, 6}), false, version);
    auto c = Checkpoint::open(path("w.npy"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->format(), std::string("npy"));
    QCOMPARE(c->tensors().size(), size_t(1));
    const auto& t = c->tensors()[0];
    QCOMPARE(t.name, std::string("w")); // named after the file's stem
    QCOMPARE(t.shape, (std::vector<std::int64_t>{2, 3}));
    QCOMPARE(c->readFloat(t).value(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

void TestNpy::bigEndianIsSwapped() {
    // 1.0f big-endian = 3F 80 00 00.
    writeNpy(path("be.npy"), ">f4", {2}, {0x3F, 0x80, 0, 0, 0xC0, 0, 0, 0});
    auto c = Checkpoint::open(path("be.npy"));
    QVERIFY(c.ok());
    QCOMPARE(c->readFloat(c->tensors()[0]).value(), (std::vector<float>{1, -2}));
}

void TestNpy::fortranOrderIsTransposedBack() {
    // Logical [[1, 2, 3], [4, 5, 6]] stored column-major: 1 4 2 5 3 6.
    writeNpy(path("f.npy"), "<f4", {2, 3}, floatBytes({1, 4, 2, 5, 3, 6}), true);
    auto c = Checkpoint::open(path("f.npy"));
    QVERIFY(c.ok());
    QCOMPARE(c->readFloat(c->tensors()[0]).value(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    // 3-D: shape (2, 2, 2), element (i, j, k) stored at i + 2j + 4k.
    std::vector<float> f(8);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
            for (int k = 0; k < 2; ++k)
                f[size_t(i + 2 * j + 4 * k)] = float(100 * i + 10 * j + k);
    writeNpy(path("f3.npy"), "<f4", {2, 2, 2}, floatBytes(f), true);
    auto c3 = Checkpoint::open(path("f3.npy"));
    QCOMPARE(c3->readFloat(c3->tensors()[0]).value(),
             (std::vector<float>{0, 1, 10, 11, 100, 101, 110, 111}));
}

void TestNpy::integerAndHalfTypes() {
    writeNpy(path("i.npy"), "|i1", {3}, {0xFF, 0x01, 0x80});
    auto c = Checkpoint::open(path("i.npy"));
    QCOMPARE(c->readFloat(c->tensors()[0]).value(), (std::vector<float>{-1, 1, -128}));
    writeNpy(path("h.npy"), "<f2", {1}, {0x00, 0x3C});
    auto h = Checkpoint::open(path("h.npy"));
    QCOMPARE(h->readFloat(h->tensors()[0]).value(), std::vector<float>{1});
    writeNpy(path("s.npy"), "<f8", {}, {0, 0, 0, 0, 0, 0, 0x04, 0x40}); // scalar 2.5
    auto s = Checkpoint::open(path("s.npy"));
    QVERIFY(s.ok());
    QCOMPARE(s->readFloat(s->tensors()[0]).value(), std::vector<float>{2.5f});
}

void TestNpy::objectArraysAreRefused() {
    writeNpy(path("o.npy"), "|O", {1}, {0x80, 0x02, 0x4E, 0x2E});
    auto c = Checkpoint::open(path("o.npy"));
    QVERIFY(!c.ok());
    QVERIFY(QString::fromStdString(c.message()).contains("pickle"));
}

void TestNpy::malformedFiles_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("mustMention");
    auto npyBytes = [&](const std::string& dict, std::vector<std::uint8_t> data, int version = 1) {
        std::vector<std::uint8_t> out = {0x93,
                                         'N',
                                         'U',
                                         'M',
                                         'P',
                                         'Y',
                                         std::uint8_t(version),
                                         0,
                                         std::uint8_t(dict.size()),
                                         std::uint8_t(dict.size() >> 8)};
        out.insert(out.end(), dict.begin(), dict.end());
        out.insert(out.end(), data.begin(), data.end());
        return QByteArray(reinterpret_cast<const char*>(out.data()), int(out.size()));
    };
    QTest::newRow("truncated data")
        << npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", {0, 0, 0, 0})
        << "truncated";
    QTest::newRow("header past the end")
        << QByteArray("\x93NUMPY\x01\x00\xff\x7f{'descr'", 18) << "past the end";
    QTest::newRow("shape overflows") << npyBytes("{'descr': '<f4', 'fortran_order': False, "
                                                 "'shape': (4294967296, 4294967296, 16), }\n",
                                                 {})
                                     << "overflows";
    QTest::newRow("huge dimension")
        << npyBytes(
               "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", {})
        << "shape";
    QTest::newRow("structured dtype")
        << npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n",
                    {0, 0, 0, 0})
        << "structured";
    QTest::newRow("missing key") << npyBytes("{'descr': '<f4', 'shape': (1,), }\n", {0, 0, 0, 0})
                                 << "lacks";
    QTest::newRow("unsupported dtype")
        << npyBytes("{'descr': '<U8', 'fortran_order': False, 'shape': (1,), }\n", {})
        << "unsupported dtype";
    QTest::newRow("bad version") << npyBytes("{}", {}, 9) << "version";
    QTest::newRow("not a dict") << npyBytes("[1, 2]\n", {}) << "not a dict";
}

void TestNpy::malformedFiles() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, mustMention);
    writeBytes(path("bad.npy"), std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    auto c = Checkpoint::open(path("bad.npy"));
    QVERIFY(!c.ok());
    QVERIFY2(QString::fromStdString(c.message()).contains(mustMention), c.message().c_str());
}

void TestNpy::writerRoundTrips() {
    const std::vector<float> v{1, -2, 3.5f, 4, 5, 6};
    for (const auto& shape : {std::vector<std::int64_t>{2, 3}, std::vector<std::int64_t>{6},
                              std::vector<std::int64_t>{1, 2, 3}}) {
        QVERIFY(writeNpyFloat32(path("out.npy"), shape, v).ok());
        auto c = Checkpoint::open(path("out.npy"));
        QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
        QCOMPARE(c->tensors()[0].shape, shape);
        QCOMPARE(c->readFloat(c->tensors()[0]).value(), v);
    }
    QVERIFY(!writeNpyFloat32("/nonexistent-dir/x.npy", {1}, v).ok());
}

QTEST_APPLESS_MAIN(TestNpy)
#include "test_npy.moc"
