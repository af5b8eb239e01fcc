#include "quant/float_formats.h"
#include "tensor/dtype.h"

#include <QtTest>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

using namespace qs;

Q_DECLARE_METATYPE(qs::ElementFormat)

namespace {

// PyTorch c10's fp32 -> float8 conversions (c10/util/Float8_e4m3fn.h, Float8_e5m2.h), written out
// independently: bias-add rounding on the bit pattern, subnormals via a float add of a magic.
std::uint8_t c10E4M3(float f) {
    constexpr std::uint32_t fp8Max = 1087u << 20;
    constexpr std::uint32_t denormMask = 141u << 23;
    std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = bits & 0x80000000u;
    bits ^= sign;
    std::uint8_t result;
    if (bits >= fp8Max) {
        result = 0x7F;
    } else if (bits < (121u << 23)) {
        bits = std::bit_cast<std::uint32_t>(std::bit_cast<float>(bits) +
                                            std::bit_cast<float>(denormMask));
        result = static_cast<std::uint8_t>(bits - denormMask);
    } else {
        const std::uint32_t odd = (bits >> 20) & 1;
        bits += ((7u - 127u) << 23) + 0x7FFFF + odd;
        result = static_cast<std::uint8_t>(bits >> 20);
    }
    return static_cast<std::uint8_t>(result | (sign >> 24));
}

std::uint8_t c10E5M2(float f) {
    constexpr std::uint32_t fp32Inf = 255u << 23;
    constexpr std::uint32_t fp8Max = 143u << 23;
    constexpr std::uint32_t denormMask = 134u << 23;
    std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = bits & 0x80000000u;
    bits ^= sign;
    std::uint8_t result;
    if (bits >= fp8Max) {
        result = bits > fp32Inf ? 0x7F : 0x7C;
    } else if (bits < (113u << 23)) {
        bits = std::bit_cast<std::uint32_t>(std::bit_cast<float>(bits) +
                                            std::bit_cast<float>(denormMask));
        result = static_cast<std::uint8_t>(bits - denormMask);
    } else {
        const std::uint32_t odd = (bits >> 21) & 1;
        bits += ((15u - 127u) << 23) + 0xFFFFF + odd;
        result = static_cast<std::uint8_t>(bits >> 21);
    }
    return static_cast<std::uint8_t>(result | (sign >> 24));
}

// compressed-tensors FP4_E2M1_DATA.cast_to_fp4, by intervals (NUMERICS.md 2.2).
float ctCastToFp4(float x) {
    const float a = std::fabs(x);
    float v;
    if (a <= 0.25f)
        v = 0.0f;
    else if (a < 0.75f)
        v = 0.5f;
    else if (a <= 1.25f)
        v = 1.0f;
    else if (a < 1.75f)
        v = 1.5f;
    else if (a <= 2.5f)
        v = 2.0f;
    else if (a < 3.5f)
        v = 3.0f;
    else if (a <= 5.0f)
        v = 4.0f;
    else
        v = 6.0f;
    return std::copysign(v, x);
}

// The encoder as first written, with frexp/ldexp (the library's now reads exponents off the
// bits): round at the value's own exponent (never below emin), half to even, then the code of
// the grid value. Kept as the reference the faster one must equal.
std::uint8_t frexpEncode(ElementFormat fmt, float x, Overflow o) {
    const ElementFormatInfo& f = formatInfo(fmt);
    const unsigned sign = std::signbit(x) ? 1u << (f.ebits + f.mbits) : 0u;
    const bool fp8 = fmt == ElementFormat::E4M3 || fmt == ElementFormat::E5M2;
    if (std::isnan(x))
        return static_cast<std::uint8_t>(fp8 ? sign | 0x7F : 0u);
    const bool saturate = o == Overflow::Saturate || !fp8;
    const unsigned maxCode = fmt == ElementFormat::E4M3   ? 0x7E
                             : fmt == ElementFormat::E5M2 ? 0x7B
                                                          : (1u << (f.ebits + f.mbits)) - 1u;
    const auto overflow = static_cast<std::uint8_t>(
        sign | (saturate ? maxCode : (fmt == ElementFormat::E5M2 ? 0x7Cu : 0x7Fu)));
    const float a = std::fabs(x);
    if (std::isinf(a))
        return overflow;
    int exp = 0;
    std::frexp(a, &exp);
    const int emin = 1 - f.bias;
    const int e = std::max(exp - 1, emin);
    const float quantum = std::ldexp(1.0f, e - f.mbits);
    const float v = std::nearbyint(a / quantum) * quantum;
    if (v > f.maxNormal)
        return overflow;
    if (v < f.minNormal)
        return static_cast<std::uint8_t>(sign |
                                         static_cast<unsigned>(std::ldexp(v, f.mbits - emin)));
    std::frexp(v, &exp);
    const int ev = exp - 1;
    const auto man = static_cast<unsigned>(std::ldexp(v, f.mbits - ev)) - (1u << f.mbits);
    return static_cast<std::uint8_t>(sign | (static_cast<unsigned>(ev + f.bias) << f.mbits) | man);
}

void addFormats() {
    QTest::addColumn<ElementFormat>("format");
    QTest::newRow("e2m1") << ElementFormat::E2M1;
    QTest::newRow("e2m3") << ElementFormat::E2M3;
    QTest::newRow("e3m2") << ElementFormat::E3M2;
    QTest::newRow("e4m3") << ElementFormat::E4M3;
    QTest::newRow("e5m2") << ElementFormat::E5M2;
    QTest::newRow("int8") << ElementFormat::Int8;
}

} // namespace

class TestFloatFormats : public QObject {
    Q_OBJECT
private slots:
    void bitEncoderEqualsFrexpEncoder_data() { addFormats(); }
    void bitEncoderEqualsFrexpEncoder();
    void everyCodeReencodesToItself_data() { addFormats(); }
    void everyCodeReencodesToItself();
    void midpointsTieToEven_data() { addFormats(); }
    void midpointsTieToEven();
    void publishedMaximaAndCounts_data();
    void publishedMaximaAndCounts();
    void fp8MatchesPyTorchC10Casts();
    void saturatingIsClampThenCast();
    void nonSaturatingOverflow();
    void subnormalsAndSmallValues();
    void nanInfAndSignedZero();
    void fp4MatchesCompressedTensorsIntervals();
    void e8m0FloorAndRoundUp();
};

// encodeElement and roundTripElement against the frexp encoder on 2^22 float bit patterns
// spread over every exponent (both signs, zeros, subnormals, Inf, NaN, halves between codes).
void TestFloatFormats::bitEncoderEqualsFrexpEncoder() {
    QFETCH(ElementFormat, format);
    if (format == ElementFormat::Int8)
        QSKIP("int8 has its own encoder");
    for (std::uint64_t u = 0; u <= 0xFFFFFFFFull; u += 1021) {
        const float x = std::bit_cast<float>(static_cast<std::uint32_t>(u));
        for (Overflow o : {Overflow::Saturate, Overflow::NonSaturating}) {
            const std::uint8_t want = frexpEncode(format, x, o);
            const std::uint8_t got = encodeElement(format, x, o);
            if (got != want)
                QFAIL(qPrintable(QString("%1 (0x%2): 0x%3, want 0x%4")
                                     .arg(double(x))
                                     .arg(static_cast<quint32>(u), 8, 16, QChar('0'))
                                     .arg(got, 2, 16, QChar('0'))
                                     .arg(want, 2, 16, QChar('0'))));
            const float rt = roundTripElement(format, x, o);
            const float ref = decodeElement(format, want);
            if (std::bit_cast<std::uint32_t>(rt) != std::bit_cast<std::uint32_t>(ref) &&
                !(std::isnan(rt) && std::isnan(ref)))
                QFAIL(qPrintable(QString("round trip of %1: %2, want %3")
                                     .arg(double(x))
                                     .arg(double(rt))
                                     .arg(double(ref))));
        }
    }
}

void TestFloatFormats::everyCodeReencodesToItself() {
    QFETCH(ElementFormat, format);
    const int codes = 1 << formatInfo(format).bits;
    for (int c = 0; c < codes; ++c) {
        const auto code = static_cast<std::uint8_t>(c);
        const float v = decodeElement(format, code);
        if (std::isnan(v) || (format == ElementFormat::Int8 && c == 0x80))
            continue;
        const Overflow o = std::isinf(v) ? Overflow::NonSaturating : Overflow::Saturate;
        QCOMPARE(int(encodeElement(format, v, o)), c);
    }
}

void TestFloatFormats::midpointsTieToEven() {
    QFETCH(ElementFormat, format);
    const std::vector<float> v = elementValues(format);
    for (std::size_t i = 0; i + 1 < v.size(); ++i) {
        const float lo = v[i], hi = v[i + 1];
        const float mid = (lo + hi) / 2; // exact: few mantissa bits
        const std::uint8_t cLo = encodeElement(format, lo), cHi = encodeElement(format, hi);
        const std::uint8_t expected = (format == ElementFormat::Int8)
                                          ? ((static_cast<std::int8_t>(cLo) % 2 == 0) ? cLo : cHi)
                                          : ((cLo & 1) == 0 ? cLo : cHi);
        const std::uint8_t got = encodeElement(format, mid);
        // Zero's neighbours: +-0 codes are both "even"; compare values there.
        QCOMPARE(decodeElement(format, got), decodeElement(format, expected));
        QCOMPARE(decodeElement(format, encodeElement(format, std::nextafter(mid, lo))), lo);
        QCOMPARE(decodeElement(format, encodeElement(format, std::nextafter(mid, hi))), hi);
    }
}

void TestFloatFormats::publishedMaximaAndCounts_data() {
    QTest::addColumn<ElementFormat>("format");
    QTest::addColumn<float>("max");
    QTest::addColumn<float>("minSubnormal");
    QTest::addColumn<int>("distinctValues");
    QTest::newRow("e2m1") << ElementFormat::E2M1 << 6.0f << 0.5f << 15;
    QTest::newRow("e2m3") << ElementFormat::E2M3 << 7.5f << 0.125f << 63;
    QTest::newRow("e3m2") << ElementFormat::E3M2 << 28.0f << 0.0625f << 63;
    QTest::newRow("e4m3") << ElementFormat::E4M3 << 448.0f << std::ldexp(1.0f, -9) << 253;
    QTest::newRow("e5m2") << ElementFormat::E5M2 << 57344.0f << std::ldexp(1.0f, -16) << 247;
    QTest::newRow("int8") << ElementFormat::Int8 << 127.0f / 64 << 1.0f / 64 << 255;
}

void TestFloatFormats::publishedMaximaAndCounts() {
    QFETCH(ElementFormat, format);
    QFETCH(float, max);
    QFETCH(float, minSubnormal);
    QFETCH(int, distinctValues);
    const auto v = elementValues(format);
    QCOMPARE(int(v.size()), distinctValues);
    QCOMPARE(v.back(), max);
    QCOMPARE(v.front(), -max);
    QCOMPARE(formatInfo(format).maxNormal, max);
    QCOMPARE(*std::upper_bound(v.begin(), v.end(), 0.0f), minSubnormal);
    QCOMPARE(roundTripElement(format, 1e30f), max);
    QCOMPARE(roundTripElement(format, -1e30f), -max);
}

void TestFloatFormats::fp8MatchesPyTorchC10Casts() {
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::uint32_t> bits;
    std::uniform_real_distribution<float> mag(-20.0f, 17.0f);
    for (int i = 0; i < 400000; ++i) {
        // Half raw bit patterns (NaN, Inf, huge, tiny), half values in the formats' range.
        const float x = i % 2 ? std::bit_cast<float>(bits(rng))
                              : std::ldexp(1.0f + (bits(rng) >> 9) * 0x1p-23f, int(mag(rng))) *
                                    (bits(rng) & 1 ? -1.0f : 1.0f);
        const std::uint8_t e4 = encodeE4M3(x, Overflow::NonSaturating);
        const std::uint8_t e5 = encodeE5M2(x, Overflow::NonSaturating);
        if (std::isinf(x)) {
            QCOMPARE(int(e4), int(c10E4M3(x)) | (std::signbit(x) ? 0x80 : 0)); // both NaN codes
            continue;
        }
        QCOMPARE(int(e4), int(c10E4M3(x)));
        QCOMPARE(int(e5), int(c10E5M2(x)));
    }
}

void TestFloatFormats::saturatingIsClampThenCast() {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> d(-70000.0f, 70000.0f);
    for (int i = 0; i < 100000; ++i) {
        const float x = d(rng) * (i % 3 == 0 ? 1e-3f : 1.0f);
        QCOMPARE(int(encodeE4M3(x)), int(c10E4M3(std::clamp(x, -448.0f, 448.0f))));
        QCOMPARE(int(encodeE5M2(x)), int(c10E5M2(std::clamp(x, -57344.0f, 57344.0f))));
    }
}

void TestFloatFormats::nonSaturatingOverflow() {
    const auto ns = Overflow::NonSaturating;
    QCOMPARE(int(encodeE4M3(464.0f, ns)), 0x7E); // tie between 448 and (480): even -> 448
    QCOMPARE(int(encodeE4M3(464.5f, ns)), 0x7F); // rounds past 448: NaN
    QCOMPARE(int(encodeE4M3(-480.0f, ns)), 0xFF);
    QCOMPARE(int(encodeE5M2(61439.0f, ns)), 0x7B);
    QCOMPARE(int(encodeE5M2(61440.0f, ns)), 0x7C); // tie, even -> Inf
    QCOMPARE(int(encodeE5M2(-1e9f, ns)), 0xFC);
    QCOMPARE(int(encodeE4M3(464.5f)), 0x7E);
    QCOMPARE(int(encodeE5M2(1e9f)), 0x7B);
    QCOMPARE(int(encodeFp4E2M1(7.0f)), 0x7); // FP4 saturates in both modes
}

void TestFloatFormats::subnormalsAndSmallValues() {
    QCOMPARE(int(encodeE4M3(std::ldexp(1.0f, -9))), 0x01);
    QCOMPARE(int(encodeE4M3(std::ldexp(1.0f, -10))), 0x00);         // tie -> even (0)
    QCOMPARE(int(encodeE4M3(std::ldexp(3.0f, -11))), 0x01);         // 1.5 * 2^-10
    QCOMPARE(int(encodeE4M3(std::ldexp(7.5f, -9))), 0x08);          // max subnormal/min normal tie
    QCOMPARE(fp8E4M3ToFloat(encodeE4M3(0.875f / 64)), 0.875f / 64); // max subnormal
    QCOMPARE(int(encodeE5M2(std::ldexp(1.0f, -16))), 0x01);
    QCOMPARE(int(encodeE5M2(std::ldexp(1.0f, -17))), 0x00);
    QCOMPARE(roundTripElement(ElementFormat::E3M2, 0.09375f), 0.125f); // 1.5/16 tie -> 2/16
    QCOMPARE(roundTripElement(ElementFormat::E2M3, 0.0625f), 0.0f);    // 0.5/8 tie -> 0
    QCOMPARE(roundTripElement(ElementFormat::E2M1, 0.25f), 0.0f);
    QCOMPARE(roundTripElement(ElementFormat::E2M1, 0.2500001f), 0.5f);
    QCOMPARE(int(encodeElement(ElementFormat::Int8, 1.5f / 64)), 2);
    QCOMPARE(int(encodeElement(ElementFormat::Int8, 0.5f / 64)), 0);
    QCOMPARE(int(encodeElement(ElementFormat::Int8, -5.0f)), 0x81); // -127, never -128
}

void TestFloatFormats::nanInfAndSignedZero() {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    QCOMPARE(int(encodeE4M3(nan)), 0x7F);
    QCOMPARE(int(encodeE4M3(-nan)), 0xFF);
    QCOMPARE(int(encodeE5M2(nan)), 0x7F);
    QCOMPARE(int(encodeFp4E2M1(nan)), 0x0);
    QCOMPARE(int(encodeE4M3(inf)), 0x7E); // saturating: +-max
    QCOMPARE(int(encodeE4M3(-inf)), 0xFE);
    QCOMPARE(int(encodeFp6E3M2(-inf)), 0x3F);
    QCOMPARE(int(encodeE4M3(-0.0f)), 0x80);
    QCOMPARE(int(encodeFp6E2M3(-0.0f)), 0x20);
    QCOMPARE(int(encodeFp4E2M1(-0.0f)), 0x8);
}

void TestFloatFormats::fp4MatchesCompressedTensorsIntervals() {
    for (int i = -8000; i <= 8000; ++i) {
        const float x = static_cast<float>(i) / 1000.0f;
        for (float y : {x, std::nextafter(x, 10.0f), std::nextafter(x, -10.0f)})
            QCOMPARE(roundTripElement(ElementFormat::E2M1, y), ctCastToFp4(y));
    }
}

void TestFloatFormats::e8m0FloorAndRoundUp() {
    const auto F = E8M0Rounding::Floor, U = E8M0Rounding::RoundUp;
    QCOMPARE(int(encodeE8M0(1.0f, F)), 127);
    QCOMPARE(int(encodeE8M0(1.5f, F)), 127);
    QCOMPARE(int(encodeE8M0(1.0f, U)), 127);
    QCOMPARE(int(encodeE8M0(1.5f, U)), 128);
    QCOMPARE(int(encodeE8M0(0.0f, F)), 0);
    QCOMPARE(int(encodeE8M0(0.0f, U)), 0);
    QCOMPARE(int(encodeE8M0(std::ldexp(1.0f, -127), U)), 0); // 0x00400000 is 2^-127
    QCOMPARE(int(encodeE8M0(std::ldexp(1.5f, -127), U)), 1); // above it: 2^-126
    QCOMPARE(int(encodeE8M0(std::numeric_limits<float>::max(), U)), 255);
    QCOMPARE(int(encodeE8M0(std::numeric_limits<float>::infinity(), F)), 255);
    QCOMPARE(int(encodeE8M0(std::numeric_limits<float>::quiet_NaN(), U)), 255);
    for (int e = 0; e < 255; ++e) {
        const float v = e8m0ToFloat(static_cast<std::uint8_t>(e));
        QCOMPARE(int(encodeE8M0(v, U)), e);
        if (e > 0)
            QCOMPARE(int(encodeE8M0(v, F)), e);
    }
}

QTEST_APPLESS_MAIN(TestFloatFormats)
#include "test_float_formats.moc"
