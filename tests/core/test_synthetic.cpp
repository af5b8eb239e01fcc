// The lessons' synthetic weights: sample moments near the theoretical ones for a fixed seed,
// reproducibility, outlier injection, and densities that integrate to one.

#include "metrics/distribution_stats.h"
#include "teach/synthetic.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace qs;

Q_DECLARE_METATYPE(qs::Distribution)

namespace {
constexpr std::int64_t kRows = 500, kCols = 400; // 200,000 samples
constexpr double kStdRelTol = 0.01;
constexpr double kMeanTolInStd = 0.01;
} // namespace

class TestSynthetic : public QObject {
    Q_OBJECT
private slots:
    void momentsMatchTheDistribution_data();
    void momentsMatchTheDistribution();
    void sameSeedSameValuesOtherSeedOthers();
    void outliersAreInjectedWithTheirScaleAndLeaveTheBulk();
    void densityIntegratesToOne_data();
    void densityIntegratesToOne();
};

void TestSynthetic::momentsMatchTheDistribution_data() {
    QTest::addColumn<Distribution>("dist");
    QTest::addColumn<double>("kurtosisTol");
    QTest::newRow("gaussian") << Distribution::Gaussian << 0.05;
    QTest::newRow("laplace") << Distribution::Laplace << 0.3;
    QTest::newRow("student_t9") << Distribution::StudentT << 0.4;
    QTest::newRow("uniform") << Distribution::Uniform << 0.03;
    QTest::newRow("bimodal") << Distribution::Bimodal << 0.03;
}

void TestSynthetic::momentsMatchTheDistribution() {
    QFETCH(Distribution, dist);
    QFETCH(double, kurtosisTol);
    SyntheticSpec spec;
    spec.distribution = dist;
    spec.rows = kRows;
    spec.cols = kCols;
    spec.std = 0.5;
    spec.dof = 9; // excess kurtosis 6/5, finite fourth moment of the sample kurtosis
    spec.seed = 7;
    const auto v = generateSynthetic(spec);
    QCOMPARE(v.size(), std::size_t(kRows * kCols));
    const DistributionStats s = computeDistributionStats(v);
    QVERIFY2(std::abs(s.mean) < kMeanTolInStd * spec.std, qPrintable(QString::number(s.mean)));
    QVERIFY2(std::abs(s.std / spec.std - 1.0) < kStdRelTol, qPrintable(QString::number(s.std)));
    const double expected = theoreticalExcessKurtosis(dist, spec.dof);
    QVERIFY2(std::abs(s.kurtosis - expected) < kurtosisTol,
             qPrintable(QStringLiteral("kurtosis %1, expected %2").arg(s.kurtosis).arg(expected)));
    // Symmetric: the skew's standard error is sqrt(m6/sigma^6 / n), about 0.02 for Laplace here.
    QVERIFY2(std::abs(s.skew) < 0.1, qPrintable(QString::number(s.skew)));
    if (dist == Distribution::Uniform)
        QVERIFY(s.absmax <= spec.std * std::sqrt(3.0) + 1e-6);
}

void TestSynthetic::sameSeedSameValuesOtherSeedOthers() {
    SyntheticSpec spec;
    spec.distribution = Distribution::Laplace;
    const auto a = generateSynthetic(spec);
    const auto b = generateSynthetic(spec);
    QVERIFY(a == b);
    spec.seed = 2;
    QVERIFY(generateSynthetic(spec) != a);
}

void TestSynthetic::outliersAreInjectedWithTheirScaleAndLeaveTheBulk() {
    SyntheticSpec spec;
    spec.rows = 32;
    spec.cols = 64;
    spec.std = 0.01;
    const auto clean = generateSynthetic(spec);
    spec.outlierCount = 5;
    spec.outlierScale = 30;
    const auto dirty = generateSynthetic(spec);
    int changed = 0;
    for (std::size_t i = 0; i < clean.size(); ++i) {
        if (clean[i] == dirty[i])
            continue;
        ++changed;
        const double m = std::abs(dirty[i]) / spec.std;
        QVERIFY2(m >= 27.0 - 1e-4 && m <= 33.0 + 1e-4, qPrintable(QString::number(m)));
    }
    QCOMPARE(changed, 5);
    spec.outlierCount = 1 << 20; // more than there are values: every value is an outlier
    const auto all = generateSynthetic(spec);
    QVERIFY(std::all_of(all.begin(), all.end(), [&](float x) { return std::abs(x) > 0.25; }));
}

void TestSynthetic::densityIntegratesToOne_data() {
    QTest::addColumn<Distribution>("dist");
    for (Distribution d : kDistributions)
        QTest::newRow(std::string(distributionName(d)).c_str()) << d;
}

void TestSynthetic::densityIntegratesToOne() {
    QFETCH(Distribution, dist);
    SyntheticSpec spec;
    spec.distribution = dist;
    spec.std = 2.0;
    double sum = 0, second = 0;
    const double h = 0.001;
    for (double x = -200; x <= 200; x += h) {
        const double f = syntheticDensity(spec, x);
        sum += f * h;
        second += x * x * f * h;
    }
    QVERIFY2(std::abs(sum - 1.0) < 2e-3, qPrintable(QString::number(sum)));
    QVERIFY2(std::abs(second / (spec.std * spec.std) - 1.0) < 1e-2,
             qPrintable(QString::number(second)));
}

QTEST_APPLESS_MAIN(TestSynthetic)
#include "test_synthetic.moc"
