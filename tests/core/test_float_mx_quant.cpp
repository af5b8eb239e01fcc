#include "quant/float_quant.h"
#include "quant/mx_quant.h"
#include "tensor/dtype.h"

#include "quant_helpers.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

using namespace qs;
using namespace qs::test;

namespace {

// Nearest E4M3 value by brute force over the decoder's table, ties to the even code, saturating.
float bruteE4M3(float x) {
    x = std::clamp(x, -448.0f, 448.0f);
    int best = -1;
    for (int c = 0; c < 256; ++c) {
        const float v = fp8E4M3ToFloat(static_cast<std::uint8_t>(c));
        if (std::isnan(v))
            continue;
        if (best < 0) {
            best = c;
            continue;
        }
        const float bv = fp8E4M3ToFloat(static_cast<std::uint8_t>(best));
        const float d = std::fabs(x - v), bd = std::fabs(x - bv);
        if (d < bd || (d == bd && (c & 1) == 0 && (best & 1) == 1))
            best = c;
    }
    return fp8E4M3ToFloat(static_cast<std::uint8_t>(best));
}

// compressed-tensors cast_to_fp4 intervals (RNE on the E2M1 grid), saturating at 6.
float ctFp4(float x) {
    const float a = std::fabs(x);
    const float v = a <= 0.25f   ? 0.0f
                    : a < 0.75f  ? 0.5f
                    : a <= 1.25f ? 1.0f
                    : a < 1.75f  ? 1.5f
                    : a <= 2.5f  ? 2.0f
                    : a < 3.5f   ? 3.0f
                    : a <= 5.0f  ? 4.0f
                                 : 6.0f;
    return std::copysign(v, x);
}

double diag(const QuantOutput& o, const std::string& key) {
    for (const auto& d : o.diagnostics)
        if (d.key == key)
            return d.value;
    return -1;
}

std::vector<float> blockWith(float first, float rest, int n = 32) {
    std::vector<float> v(std::size_t(n), rest);
    v[0] = first;
    return v;
}

} // namespace

class TestFloatMxQuant : public QObject {
    Q_OBJECT
private slots:
    void fp8ChannelIsTorchaosCast();
    void fp4ChannelByHand();
    void fp8E5M2TensorScale();
    void floatElementBitsPerWeight_data();
    void floatElementBitsPerWeight();
    void mxfp4ScaleModes_data();
    void mxfp4ScaleModes();
    void mxfp8AndMxint8Scales();
    void mxZeroAndFlushedBlocks();
    void mxNonFiniteBlockIsNan();
    void shortLastBlockIsPadded();
    void nvfp4MatchesTorchaoDefinition();
    void nvfp4FlushesTinyBlocks();
    void mxBitsPerWeight_data();
    void mxBitsPerWeight();
    void unitLevelsAreTheElementValues();
    void stochasticMxIsSeeded();
};

void TestFloatMxQuant::fp8ChannelIsTorchaosCast() {
    const auto x = gaussian(16 * 96, 1);
    const auto out = run("fp8_e4m3:channel", x, 16, 96);
    for (int r = 0; r < 16; ++r) {
        float amax = 0;
        for (int c = 0; c < 96; ++c)
            amax = std::max(amax, std::fabs(x[std::size_t(r * 96 + c)]));
        const float scale = amax / 448.0f;
        for (int c = 0; c < 96; ++c) {
            const auto i = std::size_t(r * 96 + c);
            QCOMPARE(out.reconstruction[i], bruteE4M3(x[i] / scale) * scale);
        }
    }
}

void TestFloatMxQuant::fp4ChannelByHand() {
    // Row 0: absmax 6 -> scale 1: 3 -> 3, 1.25 -> 1 (tie to even), -0.25 -> -0 (tie to even).
    // Row 1: scale 1/6: x/scale = 6, -3, 3.75 -> 4, 1.2 -> 1.
    const auto out = run("fp4", {6, 3, 1.25f, -0.25f, 1, -0.5f, 0.625f, 0.2f}, 2, 4);
    const float s = 1.0f / 6.0f;
    QCOMPARE(out.reconstruction, (std::vector<float>{6, 3, 1, -0.0f, 6 * s, -3 * s, 4 * s, s}));
}

void TestFloatMxQuant::fp8E5M2TensorScale() {
    const auto x = gaussian(256, 2);
    const auto out = run("fp8_e5m2:tensor", x, 4, 64);
    float amax = 0;
    for (float v : x)
        amax = std::max(amax, std::fabs(v));
    QCOMPARE(out.levels.back(), 57344.0f * (amax / 57344.0f));
    QCOMPARE(out.cost.bitsPerWeight(), 8.0 + 32.0 / 256);
}

void TestFloatMxQuant::floatElementBitsPerWeight_data() {
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<double>("bpw");
    QTest::newRow("fp8_e4m3:channel") << "fp8_e4m3" << 8.0 + 32.0 / 128;
    QTest::newRow("fp4:g32") << "fp4:g32" << 5.0;
    QTest::newRow("fp6_e2m3:g64") << "fp6_e2m3:g64" << 6.5;
}

void TestFloatMxQuant::floatElementBitsPerWeight() {
    QFETCH(QString, scheme);
    QFETCH(double, bpw);
    QCOMPARE(run(scheme.toUtf8().constData(), gaussian(512, 3), 4, 128).cost.bitsPerWeight(), bpw);
}

void TestFloatMxQuant::mxfp4ScaleModes_data() {
    QTest::addColumn<QString>("rule");
    QTest::addColumn<float>("amax");
    QTest::addColumn<int>("exponent"); // biased E8M0
    QTest::addColumn<float>("first");  // reconstruction of the amax element
    QTest::addColumn<bool>("saturated");
    // floor: exponent field of amax - 2. 6.5 and 7.9 exceed 6 * 2^0 and saturate.
    QTest::newRow("floor 6.0") << "floor" << 6.0f << 127 << 6.0f << false;
    QTest::newRow("floor 6.5") << "floor" << 6.5f << 127 << 6.0f << true;
    QTest::newRow("floor 7.9") << "floor" << 7.9f << 127 << 6.0f << true;
    // ceil: +1 whenever amax's mantissa is not zero (6 = 1.5 * 4 has one).
    QTest::newRow("ceil 6.0") << "ceil" << 6.0f << 128 << 6.0f << false;
    QTest::newRow("ceil 6.5") << "ceil" << 6.5f << 128 << 6.0f << false;
    QTest::newRow("ceil 7.9") << "ceil" << 7.9f << 128 << 8.0f << false;
    // even: amax rounded to E2M1's 1 mantissa bit first: 6 -> 6, 6.5 -> 6, 7.9 -> 8.
    QTest::newRow("even 6.0") << "even" << 6.0f << 127 << 6.0f << false;
    QTest::newRow("even 6.5") << "even" << 6.5f << 127 << 6.0f << true;
    QTest::newRow("even 7.9") << "even" << 7.9f << 128 << 8.0f << false;
    // rceil: 2^ceil(log2(amax / 6)).
    QTest::newRow("rceil 6.0") << "rceil" << 6.0f << 127 << 6.0f << false;
    QTest::newRow("rceil 6.5") << "rceil" << 6.5f << 128 << 6.0f << false;
    QTest::newRow("rceil 7.9") << "rceil" << 7.9f << 128 << 8.0f << false;
}

void TestFloatMxQuant::mxfp4ScaleModes() {
    QFETCH(QString, rule);
    QFETCH(float, amax);
    QFETCH(int, exponent);
    QFETCH(float, first);
    QFETCH(bool, saturated);
    const std::string s = "mxfp4:scale=" + rule.toStdString();
    QCOMPARE(int(mxScaleExponent(spec(s.c_str()), amax)), exponent);
    const auto out = run(s.c_str(), blockWith(amax, 1.0f), 1, 32);
    QCOMPARE(out.reconstruction[0], first);
    QCOMPARE(out.reconstruction[1], 1.0f);
    QCOMPARE(diag(out, "saturated_blocks"), saturated ? 1.0 : 0.0);
}

void TestFloatMxQuant::mxfp8AndMxint8Scales() {
    QCOMPARE(int(mxScaleExponent(spec("mxfp8_e4m3"), 448.0f)), 127);
    QCOMPARE(int(mxScaleExponent(spec("mxfp8_e5m2"), 57344.0f)), 127);
    QCOMPARE(int(mxScaleExponent(spec("mxfp6_e3m2"), 28.0f)), 127);
    QCOMPARE(int(mxScaleExponent(spec("mxint8"), 1.0f)), 127);
    // MXINT8: 1.99 / 1 -> 127/64 (saturated), 0.5 -> 32/64; E8M0 2^0.
    const auto out = run("mxint8", blockWith(1.99f, 0.5f), 1, 32);
    QCOMPARE(out.reconstruction[0], 127.0f / 64);
    QCOMPARE(out.reconstruction[1], 0.5f);
    QCOMPARE(diag(out, "saturated_blocks"), 1.0);
    const auto e4 = run("mxfp8_e4m3", blockWith(448.0f * 4, 3.3f), 1, 32); // X = 4
    QCOMPARE(e4.reconstruction[0], 1792.0f);
    QCOMPARE(e4.reconstruction[1], bruteE4M3(3.3f / 4) * 4);
}

void TestFloatMxQuant::mxZeroAndFlushedBlocks() {
    // An all-zero block: amax 0 -> E8M0 0 (2^-127), reconstructs 0, not "flushed".
    std::vector<float> x(64, 0.0f);
    // A block of fp32 subnormals: the scale bottoms out at 2^-127 and 1e-39 / 2^-127 = 0.17 -> 0.
    for (int i = 32; i < 64; ++i)
        x[std::size_t(i)] = 1e-39f;
    const auto out = run("mxfp4", x, 1, 64);
    QCOMPARE(int(mxScaleExponent(spec("mxfp4"), 0.0f)), 0);
    QCOMPARE(out.reconstruction[40], 0.0f);
    QCOMPARE(diag(out, "flushed_blocks"), 1.0);
    QCOMPARE(diag(out, "saturated_blocks"), 0.0);
}

void TestFloatMxQuant::mxNonFiniteBlockIsNan() {
    std::vector<float> x(64, 1.0f);
    x[3] = std::numeric_limits<float>::infinity();
    const auto out = run("mxfp4", x, 1, 64);
    QVERIFY(std::isnan(out.reconstruction[0]));
    QVERIFY(std::isnan(out.reconstruction[31]));
    QCOMPARE(out.reconstruction[32], 1.0f);
    QCOMPARE(diag(out, "nan_blocks"), 1.0);
}

void TestFloatMxQuant::shortLastBlockIsPadded() {
    const auto x = gaussian(40, 5, 1.0f);
    const auto full = run("mxfp4", x, 1, 40);
    const std::vector<float> tail(x.begin() + 32, x.end());
    const auto alone = run("mxfp4", tail, 1, 8);
    for (int i = 0; i < 8; ++i)
        QCOMPARE(full.reconstruction[std::size_t(32 + i)], alone.reconstruction[std::size_t(i)]);
    QCOMPARE(full.cost.payloadBits, std::uint64_t(64 * 4)); // two padded blocks of 32
    QCOMPARE(full.cost.scaleBits, std::uint64_t(16));
}

void TestFloatMxQuant::nvfp4MatchesTorchaoDefinition() {
    auto x = gaussian(8 * 64, 6);
    x[100] = 0.3f; // one block dominates the tensor scale
    const auto out = run("nvfp4", x, 8, 64);
    float amax = 0;
    for (float v : x)
        amax = std::max(amax, std::fabs(v));
    const float pts = amax / 2688.0f;
    for (std::size_t b = 0; b < x.size() / 16; ++b) {
        float bmax = 0;
        for (std::size_t k = 0; k < 16; ++k)
            bmax = std::max(bmax, std::fabs(x[b * 16 + k]));
        const float s8 = bruteE4M3(std::clamp(bmax / 6.0f / pts, 0.015625f, 448.0f));
        const float total = pts * s8;
        for (std::size_t k = 0; k < 16; ++k) {
            const std::size_t i = b * 16 + k;
            QCOMPARE(out.reconstruction[i], ctFp4(std::clamp(x[i] / total, -6.0f, 6.0f)) * total);
        }
    }
}

void TestFloatMxQuant::nvfp4FlushesTinyBlocks() {
    std::vector<float> x(32, 1e-4f);
    x[0] = 1000.0f;
    for (int i = 0; i < 16; ++i)
        x[std::size_t(i)] = 1000.0f;
    const auto out = run("nvfp4", x, 1, 32);
    QCOMPARE(out.reconstruction[20], 0.0f);
    QCOMPARE(diag(out, "flushed_blocks"), 1.0);
    QCOMPARE(out.reconstruction[0], 1000.0f);
    const auto zero = run("nvfp4", std::vector<float>(32, 0.0f), 1, 32);
    QCOMPARE(zero.reconstruction, std::vector<float>(32, 0.0f));
}

void TestFloatMxQuant::mxBitsPerWeight_data() {
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<double>("bpw");
    QTest::newRow("mxfp4") << "mxfp4" << 4.25;
    QTest::newRow("mxfp6_e3m2") << "mxfp6_e3m2" << 6.25;
    QTest::newRow("mxfp8_e4m3") << "mxfp8_e4m3" << 8.25;
    QTest::newRow("mxint8") << "mxint8" << 8.25;
    QTest::newRow("nvfp4") << "nvfp4" << 4.5 + 32.0 / 512;
}

void TestFloatMxQuant::mxBitsPerWeight() {
    QFETCH(QString, scheme);
    QFETCH(double, bpw);
    QCOMPARE(run(scheme.toUtf8().constData(), gaussian(512, 7), 4, 128).cost.bitsPerWeight(), bpw);
}

void TestFloatMxQuant::unitLevelsAreTheElementValues() {
    const std::vector<float> e2m1{-6, -4, -3, -2, -1.5f, -1, -0.5f, 0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    QCOMPARE(*unitLevels(spec("mxfp4")), e2m1);
    QCOMPARE(*unitLevels(spec("nvfp4")), e2m1);
    QCOMPARE(*unitLevels(spec("fp4")), e2m1);
    QCOMPARE(unitLevels(spec("fp8_e4m3"))->back(), 448.0f);
    QCOMPARE(unitLevels(spec("mxint8"))->size(), std::size_t(255));
}

void TestFloatMxQuant::stochasticMxIsSeeded() {
    const auto x = gaussian(256, 8);
    const auto a = run("mxfp4:round=stochastic:seed=1", x, 2, 128);
    const auto b = run("mxfp4:round=stochastic:seed=1", x, 2, 128);
    const auto n = run("mxfp4", x, 2, 128);
    QCOMPARE(a.reconstruction, b.reconstruction);
    QVERIFY(a.reconstruction != n.reconstruction);
}

QTEST_APPLESS_MAIN(TestFloatMxQuant)
#include "test_float_mx_quant.moc"
