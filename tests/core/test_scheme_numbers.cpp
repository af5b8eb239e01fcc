// The numbers behind the lessons' formulas: L, Δ and the zero-point by hand on a known group,
// the scale count for each granularity, and worked examples that agree with the quantizers.

#include "quant_helpers.h"
#include "teach/scheme_numbers.h"
#include "teach/snr_curve.h"

#include <QtTest>

#include <cmath>

using namespace qs;
using namespace qs::test;

namespace {
SchemeNumbers numbers(const std::string& s, const std::vector<float>& x, std::int64_t rows,
                      std::int64_t cols) {
    auto r = computeSchemeNumbers(spec(s), MatrixView{x.data(), rows, cols});
    if (!r)
        qFatal("computeSchemeNumbers: %s", r.message().c_str());
    return *r;
}
} // namespace

class TestSchemeNumbers : public QObject {
    Q_OBJECT
private slots:
    void intLevelsStepAndZeroByHand();
    void oneBitLessHalvesTheLevelsAndDoublesTheStep();
    void groupCountFollowsTheGranularity();
    void workedExamplesAgreeWithTheQuantizer_data();
    void workedExamplesAgreeWithTheQuantizer();
    void muLawStepsGrowAwayFromZero();
};

void TestSchemeNumbers::intLevelsStepAndZeroByHand() {
    // min -0.3, max 1.2: Δ = 1.5/15 = 0.1, zero = rne(0.3/0.1) = 3.
    std::vector<float> x = {-0.3f, 0.0f, 0.45f, 1.2f, 0.7f, -0.1f, 0.2f, 0.9f};
    const SchemeNumbers n = numbers("int4:tensor", x, 1, 8);
    QCOMPARE(n.levelCount, 16);
    QVERIFY(std::abs(n.scale - 0.1) < 1e-7);
    QCOMPARE(n.zeroPoint, 3.0);
    QCOMPARE(n.groupMin, -0.3f);
    QCOMPARE(n.groupMax, 1.2f);
    QCOMPARE(n.groupCount, std::int64_t(1));
    QVERIFY(std::abs(n.smallestStep - 0.1) < 1e-6 && std::abs(n.largestStep - 0.1) < 1e-6);
}

void TestSchemeNumbers::oneBitLessHalvesTheLevelsAndDoublesTheStep() {
    const auto x = gaussian(4096, 1);
    const SchemeNumbers four = numbers("int4:g64", x, 16, 256);
    const SchemeNumbers three = numbers("int3:g64", x, 16, 256);
    QCOMPARE(four.levelCount, 16);
    QCOMPARE(three.levelCount, 8);
    QVERIFY(std::abs(three.scale / four.scale - 15.0 / 7.0) < 1e-5);
    QVERIFY(three.error.sqnrDb() < four.error.sqnrDb() - 4.0);
}

void TestSchemeNumbers::groupCountFollowsTheGranularity() {
    const auto x = gaussian(4 * 256, 2);
    QCOMPARE(numbers("int4:tensor", x, 4, 256).groupCount, std::int64_t(1));
    QCOMPARE(numbers("int4:channel", x, 4, 256).groupCount, std::int64_t(4));
    QCOMPARE(numbers("int4:g32", x, 4, 256).groupCount, std::int64_t(32));
    QCOMPARE(numbers("int4:g128", x, 4, 256).groupCount, std::int64_t(8));
    QCOMPARE(numbers("nf4:g64", x, 4, 256).groupCount, std::int64_t(16));
    QCOMPARE(numbers("mxfp4", x, 4, 256).groupCount, std::int64_t(32));
    QCOMPARE(numbers("int4:g32", x, 4, 256).groupSize, std::int64_t(32));
}

void TestSchemeNumbers::workedExamplesAgreeWithTheQuantizer_data() {
    QTest::addColumn<QString>("scheme");
    for (const char* s : {"int4:g64", "int3:channel:sym", "mulaw4:tensor", "mulaw3:g64:mu100",
                          "nf4:g64", "mxfp4", "fp8_e4m3:channel", "q4_0"})
        QTest::newRow(s) << QString::fromLatin1(s);
}

void TestSchemeNumbers::workedExamplesAgreeWithTheQuantizer() {
    QFETCH(QString, scheme);
    auto x = gaussian(8 * 256, 4);
    x[300] = 0.3f;
    const std::string s = scheme.toStdString();
    const SchemeNumbers n = numbers(s, x, 8, 256);
    const QuantOutput q = run(s, x, 8, 256);
    const WorkedExample& e = n.example;
    QCOMPARE(e.x, x[static_cast<std::size_t>(e.index)]);
    QCOMPARE(e.reconstruction, q.reconstruction[static_cast<std::size_t>(e.index)]);
    QCOMPARE(n.groupAbsmax, 0.3f); // the focus group holds the largest weight
    QVERIFY(std::find(n.levels.begin(), n.levels.end(), e.reconstruction) != n.levels.end());
    if (scheme.startsWith(QLatin1String("int"))) {
        QCOMPARE(static_cast<float>(n.scale * e.y), e.reconstruction);
        QVERIFY(std::abs(e.t - (e.x / n.scale + n.zeroPoint)) < 1e-9);
    } else if (scheme.startsWith(QLatin1String("mulaw"))) {
        const double mu = scheme.contains(QLatin1String("mu100")) ? 100 : 255;
        QVERIFY(std::abs(muLawExpand(e.yq, mu) * n.scale - e.reconstruction) < 1e-6);
        QVERIFY(std::abs(e.y - muLawCompress(e.x / n.scale, mu)) < 1e-9);
    } else {
        QVERIFY(std::abs(e.yq * n.scale - e.reconstruction) < 1e-6);
    }
    QCOMPARE(n.reconstruction.size(), x.size());
}

void TestSchemeNumbers::muLawStepsGrowAwayFromZero() {
    const auto x = gaussian(2048, 6);
    const SchemeNumbers m = numbers("mulaw4:tensor", x, 8, 256);
    QCOMPARE(m.levelCount, 16);
    QVERIFY(m.largestStep > 10 * m.smallestStep);
    const SchemeNumbers u = numbers("int4:tensor", x, 8, 256);
    QVERIFY(u.largestStep < 1.0001 * u.smallestStep);
}

QTEST_APPLESS_MAIN(TestSchemeNumbers)
#include "test_scheme_numbers.moc"
