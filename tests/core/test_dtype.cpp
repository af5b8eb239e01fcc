#include "tensor/dtype.h"

#include <QtTest>

#include <bit>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

using namespace qs;

class TestDType : public QObject {
    Q_OBJECT
private slots:
    void halfKnownValues();
    void halfRoundTripsEveryCode();
    void floatToHalfRoundsToNearestEven();
    void halfDecodesEveryCodeAsTheFormulaSays();
    void bulkDecodeOfEightBitFloatsMatchesTheScalarDecoders();
    void bf16KnownValues();
    void fp8E4M3KnownValues();
    void fp8E5M2KnownValues();
    void fnuzVariants();
    void subByteFormats();
    void namesAndSizes();
};

void TestDType::halfKnownValues() {
    QCOMPARE(halfToFloat(0x3C00), 1.0f);
    QCOMPARE(halfToFloat(0xC000), -2.0f);
    QCOMPARE(halfToFloat(0x7BFF), 65504.0f);
    QCOMPARE(halfToFloat(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
    QCOMPARE(halfToFloat(0x0400), std::ldexp(1.0f, -14)); // smallest normal
    QVERIFY(std::isinf(halfToFloat(0x7C00)));
    QVERIFY(std::isnan(halfToFloat(0x7E00)));
    QVERIFY(std::signbit(halfToFloat(0x8000)));
}

void TestDType::halfRoundTripsEveryCode() {
    for (unsigned h = 0; h < 0x10000; ++h) {
        const float f = halfToFloat(static_cast<std::uint16_t>(h));
        if (std::isnan(f))
            continue;
        QCOMPARE(unsigned(floatToHalf(f)), h);
    }
}

// Every f16 code against (-1)^s 2^(e-15) (1 + m/1024), subnormals m 2^-24, by ldexp: the same
// bits (NaN: a quiet NaN with the code's sign).
void TestDType::halfDecodesEveryCodeAsTheFormulaSays() {
    for (unsigned h = 0; h < 0x10000; ++h) {
        const unsigned e = (h >> 10) & 0x1F, m = h & 0x3FF;
        const bool neg = h & 0x8000;
        const float got = halfToFloat(static_cast<std::uint16_t>(h));
        if (e == 0x1F && m) {
            QVERIFY(std::isnan(got));
            QCOMPARE(std::signbit(got), neg);
            continue;
        }
        float want = e == 0x1F ? INFINITY
                     : e == 0  ? std::ldexp(float(m), -24)
                               : std::ldexp(float(m + 1024), int(e) - 25);
        want = neg ? -want : want;
        if (std::bit_cast<std::uint32_t>(got) != std::bit_cast<std::uint32_t>(want))
            QFAIL(
                qPrintable(QString("0x%1: %2 vs %3").arg(h, 4, 16, QChar('0')).arg(got).arg(want)));
    }
}

// decodeToFloat takes the 8-bit float formats through a table: every code as the scalar decoder.
void TestDType::bulkDecodeOfEightBitFloatsMatchesTheScalarDecoders() {
    std::vector<std::byte> codes(256);
    for (unsigned c = 0; c < 256; ++c)
        codes[c] = static_cast<std::byte>(c);
    const std::pair<DType, float (*)(std::uint8_t)> formats[] = {
        {DType::F8_E4M3, fp8E4M3ToFloat},
        {DType::F8_E5M2, fp8E5M2ToFloat},
        {DType::F8_E4M3FNUZ, fp8E4M3FnuzToFloat},
        {DType::F8_E5M2FNUZ, fp8E5M2FnuzToFloat},
        {DType::F8_E8M0, e8m0ToFloat}};
    for (const auto& [type, scalar] : formats) {
        std::vector<float> out(256);
        QVERIFY(decodeToFloat(type, codes, out));
        for (unsigned c = 0; c < 256; ++c) {
            const float want = scalar(static_cast<std::uint8_t>(c));
            QVERIFY2(std::isnan(want) ? std::isnan(out[c])
                                      : std::bit_cast<std::uint32_t>(out[c]) ==
                                            std::bit_cast<std::uint32_t>(want),
                     qPrintable(QString("%1 code %2")
                                    .arg(QString::fromLatin1(dtypeName(type).data(),
                                                             qsizetype(dtypeName(type).size())))
                                    .arg(c)));
        }
    }
}

void TestDType::floatToHalfRoundsToNearestEven() {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to even -> 1.
    QCOMPARE(floatToHalf(1.0f + std::ldexp(1.0f, -11)), std::uint16_t(0x3C00));
    // 1 + 3*2^-11 halfway between 1+2^-10 (odd) and 1+2^-9 (even) -> 0x3C02.
    QCOMPARE(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), std::uint16_t(0x3C02));
    QCOMPARE(floatToHalf(65519.0f), std::uint16_t(0x7BFF));
    QCOMPARE(floatToHalf(65520.0f), std::uint16_t(0x7C00));
    QCOMPARE(floatToHalf(std::ldexp(1.0f, -25)), std::uint16_t(0)); // tie between 0 and 2^-24 -> 0
    QCOMPARE(floatToHalf(std::ldexp(3.0f, -26)), std::uint16_t(1));
}

void TestDType::bf16KnownValues() {
    QCOMPARE(bf16ToFloat(0x3F80), 1.0f);
    QCOMPARE(bf16ToFloat(0xC2F7), -123.5f);
    QCOMPARE(floatToBf16(1.0f + std::ldexp(1.0f, -8)), std::uint16_t(0x3F80)); // tie -> even
    QCOMPARE(floatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), std::uint16_t(0x3F82));
    QVERIFY(std::isnan(bf16ToFloat(floatToBf16(NAN))));
}

void TestDType::fp8E4M3KnownValues() {
    QCOMPARE(fp8E4M3ToFloat(0x7E), 448.0f);
    QCOMPARE(fp8E4M3ToFloat(0xFE), -448.0f);
    QCOMPARE(fp8E4M3ToFloat(0x08), std::ldexp(1.0f, -6)); // min normal
    QCOMPARE(fp8E4M3ToFloat(0x01), std::ldexp(1.0f, -9)); // min subnormal
    QCOMPARE(fp8E4M3ToFloat(0x38), 1.0f);
    QVERIFY(std::isnan(fp8E4M3ToFloat(0x7F)));
    QVERIFY(std::isnan(fp8E4M3ToFloat(0xFF)));
}

void TestDType::fp8E5M2KnownValues() {
    QCOMPARE(fp8E5M2ToFloat(0x7B), 57344.0f);
    QCOMPARE(fp8E5M2ToFloat(0x3C), 1.0f);
    QCOMPARE(fp8E5M2ToFloat(0x01), std::ldexp(1.0f, -16));
    QVERIFY(std::isinf(fp8E5M2ToFloat(0x7C)));
    QVERIFY(std::isnan(fp8E5M2ToFloat(0x7D)));
}

void TestDType::fnuzVariants() {
    QVERIFY(std::isnan(fp8E4M3FnuzToFloat(0x80)));
    QCOMPARE(fp8E4M3FnuzToFloat(0x40), 1.0f); // bias 8
    QCOMPARE(fp8E4M3FnuzToFloat(0x7F), 240.0f);
    QCOMPARE(fp8E5M2FnuzToFloat(0x40), 1.0f); // bias 16
    QCOMPARE(e8m0ToFloat(127), 1.0f);
    QCOMPARE(e8m0ToFloat(0), std::ldexp(1.0f, -127));
}

void TestDType::subByteFormats() {
    const float e2m1[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    for (int c = 0; c < 8; ++c) {
        QCOMPARE(fp4E2M1ToFloat(std::uint8_t(c)), e2m1[c]);
        QCOMPARE(fp4E2M1ToFloat(std::uint8_t(c | 8)), -e2m1[c]);
    }
    QCOMPARE(fp6E2M3ToFloat(0x1F), 7.5f);
    QCOMPARE(fp6E2M3ToFloat(0x01), 0.125f);
    QCOMPARE(fp6E3M2ToFloat(0x1F), 28.0f);
    QCOMPARE(fp6E3M2ToFloat(0x01), 0.0625f);
    // F4 packs two per byte, low nibble first.
    const std::byte packed[1] = {std::byte{0x72}}; // low 0x2 = 1.0, high 0x7 = 6.0
    float out[2];
    QVERIFY(decodeToFloat(DType::F4, packed, out));
    QCOMPARE(out[0], 1.0f);
    QCOMPARE(out[1], 6.0f);
    // F6: four 6-bit codes in three bytes, little-endian bit stream.
    const unsigned codes[4] = {0x1F, 0x01, 0x08, 0x3F};
    std::uint32_t stream = 0;
    for (int i = 0; i < 4; ++i)
        stream |= codes[i] << (6 * i);
    std::byte f6[3];
    for (int i = 0; i < 3; ++i)
        f6[i] = std::byte((stream >> (8 * i)) & 0xFF);
    float o6[4];
    QVERIFY(decodeToFloat(DType::F6_E2M3, f6, o6));
    QCOMPARE(o6[0], 7.5f);
    QCOMPARE(o6[1], 0.125f);
    QCOMPARE(o6[2], 1.0f);
    QCOMPARE(o6[3], -7.5f);
}

void TestDType::namesAndSizes() {
    QCOMPARE(bitsOf(DType::F4), 4);
    QCOMPARE(bitsOf(DType::F6_E3M2), 6);
    QCOMPARE(bitsOf(DType::BF16), 16);
    QVERIFY(dtypeFromName("F8_E4M3") == DType::F8_E4M3);
    QVERIFY(!dtypeFromName("F12"));
    QVERIFY(!isNumeric(DType::C64));
}

QTEST_APPLESS_MAIN(TestDType)
#include "test_dtype.moc"
