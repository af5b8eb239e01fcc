#include "quant/companding_quant.h"

#include "quant_helpers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace qs;
using namespace qs::test;

namespace {

double sse(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return s;
}

// torchaudio mu_law_encoding / decoding for `channels` levels (mu = channels - 1), in double.
double torchaudioMuLaw(double x, int channels) {
    const double mu = channels - 1;
    const double y = std::copysign(std::log1p(mu * std::fabs(x)) / std::log1p(mu), x);
    const auto q = static_cast<long long>((y + 1) / 2 * mu + 0.5);
    const double yq = static_cast<double>(q) / mu * 2 - 1;
    return std::copysign((std::exp(std::fabs(yq) * std::log1p(mu)) - 1) / mu, yq);
}

} // namespace

class TestCompandingQuant : public QObject {
    Q_OBJECT
private slots:
    void mulawEqualsTorchaudioWhenMuIsTheLevelCount();
    void mulawUnitLevelsByHand();
    void zeroIsNotALevelAndRoundsUp();
    void alawUnitLevelsAreOddAndBounded();
    void logLevelsAndTiesToSmallerMagnitude();
    void allZeroGroupReconstructsZero();
    void errorShrinksWithMoreBits_data();
    void errorShrinksWithMoreBits();
    void bitsPerWeight_data();
    void bitsPerWeight();
    void clipMseNeverLosesToMinMax();
    void stochasticRoundingIsSeededAndUnbiased();
    void nanStaysNanAndIsCounted();
    void tableGivesTheSameReconstruction();
};

void TestCompandingQuant::mulawEqualsTorchaudioWhenMuIsTheLevelCount() {
    auto x = gaussian(512, 1);
    float absmax = 0;
    for (float v : x)
        absmax = std::max(absmax, std::fabs(v));
    const auto out = run("mulaw4:mu15", x, 8, 64);
    for (std::size_t i = 0; i < x.size(); ++i)
        QVERIFY(std::fabs(out.reconstruction[i] - torchaudioMuLaw(x[i] / absmax, 16) * absmax) <
                1e-6 * absmax);
}

void TestCompandingQuant::mulawUnitLevelsByHand() {
    // 2 bits: y in {-1, -1/3, 1/3, 1}; (256^(1/3) - 1)/255 = 0.02097884...
    const auto l = compandingUnitLevels(spec("mulaw2"));
    QCOMPARE(l.size(), std::size_t(4));
    QCOMPARE(l[0], -1.0f);
    QVERIFY(std::fabs(l[2] - 0.0209788400f) < 1e-8);
    QCOMPARE(l[1], -l[2]);
    QCOMPARE(l[3], 1.0f);
}

void TestCompandingQuant::zeroIsNotALevelAndRoundsUp() {
    // Midrise: 0 -> (0 + 1)/2 * 15 = 7.5, torchaudio's int(v + 0.5) = 8 -> the first level above 0.
    const auto out = run("mulaw4", {1.0f, 0.0f, -0.0f}, 1, 3);
    const auto l = compandingUnitLevels(spec("mulaw4"));
    QCOMPARE(out.reconstruction[1], l[8]);
    QCOMPARE(out.reconstruction[2], l[8]);
    QVERIFY(l[8] > 0.0f);
    QCOMPARE(out.reconstruction[0], 1.0f);
}

void TestCompandingQuant::alawUnitLevelsAreOddAndBounded() {
    const auto l = compandingUnitLevels(spec("alaw3"));
    QCOMPARE(l.size(), std::size_t(8));
    QCOMPARE(l.front(), -1.0f);
    QCOMPARE(l.back(), 1.0f);
    for (std::size_t i = 0; i < l.size(); ++i)
        QVERIFY(std::fabs(l[i] + l[l.size() - 1 - i]) < 1e-7);
    // y = 1/7 < 1/(1 + ln 87.6): linear segment, x = y (1 + ln A)/A.
    QVERIFY(std::fabs(l[4] - (1.0 / 7) * (1 + std::log(87.6)) / 87.6) < 1e-7);
}

void TestCompandingQuant::logLevelsAndTiesToSmallerMagnitude() {
    QCOMPARE(compandingUnitLevels(spec("log3")),
             (std::vector<float>{-1, -0.5f, -0.25f, 0, 0.25f, 0.5f, 1}));
    QCOMPARE(compandingUnitLevels(spec("log2")), (std::vector<float>{-1, 0, 1}));
    const auto out = run("log3", {2, 1.5f, 1.48f, 0.75f, 0.2f, 0.25f, -1.2f}, 1, 7);
    QCOMPARE(out.reconstruction, (std::vector<float>{2, 1, 1, 0.5f, 0, 0, -1}));
    QCOMPARE(out.levels, (std::vector<float>{-2, -1, -0.5f, 0, 0.5f, 1, 2}));
}

void TestCompandingQuant::allZeroGroupReconstructsZero() {
    for (const char* s : {"mulaw4:g4", "alaw4:g4", "log4:g4"}) {
        const auto out = run(s, {0, 0, 0, 0, 1, -1, 0.5f, 0}, 1, 8);
        for (int i = 0; i < 4; ++i)
            QCOMPARE(out.reconstruction[i], 0.0f);
    }
}

void TestCompandingQuant::errorShrinksWithMoreBits_data() {
    QTest::addColumn<QString>("family");
    QTest::newRow("mulaw") << "mulaw";
    QTest::newRow("alaw") << "alaw";
    QTest::newRow("log") << "log";
}

void TestCompandingQuant::errorShrinksWithMoreBits() {
    QFETCH(QString, family);
    const auto x = gaussian(4096, 3);
    double prev = INFINITY;
    for (int b = 2; b <= 8; ++b) {
        const std::string s = family.toStdString() + std::to_string(b) + ":channel";
        const double e = sse(run(s.c_str(), x, 16, 256).reconstruction, x);
        // log saturates: its levels stop improving once they are finer than the data.
        if (family == "log" && b > 5)
            QVERIFY(e <= prev * 1.0001);
        else
            QVERIFY2(e < prev, s.c_str());
        prev = e;
    }
}

void TestCompandingQuant::bitsPerWeight_data() {
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<double>("bpw");
    QTest::newRow("mulaw4 tensor") << "mulaw4" << 4.0 + 16.0 / 512;
    QTest::newRow("mulaw4:g64") << "mulaw4:g64" << 4.25;
    QTest::newRow("alaw8:channel") << "alaw8:channel" << 8.0 + 16.0 / 128;
    QTest::newRow("log3:g32") << "log3:g32" << 3.5;
}

void TestCompandingQuant::bitsPerWeight() {
    QFETCH(QString, scheme);
    QFETCH(double, bpw);
    const auto x = gaussian(512, 5);
    QCOMPARE(run(scheme.toUtf8().constData(), x, 4, 128).cost.bitsPerWeight(), bpw);
}

void TestCompandingQuant::clipMseNeverLosesToMinMax() {
    auto x = gaussian(2048, 9);
    x[17] = 0.5f; // an outlier that minmax must cover
    for (const char* fam : {"mulaw4", "log4"}) {
        const std::string mm = std::string(fam) + ":channel";
        const std::string ms = mm + ":clip=mse";
        QVERIFY(sse(run(ms.c_str(), x, 8, 256).reconstruction, x) <=
                sse(run(mm.c_str(), x, 8, 256).reconstruction, x));
    }
}

void TestCompandingQuant::stochasticRoundingIsSeededAndUnbiased() {
    std::vector<float> x(20000, 0.3f);
    x[0] = 1.0f;
    const auto a = run("mulaw3:round=stochastic:seed=4", x, 1, 20000);
    const auto b = run("mulaw3:round=stochastic:seed=4", x, 1, 20000);
    const auto c = run("mulaw3:round=stochastic:seed=5", x, 1, 20000);
    QCOMPARE(a.reconstruction, b.reconstruction);
    QVERIFY(a.reconstruction != c.reconstruction);
    // Unbiased in the companded domain: the mean of the index is (y + 1)/2 * 7.
    const auto l = compandingUnitLevels(spec("mulaw3"));
    double meanIdx = 0;
    for (std::size_t i = 1; i < x.size(); ++i)
        meanIdx += std::find(l.begin(), l.end(), a.reconstruction[i]) - l.begin();
    meanIdx /= double(x.size() - 1);
    const double y = std::log1p(255 * 0.3) / std::log1p(255.0);
    QVERIFY(std::fabs(meanIdx - (y + 1) / 2 * 7) < 0.02);
}

void TestCompandingQuant::nanStaysNanAndIsCounted() {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const auto out = run("mulaw4", {0.5f, nan, -inf, 1.0f}, 1, 4);
    QVERIFY(std::isnan(out.reconstruction[1]));
    QCOMPARE(out.reconstruction[2], -1.0f); // -Inf: the extreme level of the finite absmax
    QCOMPARE(out.reconstruction[3], 1.0f);
    QCOMPARE(out.diagnostics.size(), std::size_t(1));
    QCOMPARE(out.diagnostics[0].key, std::string("nonfinite_inputs"));
    QCOMPARE(out.diagnostics[0].value, 2.0);
}

// The threshold table reconstructs what the law does, on every float within a few ulps of each
// threshold (t = x / absmax, absmax 1.7) and on random values; levels are the unit levels.
void TestCompandingQuant::tableGivesTheSameReconstruction() {
    QVERIFY(!compandingTable(spec("log4")).has_value());
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> uniform(-1.7f, 1.7f);
    for (const char* name :
         {"mulaw2", "mulaw4", "mulaw8", "mulaw4:mu15", "alaw3", "alaw4", "alaw8"}) {
        const Scheme s = spec(name);
        const auto table = compandingTable(s);
        QVERIFY(table.has_value());
        const std::size_t q = (std::size_t{1} << s.bits) - 1;
        QCOMPARE(table->thresholds.size(), q);
        QCOMPARE(table->levels.size(), q + 1);
        QVERIFY(std::is_sorted(table->thresholds.begin(), table->thresholds.end()));
        QVERIFY(table->levels == compandingUnitLevels(s));
        for (std::size_t k = 1; k <= q; ++k) { // each threshold the first double of its code
            const double th = table->thresholds[k - 1];
            QVERIFY(compandingCode(s, th) >= static_cast<int>(k));
            if (th > -1.0)
                QVERIFY(compandingCode(s, std::nextafter(th, -2.0)) < static_cast<int>(k));
        }
        const float absmax = 1.7f;
        std::vector<float> x{absmax};
        for (double th : table->thresholds) {
            float f = static_cast<float>(th * absmax);
            for (int i = 0; i < 4; ++i)
                f = std::nextafter(f, -2.0f);
            for (int i = 0; i < 9; ++i, f = std::nextafter(f, 2.0f))
                if (std::fabs(f) <= absmax)
                    x.push_back(f);
        }
        for (int i = 0; i < 20000; ++i)
            x.push_back(uniform(rng));
        auto plain = quantize(s, MatrixView{x.data(), 1, static_cast<std::int64_t>(x.size())});
        QVERIFY(plain.ok());
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double t = std::clamp(static_cast<double>(x[i]) / absmax, -1.0, 1.0);
            const auto code = static_cast<std::size_t>(
                std::upper_bound(table->thresholds.begin(), table->thresholds.end(), t) -
                table->thresholds.begin());
            QCOMPARE(table->levels[code] * absmax, plain->reconstruction[i]);
        }
    }
}

QTEST_APPLESS_MAIN(TestCompandingQuant)
#include "test_companding_quant.moc"
