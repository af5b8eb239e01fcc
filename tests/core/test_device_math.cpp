// The CUDA kernels' arithmetic (cuda/device_math.h, device_hqq.h, device_plan.h), run group by
// group on the host exactly as a kernel runs it, against the CPU quantizers: every reconstruction
// bit, the levels, note, cost and diagnostics. This runs on every machine, with or without a GPU;
// test_cuda_engine then checks the kernels' loops on a device.
#include "cuda/device_plan.h"
#include "device_emulation.h"
#include "quant/ggml_blocks.h"
#include "quant/ggml_search.h"
#include "quant/group_quant.h"
#include "quant/normal_float.h"

#include "quant_helpers.h"
#include "tensor/dtype.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>

using namespace qs;
using namespace qs::test;

namespace {

std::vector<float> hardWeights(std::int64_t rows, std::int64_t cols, unsigned seed, float sd) {
    auto w = gaussian(static_cast<std::size_t>(rows * cols), seed, sd);
    // Ties at half steps, a zero row, a constant stretch, tiny and huge values, -0.
    for (std::int64_t k = 0; k < std::min<std::int64_t>(cols, 16); ++k)
        w[static_cast<std::size_t>(k)] = 0.25f * static_cast<float>(k) - 2.0f;
    if (rows > 3) {
        for (std::int64_t c = 0; c < cols; ++c) {
            w[static_cast<std::size_t>(cols + c)] = 0.0f;
            w[static_cast<std::size_t>(2 * cols + c)] = c % 2 ? 1e-30f : -0.0f;
            w[static_cast<std::size_t>(3 * cols + c)] = c < 40 ? 0.5f : w[3 * cols + c];
        }
    }
    w[w.size() / 2] = 37.0f * sd;
    w.back() = -0.0f;
    return w;
}

Scheme parseScheme(const std::string& spec) {
    auto s = Scheme::parse(spec);
    if (!s)
        qFatal("bad spec %s: %s", spec.c_str(), s.message().c_str());
    return *s;
}

bool sameBits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

// Equal, NaN standing for NaN (huge weights overflow a K-quant's sums into NaN levels).
bool sameLevels(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))))
            return false;
    return true;
}

} // namespace

class TestDeviceMath : public QObject {
    Q_OBJECT
private slots:
    void inputDecodersAreExact();
    void halfEncoderIsExact();
    void roundingHelpers();
    void divisionThroughTheReciprocal();
    void nfBucketsFindTheNearestLevel();
    void leanFormsEqualTheCpuForms();
    void hqqShrinkSkipsOnlyZeros();
    void searchHelpersMatchGgml();
    void matchesTheCpuQuantizers_data();
    void matchesTheCpuQuantizers();
    void allZeroTensors();
    void coversWhatItClaims();
};

void TestDeviceMath::inputDecodersAreExact() {
    for (std::uint32_t h = 0; h < 65536; ++h) {
        const float a = dev::f16ToFloat(static_cast<std::uint16_t>(h));
        const float b = halfToFloat(static_cast<std::uint16_t>(h));
        QVERIFY2(sameBits(a, b) || (std::isnan(a) && std::isnan(b)),
                 qPrintable(QString::number(h)));
        const float c = dev::bf16ToFloat(static_cast<std::uint16_t>(h));
        const float d = bf16ToFloat(static_cast<std::uint16_t>(h));
        QVERIFY(sameBits(c, d) || (std::isnan(c) && std::isnan(d)));
    }
}

void TestDeviceMath::halfEncoderIsExact() {
    std::uint32_t u = 0;
    for (int i = 0; i < (1 << 22); ++i, u += 1021u) { // a stride through every exponent
        float f;
        std::memcpy(&f, &u, sizeof f);
        QCOMPARE(dev::floatToHalf(f), floatToHalf(f));
    }
    for (float f : {65504.0f, 65519.99f, 65520.0f, 6.1035156e-05f, 5.9604645e-08f, 2.9802322e-08f,
                    2.9802326e-08f, -0.0f, 0.0f})
        QCOMPARE(dev::floatToHalf(f), floatToHalf(f));
}

void TestDeviceMath::roundingHelpers() {
    for (float t : {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 1e7f, -3e9f, 8388607.5f,
                    -0.0f, 0.0f, 4194303.5f})
        QVERIFY2(sameBits(dev::rne(t), std::nearbyint(t)), qPrintable(QString::number(t)));
    for (int k = -127; k <= 127; ++k)
        QCOMPARE(dev::pow2(k), std::ldexp(1.0f, k));
    QCOMPARE(dev::widestIndex(dev::widestKey(3.5f, 17)), 17u);
    QVERIFY(dev::widestKey(2.0f, 5) > dev::widestKey(2.0f, 9)); // first of equals
    QVERIFY(dev::widestKey(2.0f, 9) > dev::widestKey(1.0f, 0));
}

// divRn (a product with the reciprocal and two Markstein corrections, the kernels' division)
// against the division, bit for bit: random quotients over the whole safe range of divisors,
// quotients next to every half-integer code boundary (where a last-bit error would change a
// code), signed zeros. Numerators under 2^-100 may be an ulp off, with a quotient under 2^-40:
// checked to be within that ulp, and so coded 0.
void TestDeviceMath::divisionThroughTheReciprocal() {
    std::mt19937 gen(12345);
    std::uniform_int_distribution<std::uint32_t> mant(0, 0x7FFFFF);
    std::uniform_int_distribution<int> expo(-60, 59);
    std::uniform_real_distribution<float> code(-300.0f, 300.0f);
    auto randomDivisor = [&] {
        return std::ldexp(1.0f + static_cast<float>(mant(gen)) * 0x1p-23f, expo(gen));
    };
    auto check = [&](float x, float s) {
        const float inv = dev::safeReciprocal(s);
        QVERIFY(inv != 0.0f);
        const float got = dev::divRn(x, s, inv), want = x / s;
        if (!sameBits(got, want))
            QFAIL(qPrintable(QString("%1 / %2: %3, division %4")
                                 .arg(double(x), 0, 'g', 9)
                                 .arg(double(s), 0, 'g', 9)
                                 .arg(double(got), 0, 'g', 9)
                                 .arg(double(want), 0, 'g', 9)));
    };
    for (int i = 0; i < 2000000; ++i) {
        const float s = randomDivisor();
        check(code(gen) * s, s);
        // anything else whose quotient stays below 2^64 and numerator above 2^-100
        check(std::ldexp(1.0f + static_cast<float>(mant(gen)) * 0x1p-23f,
                         std::clamp(expo(gen) + std::ilogb(s), -100, 127)) *
                  (i % 2 ? 1.0f : -1.0f),
              s);
        // numerators below 2^-100 (subnormals too)
        const float tiny = std::ldexp(static_cast<float>(mant(gen)) * 0x1p-23f, -100 - (i % 50)) *
                           (i % 3 ? 1.0f : -1.0f);
        const float q = dev::divRn(tiny, s, dev::safeReciprocal(s)), want = tiny / s;
        QVERIFY(std::fabs(q) < 0x1p-40f && std::signbit(q) == std::signbit(want));
        QVERIFY(q == want || std::nextafter(q, INFINITY) == want ||
                std::nextafter(q, -INFINITY) == want);
    }
    for (int k = -260; k <= 260; ++k)
        for (int j = 0; j < 200; ++j) {
            const float s = randomDivisor();
            float x = (static_cast<float>(k) + 0.5f) * s; // the nearest float to the boundary
            for (int u = 0; u < 3; ++u)
                x = std::nextafter(x, -INFINITY);
            for (int u = 0; u < 7; ++u, x = std::nextafter(x, INFINITY))
                check(x, s);
        }
    for (float s : {1.0f, 3.0f, 0x1p-60f, 0x1p60f, 7.1e-3f})
        for (float x : {0.0f, -0.0f, 0x1p-100f, -0x1p-100f, 1.5f * s, -3.4e38f / 0x1p70f})
            check(x, s);
    QVERIFY(!dev::divisorIsSafe(0x1p-61f) && !dev::divisorIsSafe(0x1p61f) &&
            !dev::divisorIsSafe(0.0f));
    QVERIFY(dev::divisorIsSafe(0x1p-60f) && dev::divisorIsSafe(0x1p60f));
    QCOMPARE(dev::safeReciprocal(0x1p-61f), 0.0f); // the families then divide
}

// NfFam::rec's bucket table against counting every midpoint below t, for each NF codebook: at
// every midpoint and bucket edge and a few ulps around them, and at random.
void TestDeviceMath::nfBucketsFindTheNearestLevel() {
    std::mt19937 gen(7);
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    for (int k = 2; k <= 8; ++k) {
        const std::vector<float> levels = normalFloatCodebook(k);
        const std::vector<float> mids = levelMidpoints(levels);
        std::vector<unsigned char> table(dev::kNfBuckets + 1);
        const int count = static_cast<int>(levels.size());
        QVERIFY(dev::nfBucketTable(mids.data(), count, table.data())); // one compare suffices
        dev::NfFam nf;
        nf.count = count;
        nf.levels = levels.data();
        std::vector<float> padded(levels.size() + 1);
        dev::nfPaddedMidpoints(mids.data(), count, padded.data());
        nf.midpoints = padded.data();
        nf.buckets = table.data();
        const auto g = nf.group(-1.0f, 1.0f);
        QCOMPARE(g.inv, 1.0f);
        auto check = [&](float t) {
            t = std::clamp(t, -1.0f, 1.0f);
            int below = 0;
            for (float m : mids)
                below += t > m ? 1 : 0;
            unsigned flags = 0;
            if (!sameBits(nf.rec(g, t, flags), levels[static_cast<std::size_t>(below)]))
                QFAIL(qPrintable(QString("nf%1 at %2").arg(k).arg(double(t), 0, 'g', 9)));
        };
        std::vector<float> points(mids);
        for (int b = 0; b <= dev::kNfBuckets; ++b)
            points.push_back(-1.0f + 2.0f * static_cast<float>(b) / dev::kNfBuckets);
        for (float p : points) {
            float t = p;
            for (int u = 0; u < 4; ++u)
                t = std::nextafter(t, -INFINITY);
            for (int u = 0; u < 9; ++u, t = std::nextafter(t, INFINITY))
                check(t);
        }
        for (int i = 0; i < 200000; ++i)
            check(uni(gen));
        check(0.0f);
        check(-0.0f);
    }
}

// The kernels' forms (deviceRecAs: recAs) against the forms the CPU's vectorised loops use:
// element rounding for every element format on a stride through all floats up to its largest
// normal, and Q8_0's roundf without conversions at every half code.
void TestDeviceMath::leanFormsEqualTheCpuForms() {
    for (const char* spec : {"fp4", "fp6_e2m3", "fp6_e3m2", "fp8_e4m3", "fp8_e5m2", "mxint8"}) {
        const auto plan = devicePlanFor(*Scheme::parse(spec), 1, 32);
        QVERIFY(plan);
        const dev::ElementSpec e =
            plan->family == DeviceFamily::Fp ? plan->fpFam.elem : plan->mxFam.elem;
        const std::uint32_t top = dev::asBits(e.maxNormal);
        for (std::uint32_t u = 0; u <= top; u += (u < 0x800000u ? 4099u : 97u))
            for (std::uint32_t sign : {0u, 0x80000000u}) {
                const float c = dev::asFloat(u | sign);
                if (!sameBits(dev::roundToElementLean(e, c), dev::roundToElement(e, c)))
                    QFAIL(qPrintable(QString("%1 at %2").arg(spec).arg(double(c), 0, 'g', 9)));
            }
    }
    dev::Q8Fam q8;
    const auto g = q8.group(-127.0f, 1.0f); // d = 1: the value is its own code
    QCOMPARE(g.id, 1.0f);
    for (int k = -128; k <= 127; ++k) {
        float x = static_cast<float>(k) + 0.5f;
        for (int u = 0; u < 3; ++u)
            x = std::nextafter(x, -INFINITY);
        for (int u = 0; u < 7; ++u, x = std::nextafter(x, INFINITY)) {
            unsigned f = 0;
            QVERIFY2(sameBits(q8.recAs<false>(g, x, f), q8.rec(g, x, f)),
                     qPrintable(QString::number(double(x), 'g', 9)));
        }
    }
    for (float x : {0.0f, -0.0f, 1e-45f, -1e-45f, 0.49999997f, -0.49999997f}) {
        unsigned f = 0;
        QVERIFY(sameBits(q8.recAs<false>(g, x, f), q8.rec(g, x, f)));
    }
}

// The K-quant and IQ4 searches' helpers against the CPU's (ggml's): nearest_int on halves and
// large values, best_index_int8 on every value and midpoint of the IQ4 code book (ties go up).
void TestDeviceMath::searchHelpersMatchGgml() {
    for (float f : {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 4194303.0f, -4194303.0f, 3.49999976f, 0.0f,
                    -0.0f, 1e-30f, 123456.5f})
        QCOMPARE(dev::nearestIntBits(f), ggml::nearestInt(f));
    const auto* v = reinterpret_cast<const signed char*>(qs::kIq4nlValues);
    std::vector<float> xs{-1e9f, 1e9f, 0.0f};
    for (int i = 0; i < 16; ++i) {
        xs.push_back(v[i]);
        if (i + 1 < 16) {
            xs.push_back(0.5f * static_cast<float>(v[i] + v[i + 1]));
            xs.push_back(std::nextafter(0.5f * static_cast<float>(v[i] + v[i + 1]), 0.0f));
        }
    }
    for (float x : xs)
        QCOMPARE(dev::bestIndexInt8(16, v, x), ggml::bestIndexInt8(16, qs::kIq4nlValues, x));
    // The vectorised form, on the same values (each side of every midpoint too), beyond the
    // ends, NaN and infinities, with a scale that is not 1.
    const std::size_t plain = xs.size();
    for (std::size_t i = 0; i < plain; ++i) {
        xs.push_back(std::nextafter(xs[i], 1e30f));
        xs.push_back(std::nextafter(xs[i], -1e30f));
    }
    for (float x : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity(), -128.0f, 127.0f, 114.0f})
        xs.push_back(x);
    for (float id : {1.0f, 0.37f, -2.5f}) {
        std::vector<float> x(xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i)
            x[i] = xs[i] / id;
        std::vector<std::uint8_t> got(xs.size());
        ggml::bestIndicesInt8(qs::kIq4nlValues, id, x.data(), static_cast<int>(x.size()),
                              got.data());
        for (std::size_t i = 0; i < x.size(); ++i)
            QCOMPARE(int(got[i]), ggml::bestIndexInt8(16, qs::kIq4nlValues, id * x[i]));
    }
}

// The shrink's shortcut (|e| under zeroBelow is 0 without the power) changes no result: a
// stride through all floats and the 2^17 just below zeroBelow, both signs, at each beta the
// solver reaches (and further), against the full formula.
void TestDeviceMath::hqqShrinkSkipsOnlyZeros() {
    float beta = 10.0f;
    for (int i = 0; i < 40; ++i, beta *= 1.01f) {
        const dev::HqqStepSettings fast = dev::hqqStepSettings(15.0f, beta, 0.7f);
        dev::HqqStepSettings full = fast;
        full.zeroBelow = 0.0f;
        QVERIFY(fast.zeroBelow > 0.1f && fast.zeroBelow < 0.2f);
        QVERIFY(dev::hqqShrink(fast.zeroBelow * 1.02f, full) != 0.0f); // 1 % above the root
        float wrong = 0; // the first value where they differ
        auto check = [&](std::uint32_t u) {
            const float a = dev::asFloat(u);
            for (float x : {a, -a})
                if (wrong == 0 && !sameBits(dev::hqqShrink(x, fast), dev::hqqShrink(x, full)))
                    wrong = x;
        };
        for (std::uint32_t u = 1 + i; u < 0x7F800000u; u += 9973) // all magnitudes
            check(u);
        const std::uint32_t edge = dev::asBits(fast.zeroBelow); // the 2^17 floats below it
        for (std::uint32_t u = edge - (1u << 17); u <= edge; ++u)
            check(u);
        QVERIFY2(wrong == 0, qPrintable(QString::number(double(wrong), 'g', 9)));
    }
}

void TestDeviceMath::matchesTheCpuQuantizers_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<float>("sd");
    const char* specs[] = {"int4:g128",
                           "int4:g128:sym",
                           "int8:channel",
                           "int3:g64:sym:range=full",
                           "int2:g32",
                           "int4",
                           "int4:sym",
                           "int8:g100",
                           "nf4:g64",
                           "nf4:channel",
                           "nf3:tensor",
                           "nf2:g32",
                           "nf8:g128",
                           "mulaw4",
                           "mulaw8:g64",
                           "mulaw2:g32",
                           "alaw4:g128",
                           "alaw6:channel",
                           "mxfp4",
                           "mxfp6_e2m3",
                           "mxfp6_e3m2",
                           "mxfp8_e4m3",
                           "mxfp8_e5m2",
                           "mxint8",
                           "nvfp4",
                           "mxfp4:scale=ceil",
                           "mxfp4:scale=even",
                           "mxfp8_e4m3:scale=rceil",
                           "mxint8:scale=even",
                           "fp4",
                           "fp6_e2m3:g32",
                           "fp6_e3m2:tensor",
                           "fp8_e4m3",
                           "fp8_e5m2:g64",
                           "fp8_e4m3:tensor",
                           "q8_0",
                           "q4_0",
                           "q4_1",
                           "q5_0",
                           "q5_1",
                           "q2_k",
                           "q4_k",
                           "q5_k",
                           "q6_k",
                           "iq4_nl",
                           "hqq4:g64",
                           "hqq3:g128",
                           "hqq8:channel",
                           "hqq2:g32:iters=5",
                           "hqq5:g8",
                           "hqq4:g16:iters=1",
                           "sinq4:g64",
                           "sinq4:g64:sym",
                           "sinq_nf4:g64",
                           "sinq_nf3:channel",
                           "sinq3:g32:tiling=2D",
                           "sinq4:g64:iters=0",
                           "sinq4:g16:fallback=kurtosis",
                           "sinq5:g48",
                           "kmeans4:g64",
                           "kmeans3:g128",
                           "kmeans2:g32",
                           "kmeans1:g16",
                           "kmeans4:g100:iters=3",
                           "kmeans3:g64:tol=0"};
    for (const char* s : specs) {
        QTest::newRow(qPrintable(QString(s) + " 37x512")) << QString(s) << 37 << 512 << 0.02f;
        QTest::newRow(qPrintable(QString(s) + " 9x1000")) << QString(s) << 9 << 1000 << 1.0f;
        QTest::newRow(qPrintable(QString(s) + " 6x80 tiny")) << QString(s) << 6 << 80 << 1e-36f;
        QTest::newRow(qPrintable(QString(s) + " 5x33 huge")) << QString(s) << 5 << 33 << 1e35f;
    }
    // The K-quants need rows of whole super-blocks of 256 (and iq4_nl blocks of 32).
    for (const char* s : {"q2_k", "q4_k", "q5_k", "q6_k", "iq4_nl"}) {
        QTest::newRow(qPrintable(QString(s) + " 9x1024")) << QString(s) << 9 << 1024 << 1.0f;
        QTest::newRow(qPrintable(QString(s) + " 6x256 tiny")) << QString(s) << 6 << 256 << 1e-36f;
        QTest::newRow(qPrintable(QString(s) + " 5x768 huge")) << QString(s) << 5 << 768 << 1e35f;
    }
}

void TestDeviceMath::matchesTheCpuQuantizers() {
    QFETCH(QString, spec);
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(float, sd);
    const Scheme s = parseScheme(spec.toStdString());
    const auto w = hardWeights(rows, cols, 7u + static_cast<unsigned>(rows), sd);
    const MatrixView m{w.data(), rows, cols};
    const auto plan = devicePlanFor(s, rows, cols);
    if ((s.family == "nf" && s.granularity == Granularity::Group && cols % s.groupSize != 0) ||
        ((s.family.starts_with("q") || s.family == "iq4_nl") && cols % 32 != 0) ||
        (s.family.ends_with("_k") && cols % 256 != 0) ||
        (s.family == "hqq" && s.granularity == Granularity::Group && cols % s.groupSize != 0)) {
        QVERIFY(!plan);
        return;
    }
    QVERIFY2(plan, "not covered");
    auto cpu = quantize(s, m);
    QVERIFY2(cpu, qPrintable(QString::fromStdString(cpu ? "" : cpu.message())));
    const Emulated dev = emulate(*plan, m);
    for (std::size_t i = 0; i < w.size(); ++i)
        QVERIFY2(sameBits(dev.rec[i], cpu->reconstruction[i]),
                 qPrintable(QString("element %1: x %2 device %3 cpu %4")
                                .arg(i)
                                .arg(double(w[i]), 0, 'g', 9)
                                .arg(double(dev.rec[i]), 0, 'g', 9)
                                .arg(double(cpu->reconstruction[i]), 0, 'g', 9)));
    QuantOutput described;
    describeDeviceResult(s, *plan, m, dev.summary, described);
    QCOMPARE(described.cost.elements, cpu->cost.elements);
    QCOMPARE(described.cost.payloadBits, cpu->cost.payloadBits);
    QCOMPARE(described.cost.scaleBits, cpu->cost.scaleBits);
    QCOMPARE(described.cost.zeroBits, cpu->cost.zeroBits);
    QCOMPARE(described.cost.extraBits, cpu->cost.extraBits);
    QVERIFY(sameLevels(described.levels, cpu->levels));
    QCOMPARE(described.levelsNote, cpu->levelsNote);
    QCOMPARE(described.diagnostics.size(), cpu->diagnostics.size());
    for (std::size_t i = 0; i < described.diagnostics.size(); ++i) {
        QCOMPARE(described.diagnostics[i].key, cpu->diagnostics[i].key);
        QCOMPARE(described.diagnostics[i].value, cpu->diagnostics[i].value);
    }
}

void TestDeviceMath::allZeroTensors() {
    const std::vector<float> w(16 * 256, 0.0f);
    const MatrixView m{w.data(), 16, 256};
    for (const char* spec :
         {"int4:g16", "nf4:g16", "mxfp4", "nvfp4", "int4:tensor", "fp8_e4m3", "q8_0", "q4_0",
          "q4_1", "q5_0", "q5_1", "q2_k", "q4_k", "q5_k", "q6_k", "iq4_nl"}) {
        const Scheme s = parseScheme(spec);
        const auto plan = devicePlanFor(s, 16, 256);
        QVERIFY(plan);
        auto cpu = quantize(s, m);
        QVERIFY(cpu);
        const Emulated dev = emulate(*plan, m);
        for (std::size_t i = 0; i < w.size(); ++i)
            QVERIFY(sameBits(dev.rec[i], cpu->reconstruction[i]));
        QuantOutput described;
        describeDeviceResult(s, *plan, m, dev.summary, described);
        QCOMPARE(described.levels, cpu->levels);
        QCOMPARE(described.levelsNote, cpu->levelsNote);
        QCOMPARE(described.diagnostics.size(), cpu->diagnostics.size());
    }
}

void TestDeviceMath::coversWhatItClaims() {
    for (const char* spec :
         {"int4:g128:clip=mse", "int4:g128:round=stochastic", "nf4:g64:dq", "q3_k", "iq4_xs",
          "hqq4:g64:axis=0", "hqq4:g48", "hqq4:tensor", "mxfp4:round=stochastic",
          "fp8_e4m3:clip=mse", "kmeans3", "kmeans5:g64", "kmeans4:g256", "kmeans4",
          "fp4:round=stochastic", "mulaw4:clip=mse", "log4:g64"})
        QVERIFY2(!devicePlanFor(parseScheme(spec), 64, 256), spec);
    QVERIFY(!devicePlanFor(parseScheme("nf4:g64"), 3, 172)); // blocks straddle rows
    QVERIFY(devicePlanFor(parseScheme("nf4:g64"), 3, 128));
    QVERIFY(!devicePlanFor(parseScheme("int4"), 0, 128));
    QVERIFY(devicePlanFor(parseScheme("mulaw4:g64"), 3, 128)); // through its threshold table
    QVERIFY(devicePlanFor(parseScheme("hqq4:g64"), 3, 128));   // groups within rows
    QVERIFY(devicePlanFor(parseScheme("hqq4:channel"), 3, 100));
}

QTEST_APPLESS_MAIN(TestDeviceMath)
#include "test_device_math.moc"
