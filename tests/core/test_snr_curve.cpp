// SNR against input amplitude for a fixed-range linear and μ-law quantizer: the textbook
// 6.02 b + 1.76 dB at full scale, 1 dB lost per dB of amplitude on the uniform grid, a nearly flat
// μ-law curve, and the same grid and rounding as the mulaw family.

#include "quant_helpers.h"
#include "teach/snr_curve.h"

#include <QtTest>

#include <cmath>

using namespace qs;
using namespace qs::test;

class TestSnrCurve : public QObject {
    Q_OBJECT
private slots:
    void compressAndExpandAreInverse();
    void fullScaleSineFollowsTheSixDbRule();
    void linearLosesOneDbPerDbMuLawStaysFlat();
    void muLawGridEqualsTheMulawFamily();
};

void TestSnrCurve::compressAndExpandAreInverse() {
    for (double x : {-1.0, -0.3, -0.001, 0.0, 0.02, 0.5, 1.0}) {
        const double y = muLawCompress(x, 255);
        QVERIFY(std::abs(muLawExpand(y, 255) - x) < 1e-12);
    }
    QCOMPARE(muLawCompress(1.0, 255), 1.0);
    // F(0.01) = ln(3.55)/ln(256) = 0.2284...
    QVERIFY(std::abs(muLawCompress(0.01, 255) - std::log(3.55) / std::log(256.0)) < 1e-12);
}

void TestSnrCurve::fullScaleSineFollowsTheSixDbRule() {
    const auto sine = sineShape(4096);
    for (int bits : {6, 8, 10}) {
        const auto pts = snrVersusAmplitude(sine, bits, 255, 0, 0, 1);
        QCOMPARE(pts.size(), std::size_t(1));
        QVERIFY2(std::abs(pts[0].linearDb - fullScaleSineSnrDb(bits)) < 0.6,
                 qPrintable(QStringLiteral("%1 bits: %2 dB").arg(bits).arg(pts[0].linearDb)));
    }
}

void TestSnrCurve::linearLosesOneDbPerDbMuLawStaysFlat() {
    const auto sine = sineShape(4096);
    const auto pts = snrVersusAmplitude(sine, 8, 255, -40, 0, 5); // -40, -30, ..., 0 dBFS
    QCOMPARE(pts.size(), std::size_t(5));
    QCOMPARE(pts[0].amplitudeDb, -40.0);
    // Uniform: 40 dB quieter -> about 40 dB less SNR.
    QVERIFY(std::abs((pts[4].linearDb - pts[0].linearDb) - 40.0) < 3.0);
    // μ-law: within a few dB over the same 40 dB, and better than linear at -40 dBFS.
    QVERIFY(std::abs(pts[4].muLawDb - pts[0].muLawDb) < 6.0);
    QVERIFY(pts[0].muLawDb > pts[0].linearDb + 15.0);
    // ... and worse than linear at full scale: companding spends resolution on small values.
    QVERIFY(pts[4].muLawDb < pts[4].linearDb);
}

void TestSnrCurve::muLawGridEqualsTheMulawFamily() {
    // Data whose absmax is exactly 1, so the family's per-tensor scale is the fixed range.
    auto x = gaussian(2048, 5, 0.2f);
    x[0] = 1.0f;
    for (float& v : x)
        v = std::clamp(v, -1.0f, 1.0f);
    for (int bits : {3, 4, 8}) {
        const QuantOutput q = run("mulaw" + std::to_string(bits) + ":tensor:mu255", x, 1, 2048);
        for (std::size_t i = 0; i < x.size(); ++i)
            QVERIFY(std::abs(quantizeFixedRange(x[i], bits, 255) - q.reconstruction[i]) < 1e-6);
    }
}

QTEST_APPLESS_MAIN(TestSnrCurve)
#include "test_snr_curve.moc"
