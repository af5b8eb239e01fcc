// ggml quantizers: hand-computed blocks for the legacy rules of NUMERICS.md §5.7, K-quant and
// IQ4 invariants, quantize -> dequantize properties, and the registry families built on them.
// Byte-exactness against ggml itself is test_ggml_oracle.

#include "quant/ggml_quant.h"
#include "quant/ggml_rows.h"
#include "quant/registry.h"
#include "tensor/dtype.h"

#include "quant_helpers.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace qs;
using namespace qs::test;

namespace {

std::vector<std::byte> quantizeOne(GgmlType t, const std::vector<float>& x,
                                   GgmlQuantPath path = GgmlQuantPath::Default) {
    auto r =
        ggmlQuantizeRows(t, MatrixView{x.data(), 1, static_cast<std::int64_t>(x.size())}, {}, path);
    if (!r)
        qFatal("%s", r.message().c_str());
    return *r;
}

template <class B> B asBlock(const std::vector<std::byte>& bytes) {
    B b;
    std::memcpy(&b, bytes.data(), sizeof b);
    return b;
}

double mse(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    return s / static_cast<double>(a.size());
}

} // namespace

class TestGgmlQuant : public QObject {
    Q_OBJECT
private slots:
    void q4_0ExtremeMapsToZeroAndHalvesRoundUp();
    void q4_0PositiveExtremeGivesNegativeDelta();
    void allZeroBlocks_data();
    void allZeroBlocks();
    void q8_0RoundsHalfAwayFromZero();
    void q8_0KernelsMatchThePortableLoop();
    void q5_0HighBitPlacement();
    void q4_1MinAndRoundHalfUp();
    void kQuantScalePackingRoundTrips();
    void iq4NlDefaultSearchesMoreThanReference();
    void errorShrinksWithBits();
    void reconstructionIsDequantizedBytes_data();
    void reconstructionIsDequantizedBytes();
    void bitsPerWeight_data();
    void bitsPerWeight();
    void rowsNotMultipleOfBlockAreNotApplicable();
    void levelsOfTheWidestBlock();
    void unitLevels();
    void importanceWeightsAreValidated();
    void progressCanCancel();
};

void TestGgmlQuant::q4_0ExtremeMapsToZeroAndHalvesRoundUp() {
    // max |x| is x[0] = -8 (first on ties), so d = -8/-8 = 1 and q = trunc(x + 8.5).
    std::vector<float> x(32);
    for (int j = 0; j < 16; ++j) {
        x[j] = static_cast<float>(j - 8);
        x[j + 16] = static_cast<float>(j) - 7.5f; // halves: j - 7.5 + 8.5 = j + 1 (up)
    }
    const auto b = asBlock<BlockQ4_0>(quantizeOne(GgmlType::Q4_0, x));
    QCOMPARE(b.d, floatToHalf(1.0f));
    for (int j = 0; j < 16; ++j)
        QCOMPARE(static_cast<int>(b.qs[j]), j | (std::min(j + 1, 15) << 4));
}

void TestGgmlQuant::q4_0PositiveExtremeGivesNegativeDelta() {
    std::vector<float> x(32, 0.0f);
    x[5] = 4.0f;
    x[6] = -4.0f; // same magnitude later: the first (positive) one wins
    x[7] = 1.0f;
    const auto b = asBlock<BlockQ4_0>(quantizeOne(GgmlType::Q4_0, x));
    QCOMPARE(b.d, floatToHalf(-0.5f));
    QCOMPARE(b.qs[5] & 0xF, 0);  // 4 * -2 + 8.5 -> 0: the extreme is code 0
    QCOMPARE(b.qs[6] & 0xF, 15); // -4 * -2 + 8.5 = 16.5 -> 16, clamped to 15
    QCOMPARE(b.qs[7] & 0xF, 6);  // 1 * -2 + 8.5 = 6.5 -> 6
    QCOMPARE(b.qs[0] & 0xF, 8);
}

void TestGgmlQuant::allZeroBlocks_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("n");
    QTest::addColumn<QByteArray>("expected");
    // d = 0/-8 = -0 (fp16 0x8000, as ggml writes it), id = 0: every code is trunc(8.5) = 8
    QByteArray q40(18, char(0x88));
    q40[0] = 0;
    q40[1] = char(0x80);
    QTest::newRow("q4_0: codes 8") << int(GgmlType::Q4_0) << 32 << q40;
    QTest::newRow("q8_0: zeros") << int(GgmlType::Q8_0) << 32 << QByteArray(34, 0);
    QTest::newRow("q6_k: zeros") << int(GgmlType::Q6_K) << 256 << QByteArray(210, 0);
    QTest::newRow("q4_k: zeros") << int(GgmlType::Q4_K) << 256 << QByteArray(144, 0);
    QByteArray iq4(18, char(0x88)); // d = 0, code 8 (value 1) is nearest to 0
    iq4[0] = iq4[1] = 0;
    QTest::newRow("iq4_nl: codes 8") << int(GgmlType::IQ4_NL) << 32 << iq4;
}

void TestGgmlQuant::allZeroBlocks() {
    QFETCH(int, type);
    QFETCH(int, n);
    QFETCH(QByteArray, expected);
    const auto bytes = quantizeOne(static_cast<GgmlType>(type), std::vector<float>(n, 0.0f));
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(bytes.data()), int(bytes.size())), expected);
    std::vector<float> y(static_cast<std::size_t>(n), 1.0f);
    QVERIFY(ggmlDequantize(static_cast<GgmlType>(type), bytes, y).ok());
    for (float v : y)
        QCOMPARE(v, 0.0f);
}

void TestGgmlQuant::q8_0RoundsHalfAwayFromZero() {
    std::vector<float> x(32, 0.0f);
    x[0] = 127.0f; // d = 1
    x[1] = 2.5f;
    x[2] = -2.5f;
    x[3] = 0.5f;
    x[4] = -0.5f;
    const auto b = asBlock<BlockQ8_0>(quantizeOne(GgmlType::Q8_0, x));
    QCOMPARE(b.d, floatToHalf(1.0f));
    QCOMPARE(int(b.qs[0]), 127);
    QCOMPARE(int(b.qs[1]), 3);
    QCOMPARE(int(b.qs[2]), -3);
    QCOMPARE(int(b.qs[3]), 1);
    QCOMPARE(int(b.qs[4]), -1);
}

void TestGgmlQuant::q5_0HighBitPlacement() {
    std::vector<float> x(32, -16.0f); // d = -16/-16 = 1, q = trunc(x + 16.5)
    x[3] = 2.0f;                      // q 18: bit 4 -> qh bit 3, low nibble 2
    x[20] = 5.0f;                     // q 21: qh bit 20, high nibble of qs[4] = 5
    const auto b = asBlock<BlockQ5_0>(quantizeOne(GgmlType::Q5_0, x));
    QCOMPARE(b.d, floatToHalf(1.0f));
    const std::uint8_t qh[4] = {0x08, 0x00, 0x10, 0x00};
    QCOMPARE(std::memcmp(b.qh, qh, 4), 0);
    QCOMPARE(b.qs[3] & 0xF, 2);
    QCOMPARE(b.qs[4] >> 4, 5);
    QCOMPARE(int(b.qs[0]), 0);
}

void TestGgmlQuant::q4_1MinAndRoundHalfUp() {
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j)
        x[j] = static_cast<float>(j); // min 0, max 31, d = 31/15
    const auto b = asBlock<BlockQ4_1>(quantizeOne(GgmlType::Q4_1, x));
    QCOMPARE(b.d, floatToHalf(31.0f / 15.0f));
    QCOMPARE(b.m, floatToHalf(0.0f));
    for (int j = 0; j < 16; ++j) {
        const int q0 = static_cast<int>(std::floor(j * 15.0 / 31.0 + 0.5));
        const int q1 = static_cast<int>(std::floor((j + 16) * 15.0 / 31.0 + 0.5));
        QCOMPARE(int(b.qs[j]), q0 | (q1 << 4));
    }
}

void TestGgmlQuant::kQuantScalePackingRoundTrips() {
    // Q4_K on sub-blocks of very different widths: the decoded per-32 ranges follow the data.
    std::vector<float> x(256);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (int i = 0; i < 256; ++i)
        x[i] = u(rng) * static_cast<float>(1 + i / 32) - 0.5f * static_cast<float>(i / 32);
    const auto bytes = quantizeOne(GgmlType::Q4_K, x);
    std::vector<float> y(256);
    QVERIFY(ggmlDequantize(GgmlType::Q4_K, bytes, y).ok());
    for (int j = 0; j < 8; ++j) {
        const float width = static_cast<float>(1 + j);
        double err = 0;
        for (int l = 0; l < 32; ++l)
            err = std::max(err, std::fabs(static_cast<double>(y[32 * j + l]) - x[32 * j + l]));
        QVERIFY2(err < width / 15.0 * 0.75, qPrintable(QString::number(err)));
    }
}

void TestGgmlQuant::iq4NlDefaultSearchesMoreThanReference() {
    const auto x = gaussian(32 * 512, 3, 1.0f);
    const MatrixView m{x.data(), 512, 32};
    auto def = ggmlQuantizeRows(GgmlType::IQ4_NL, m);
    auto ref = ggmlQuantizeRows(GgmlType::IQ4_NL, m, {}, GgmlQuantPath::Reference);
    QVERIFY(def && ref);
    std::vector<float> yd(x.size()), yr(x.size());
    QVERIFY(ggmlDequantize(GgmlType::IQ4_NL, *def, yd).ok());
    QVERIFY(ggmlDequantize(GgmlType::IQ4_NL, *ref, yr).ok());
    QVERIFY(mse(x, yd) < mse(x, yr));
}

void TestGgmlQuant::errorShrinksWithBits() {
    const auto x = gaussian(64 * 1024, 11, 1.0f);
    const MatrixView m{x.data(), 64, 1024};
    const char* order[] = {"q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_0"};
    double prev = INFINITY;
    for (const char* s : order) {
        auto q = quantize(spec(s), m);
        QVERIFY2(q.ok(), s);
        const double e = mse(x, q->reconstruction);
        QVERIFY2(e < prev, s);
        prev = e;
    }
    // and the non-linear 4-bit code book beats Q4_0 on Gaussian data
    auto a = quantize(spec("iq4_nl"), m);
    auto b = quantize(spec("q4_0"), m);
    QVERIFY(mse(x, a->reconstruction) < mse(x, b->reconstruction));
}

void TestGgmlQuant::reconstructionIsDequantizedBytes_data() {
    QTest::addColumn<QString>("family");
    for (const char* f : {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k", "q4_k", "q5_k",
                          "q6_k", "iq4_nl", "iq4_xs"})
        QTest::newRow(f) << QString(f);
}

void TestGgmlQuant::reconstructionIsDequantizedBytes() {
    QFETCH(QString, family);
    const auto x = gaussian(8 * 512, 5, 1.0f);
    const MatrixView m{x.data(), 8, 512};
    auto q = quantize(spec(family.toUtf8().constData()), m);
    QVERIFY(q.ok());
    const auto t = *ggmlTypeForFamily(family.toStdString());
    auto bytes = ggmlQuantizeRows(t, m);
    std::vector<float> y(x.size());
    QVERIFY(ggmlDequantize(t, *bytes, y).ok());
    QCOMPARE(q->reconstruction, y);
    // the parallel row loop gives what one row at a time gives
    for (int r = 0; r < 8; ++r) {
        auto one = ggmlQuantizeRows(t, MatrixView{x.data() + r * 512, 1, 512});
        QVERIFY(std::equal(one->begin(), one->end(), bytes->begin() + r * one->size()));
    }
}

void TestGgmlQuant::bitsPerWeight_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<double>("bpw");
    const std::pair<const char*, double> rows[] = {
        {"q4_0", 4.5}, {"q4_1", 5.0},    {"q5_0", 5.5},    {"q5_1", 6.0},
        {"q8_0", 8.5}, {"q2_k", 2.625},  {"q3_k", 3.4375}, {"q4_k", 4.5},
        {"q5_k", 5.5}, {"q6_k", 6.5625}, {"iq4_nl", 4.5},  {"iq4_xs", 4.25}};
    for (const auto& [f, b] : rows)
        QTest::newRow(f) << QString(f) << b;
}

void TestGgmlQuant::bitsPerWeight() {
    QFETCH(QString, family);
    QFETCH(double, bpw);
    const auto x = gaussian(4 * 512, 1, 1.0f);
    auto q = quantize(spec(family.toUtf8().constData()), MatrixView{x.data(), 4, 512});
    QVERIFY(q.ok());
    QCOMPARE(q->cost.bitsPerWeight(), bpw);
    const auto t = *ggmlTypeForFamily(family.toStdString());
    QCOMPARE(q->cost.bytes(), 4 * *ggmlRowBytes(t, 512)); // the split adds up to the blocks
}

void TestGgmlQuant::rowsNotMultipleOfBlockAreNotApplicable() {
    const auto x = gaussian(3 * 172, 2, 1.0f);
    auto q = quantize(spec("q4_k"), MatrixView{x.data(), 3, 172});
    QVERIFY(!q.ok());
    QCOMPARE(QString::fromStdString(q.message()),
             QString("q4_k is not applicable: rows of 172 are not a multiple of 256"));
    QVERIFY(!quantize(spec("q8_0"), MatrixView{x.data(), 3, 172}).ok());
    QVERIFY(quantize(spec("q8_0"), MatrixView{x.data(), 1, 160}).ok());
    QVERIFY(!ggmlQuantizeRows(GgmlType::Q4_0, MatrixView{x.data(), 3, 172}).ok());
}

void TestGgmlQuant::levelsOfTheWidestBlock() {
    std::vector<float> x(64, 0.25f);
    x[40] = -16.0f; // block 1: d = 2
    x[1] = 3.0f;    // block 0: d = -3/8
    auto q = quantize(spec("q4_0"), MatrixView{x.data(), 1, 64});
    QVERIFY(q.ok());
    QCOMPARE(q->levels.size(), std::size_t(16));
    QCOMPARE(q->levels.front(), -16.0f);
    QCOMPARE(q->levels.back(), 14.0f);
    QVERIFY(q->levelsNote.find("block 1") != std::string::npos);
}

void TestGgmlQuant::unitLevels() {
    auto q40 = qs::unitLevels(spec("q4_0"));
    QVERIFY(q40.ok());
    QCOMPARE(q40->front(), -8.0f);
    QCOMPARE(q40->back(), 7.0f);
    auto q6 = qs::unitLevels(spec("q6_k"));
    QCOMPARE(q6->size(), std::size_t(64));
    auto iq = qs::unitLevels(spec("iq4_xs"));
    QCOMPARE(*iq, (std::vector<float>{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53,
                                      69, 89, 113}));
}

void TestGgmlQuant::importanceWeightsAreValidated() {
    const auto x = gaussian(2 * 256, 4, 1.0f);
    const MatrixView m{x.data(), 2, 256};
    std::vector<float> w(256, 1.0f);
    QVERIFY(ggmlQuantizeRows(GgmlType::Q4_K, m, w).ok());
    QVERIFY(!ggmlQuantizeRows(GgmlType::Q4_K, m, std::span<const float>(w.data(), 100)).ok());
    QVERIFY(!ggmlQuantizeRows(GgmlType::Q4_K, m, w, GgmlQuantPath::Reference).ok());
    // Q8_0 ignores weights, as ggml's quantize_q8_0 does
    QCOMPARE(*ggmlQuantizeRows(GgmlType::Q8_0, m, w), *ggmlQuantizeRows(GgmlType::Q8_0, m));
    QVERIFY(!ggmlQuantizeRows(GgmlType::Q8_K, m).ok()); // decode only
}

void TestGgmlQuant::progressCanCancel() {
    const auto x = gaussian(64 * 256, 9, 1.0f);
    auto q = quantize(spec("q4_k"), MatrixView{x.data(), 64, 256}, [](double) { return false; });
    QVERIFY(!q.ok());
    QCOMPARE(QString::fromStdString(q.message()), QString(kCancelledMessage));
}

// quantizeQ8_0's AVX2 and AVX-512 copies equal the portable loop byte for byte: Gaussian blocks
// over 12 decades, exact halves after scaling, all-zero and -0 blocks, ties of sign, NaN and Inf.
void TestGgmlQuant::q8_0KernelsMatchThePortableLoop() {
    std::mt19937 rng(4242);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::uniform_real_distribution<float> decades(-10.0f, 2.0f);
    std::vector<float> x;
    for (int b = 0; b < 4000; ++b) {
        const float scale = std::pow(10.0f, decades(rng));
        for (int j = 0; j < 32; ++j)
            x.push_back(nd(rng) * scale);
    }
    for (int b = 0; b < 64; ++b) // codes landing on k + 1/2: amax 127 makes d = 1
        for (int j = 0; j < 32; ++j)
            x.push_back(j == b % 32 ? (b % 2 ? -127.0f : 127.0f) : static_cast<float>(j) - 15.5f);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    for (int j = 0; j < 32; ++j)
        x.push_back(-0.0f);
    for (int p = 0; p < 32; ++p)
        for (int j = 0; j < 32; ++j)
            x.push_back(j == p ? (p % 3 == 0 ? nan : p % 3 == 1 ? inf : -inf) : 0.1f * j);
    const auto n = static_cast<std::int64_t>(x.size());
    std::vector<std::byte> want(*ggmlRowBytes(GgmlType::Q8_0, n));
    QVERIFY(ggml::quantizeQ8_0With(ggml::Q8_0Kernel::Portable, x.data(), want.data(), n));
    int ran = 0;
    for (auto k : {ggml::Q8_0Kernel::Avx2, ggml::Q8_0Kernel::Avx512}) {
        std::vector<std::byte> got(want.size());
        if (!ggml::quantizeQ8_0With(k, x.data(), got.data(), n))
            continue;
        ++ran;
        QVERIFY2(got == want, k == ggml::Q8_0Kernel::Avx2 ? "AVX2" : "AVX-512");
    }
    QVERIFY(quantizeOne(GgmlType::Q8_0, x) == want); // whichever copy this CPU runs
    if (ran == 0)
        qInfo("this CPU has neither AVX2 nor AVX-512: only the portable loop ran");
}

QTEST_APPLESS_MAIN(TestGgmlQuant)
#include "test_ggml_quant.moc"
