#include "quant/int_quant.h"

#include "quant_helpers.h"

#include <QtTest>

#include <limits>

#include <cmath>
#include <random>

using namespace qs;
using namespace qs::test;

namespace {

IntQuantized codes(const char* s, const std::vector<float>& x, std::int64_t rows,
                   std::int64_t cols) {
    auto r = quantizeIntCodes(spec(s), MatrixView{x.data(), rows, cols});
    if (!r.ok())
        qFatal("quantize failed: %s", r.message().c_str());
    return *r;
}

} // namespace

class TestIntQuant : public QObject {
    Q_OBJECT
private slots:
    void asymmetricTensorTiesToEven();
    void asymmetricIncludesZeroInTheRange();
    void symmetricPerChannel();
    void groupsWithShortLastGroup();
    void allZeroGroupsReconstructExactly();
    void aNanWeightTakesTheZeroPointsCode();
    void fullRangeSymmetric();
    void bitsPerWeightIsHonest_data();
    void bitsPerWeightIsHonest();
    void levelsOfTheWidestGroup();
    void unitLevels();
    void parallelPathMatchesScalarReference();
    void stochasticRoundingIsSeededAndUnbiased();
    void percentileClipUsesNumpysRule();
    void mseClipNeverLosesToMinMax();
    void progressCanCancel();
};

void TestIntQuant::asymmetricTensorTiesToEven() {
    // lo = -1, hi = 2, scale = 1, zero = 1; 0.5 -> rne(0.5) = 0, 1.5 -> 2, -0.5 -> 0 (ties to
    // even).
    const std::vector<float> x{-1, 0, 0.5f, 2, 1.5f, -0.5f};
    auto q = codes("int2:tensor", x, 1, 6);
    QCOMPARE(q.scales, std::vector<float>{1.0f});
    QCOMPARE(q.zeros, std::vector<std::int32_t>{1});
    QCOMPARE(q.codes, (std::vector<std::int32_t>{0, 1, 1, 3, 3, 1}));
    QCOMPARE(dequantizeInt(q), (std::vector<float>{-1, 0, 0, 2, 2, 0}));
}

void TestIntQuant::asymmetricIncludesZeroInTheRange() {
    // All positive: lo = min(0.75, 0) = 0, hi = 3, scale = 1, zero = 0.
    const std::vector<float> x{0.75f, 1.5f, 3, 2.25f};
    auto q = codes("int2:tensor", x, 1, 4);
    QCOMPARE(q.zeros, std::vector<std::int32_t>{0});
    QCOMPARE(q.codes, (std::vector<std::int32_t>{1, 2, 3, 2}));
    QCOMPARE(dequantizeInt(q), (std::vector<float>{1, 2, 3, 2}));
}

void TestIntQuant::symmetricPerChannel() {
    // Row 0: absmax 3, scale 3/3 = 1. Row 1: absmax 0.75, scale 0.25; -0.5 -> 0, 1.5 -> 2 (ties to
    // even).
    const std::vector<float> x{-3, 1.5f, 0.75f, 0.75f, -0.125f, 0.375f};
    auto q = codes("int3:channel:sym", x, 2, 3);
    QCOMPARE(q.scales, (std::vector<float>{1.0f, 0.25f}));
    QCOMPARE(q.zeros, (std::vector<std::int32_t>{0, 0}));
    QCOMPARE(q.codes, (std::vector<std::int32_t>{-3, 2, 1, 3, 0, 2}));
    QCOMPARE(dequantizeInt(q), (std::vector<float>{-3, 2, 1, 0.75f, 0, 0.5f}));
    QCOMPARE(q.qmin, -3);
    QCOMPARE(q.qmax, 3);
}

void TestIntQuant::groupsWithShortLastGroup() {
    // Groups of 2 along a 5-wide row: [1.5, -0.375] scale 0.125 zero 3; [3.75, 1] scale 0.25
    // zero 0; the short last group [-7.5] scale 0.5 zero 15.
    const std::vector<float> x{1.5f, -0.375f, 3.75f, 1, -7.5f};
    auto q = codes("int4:g2", x, 1, 5);
    QCOMPARE(q.scales, (std::vector<float>{0.125f, 0.25f, 0.5f}));
    QCOMPARE(q.zeros, (std::vector<std::int32_t>{3, 0, 15}));
    QCOMPARE(q.codes, (std::vector<std::int32_t>{15, 0, 15, 4, 0}));
    QCOMPARE(dequantizeInt(q), x);
}

// A NaN weight: the zero-point's code (it stands for 0), for nearest and stochastic rounding;
// converting the NaN itself gave INT_MIN, and code - zero overflowed (UBSan). The other values
// of its group quantize as they do without it: lo = -1, hi = 2, scale 1, zero 1.
void TestIntQuant::aNanWeightTakesTheZeroPointsCode() {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (const char* spec : {"int2:g4", "int2:g4:round=stochastic"}) {
        const std::vector<float> x{-1, 2, nan, 1};
        auto q = codes(spec, x, 1, 4);
        QCOMPARE(q.zeros, std::vector<std::int32_t>{1});
        QCOMPARE(q.codes[2], 1);
        const auto rec = dequantizeInt(q);
        QCOMPARE(rec[2], 0.0f);
        QCOMPARE(rec[0], -1.0f);
        QCOMPARE(rec[1], 2.0f);
    }
    // Symmetric: code 0.
    auto s = codes("int4:g4:sym", std::vector<float>{0.5f, nan, -7, 7}, 1, 4);
    QCOMPARE(s.codes[1], 0);
}

void TestIntQuant::allZeroGroupsReconstructExactly() {
    const std::vector<float> x{0, 0, 0, 0, 1, -1};
    for (const char* s : {"int4:g2", "int4:g2:sym", "int8:channel", "int3:tensor:sym"}) {
        auto q = codes(s, std::vector<float>(4, 0.0f), 1, 4);
        QCOMPARE(dequantizeInt(q), std::vector<float>(4, 0.0f));
        for (float sc : q.scales)
            QCOMPARE(sc, 1.0f);
    }
    auto q = codes("int4:g2", x, 1, 6);
    QCOMPARE(q.scales[0], 1.0f);
    QCOMPARE(q.zeros[0], 0);
    auto rec = dequantizeInt(q);
    QCOMPARE(rec[0], 0.0f);
    QCOMPARE(rec[3], 0.0f);
}

void TestIntQuant::fullRangeSymmetric() {
    // range=full: scale = absmax / 7.5 = 1; q in [-8, 7]: 7.5 -> 8 -> clamp 7; -7.5 -> -8.
    const std::vector<float> x{7.5f, -7.5f, 0.25f};
    auto q = codes("int4:tensor:sym:range=full", x, 1, 3);
    QCOMPARE(q.scales, std::vector<float>{1.0f});
    QCOMPARE(q.codes, (std::vector<std::int32_t>{7, -8, 0}));
    QCOMPARE(q.qmin, -8);
    // Restricted range for comparison: scale = 7.5/7, codes in [-7, 7].
    auto r = codes("int4:tensor:sym", x, 1, 3);
    QCOMPARE(r.codes, (std::vector<std::int32_t>{7, -7, 0}));
}

void TestIntQuant::bitsPerWeightIsHonest_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<double>("bpw");
    QTest::newRow("int4:g64 (DESIGN.md)") << "int4:g64" << 64 << 128 << 4.3125;
    QTest::newRow("int4:g64:sym (DESIGN.md)") << "int4:g64:sym" << 64 << 128 << 4.25;
    QTest::newRow("int8 channel") << "int8:channel" << 10 << 100 << 8.24;
    QTest::newRow("int4 tensor") << "int4:tensor:sym" << 4 << 4 << 5.0;
    QTest::newRow("short last group") << "int4:g64:sym" << 1 << 100 << (400.0 + 32.0) / 100.0;
}

void TestIntQuant::bitsPerWeightIsHonest() {
    QFETCH(QString, spec);
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(double, bpw);
    const auto cost = intStorageCost(::spec(spec.toLatin1().constData()), rows, cols);
    QCOMPARE(cost.bitsPerWeight(), bpw);
    std::vector<float> x(static_cast<size_t>(rows * cols), 0.5f);
    auto out = quantize(::spec(spec.toLatin1().constData()), MatrixView{x.data(), rows, cols});
    QVERIFY(out.ok());
    QCOMPARE(out->cost.bitsPerWeight(), bpw);
}

void TestIntQuant::levelsOfTheWidestGroup() {
    const std::vector<float> x{1.5f, -0.375f, 3.75f, 1, -7.5f};
    auto out = quantize(spec("int4:g2"), MatrixView{x.data(), 1, 5});
    QVERIFY(out.ok());
    QCOMPARE(out->levels.size(), size_t(16));
    // Widest group is the last: scale 0.5, zero 15 -> levels -7.5 .. 0.
    QCOMPARE(out->levels.front(), -7.5f);
    QCOMPARE(out->levels.back(), 0.0f);
    QVERIFY(QString::fromStdString(out->levelsNote).contains("group 2"));
}

void TestIntQuant::unitLevels() {
    auto sym = qs::unitLevels(spec("int3:sym"));
    QVERIFY(sym.ok());
    QCOMPARE(*sym, (std::vector<float>{-3, -2, -1, 0, 1, 2, 3}));
    auto full = qs::unitLevels(spec("int3:sym:range=full"));
    QCOMPARE(full->front(), -4.0f);
    auto asym = qs::unitLevels(spec("int2"));
    QCOMPARE(*asym, (std::vector<float>{-2, -1, 0, 1}));
}

void TestIntQuant::parallelPathMatchesScalarReference() {
    // A plain scalar implementation of the asym/sym rules, independent of the TBB path.
    std::mt19937 rng(42);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    const int rows = 257, cols = 300, group = 64;
    std::vector<float> x(static_cast<size_t>(rows * cols));
    for (auto& v : x)
        v = normal(rng);
    for (bool sym : {false, true}) {
        const Scheme s = spec(sym ? "int4:g64:sym" : "int4:g64");
        auto q = quantizeIntCodes(s, MatrixView{x.data(), rows, cols});
        QVERIFY(q.ok());
        const auto rec = dequantizeInt(*q);
        for (int r = 0; r < rows; ++r)
            for (int c0 = 0; c0 < cols; c0 += group) {
                const int c1 = std::min(cols, c0 + group);
                float mn = 0, mx = 0, amax = 0;
                for (int c = c0; c < c1; ++c) {
                    const float v = x[size_t(r * cols + c)];
                    mn = std::min(mn, v);
                    mx = std::max(mx, v);
                    amax = std::max(amax, std::fabs(v));
                }
                const float scale = sym ? amax / 7.0f : (mx - mn) / 15.0f;
                const float zero = sym ? 0.0f : std::nearbyint(-mn / scale);
                for (int c = c0; c < c1; ++c) {
                    const size_t i = size_t(r * cols + c);
                    float qv = std::nearbyint(x[i] / scale) + zero;
                    qv = sym ? std::clamp(qv, -7.0f, 7.0f) : std::clamp(qv, 0.0f, 15.0f);
                    QCOMPARE(rec[i], scale * (qv - zero));
                }
            }
    }
}

void TestIntQuant::stochasticRoundingIsSeededAndUnbiased() {
    // Scale 1 (absmax 1, int2 sym): 0.3 rounds up to 1 with probability 0.3.
    const int n = 100000;
    std::vector<float> x(n, 0.3f);
    x[0] = 1.0f;
    x[1] = -1.0f;
    const MatrixView m{x.data(), 1, n};
    auto a = quantize(spec("int2:tensor:sym:round=stochastic:seed=1"), m);
    auto b = quantize(spec("int2:tensor:sym:round=stochastic:seed=1"), m);
    auto c = quantize(spec("int2:tensor:sym:round=stochastic:seed=2"), m);
    QVERIFY(a.ok() && b.ok() && c.ok());
    QCOMPARE(a->reconstruction, b->reconstruction);
    QVERIFY(a->reconstruction != c->reconstruction);
    double mean = 0;
    for (int i = 2; i < n; ++i) {
        const float v = a->reconstruction[size_t(i)];
        QVERIFY(v == 0.0f || v == 1.0f);
        mean += v;
    }
    mean /= (n - 2);
    QVERIFY2(std::fabs(mean - 0.3) < 0.01, QByteArray::number(mean));
}

void TestIntQuant::percentileClipUsesNumpysRule() {
    std::vector<float> x(100);
    for (int i = 0; i < 100; ++i)
        x[size_t(i)] = float(i + 1) * (i % 2 ? -1.0f : 1.0f);
    // |x| = 1..100; numpy.percentile(..., 50) = 50.5.
    auto q = codes("int8:tensor:sym:clip=p50", x, 1, 100);
    QCOMPARE(q.scales[0], 50.5f / 127.0f);
    // Values beyond the clip saturate at the top code.
    QCOMPARE(q.codes[99], -127);
}

void TestIntQuant::mseClipNeverLosesToMinMax() {
    std::mt19937 rng(7);
    std::student_t_distribution<float> heavy(3.0f);
    std::vector<float> x(64 * 256);
    for (auto& v : x)
        v = heavy(rng);
    const MatrixView m{x.data(), 64, 256};
    auto plain = quantize(spec("int4:g128"), m);
    auto mse = quantize(spec("int4:g128:clip=mse"), m);
    QVERIFY(plain.ok() && mse.ok());
    auto norm24 = [&](const std::vector<float>& rec) {
        double e = 0;
        for (size_t i = 0; i < x.size(); ++i)
            e += std::pow(std::fabs(double(rec[i]) - x[i]), 2.4);
        return e;
    };
    QVERIFY(norm24(mse->reconstruction) <= norm24(plain->reconstruction));
    QVERIFY(norm24(mse->reconstruction) < 0.95 * norm24(plain->reconstruction));
}

void TestIntQuant::progressCanCancel() {
    std::vector<float> x(1000 * 64, 1.0f);
    auto r =
        quantize(spec("int4:g64"), MatrixView{x.data(), 1000, 64}, [](double) { return false; });
    QVERIFY(!r.ok());
    QCOMPARE(QString::fromStdString(r.message()), QString("cancelled"));
}

QTEST_APPLESS_MAIN(TestIntQuant)
#include "test_int_quant.moc"
