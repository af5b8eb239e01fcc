// ggml dequantizers on blocks built by hand from the documented layouts (NUMERICS.md §5.7 and
// §12.2), with expected values computed from the layout description, not from our decoder.

#include "quant/ggml_quant.h"
#include "tensor/dtype.h"

#include <QtTest>

#include <cstring>
#include <vector>

using namespace qs;

namespace {

std::uint16_t h(float f) {
    return floatToHalf(f);
}

template <class B> std::vector<float> decode(GgmlType t, const B& b, int n) {
    std::vector<std::byte> bytes(sizeof(B));
    std::memcpy(bytes.data(), &b, sizeof(B));
    std::vector<float> y(static_cast<std::size_t>(n));
    const auto st = ggmlDequantize(t, bytes, y);
    if (!st)
        qFatal("%s", st.message().c_str());
    return y;
}

// Q4_K / Q5_K: the documented 6-bit (scale, min) packing of get_scale_min_k4.
void packK4(std::uint8_t* q, const int* sc, const int* m) {
    std::memset(q, 0, 12);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            q[j] |= static_cast<std::uint8_t>(sc[j] & 63);
            q[j + 4] |= static_cast<std::uint8_t>(m[j] & 63);
        } else {
            q[j + 4] = static_cast<std::uint8_t>((sc[j] & 0xF) | ((m[j] & 0xF) << 4));
            q[j - 4] |= static_cast<std::uint8_t>((sc[j] >> 4) << 6);
            q[j] |= static_cast<std::uint8_t>((m[j] >> 4) << 6);
        }
    }
}

} // namespace

class TestGgmlDequant : public QObject {
    Q_OBJECT
private slots:
    void blockSizesMatchTheGgufTable_data();
    void blockSizesMatchTheGgufTable();
    void q4_0LowNibbleFirstMinusEight();
    void q4_1AddsTheMin();
    void q5_0HighBitsFromQh();
    void q5_1AllHighBitsSet();
    void q8_0AndQ8_1ScaleSignedCodes();
    void q2_KScalesAndMins();
    void q3_KSignedScalesAndHmask();
    void q4_KAndQ5_KSixBitScales();
    void q6_KSixBitCodes();
    void q8_KFloatScale();
    void iq4NlAndXsCodeBook();
    void wrongSizesAreErrors();
};

void TestGgmlDequant::blockSizesMatchTheGgufTable_data() {
    QTest::addColumn<int>("id");
    QTest::addColumn<int>("block");
    QTest::addColumn<int>("bytes");
    // NUMERICS.md §12.2
    const int table[][3] = {{2, 32, 18},    {3, 32, 20},    {6, 32, 22},    {7, 32, 24},
                            {8, 32, 34},    {9, 32, 36},    {10, 256, 84},  {11, 256, 110},
                            {12, 256, 144}, {13, 256, 176}, {14, 256, 210}, {15, 256, 292},
                            {16, 256, 66},  {17, 256, 74},  {18, 256, 98},  {19, 256, 50},
                            {20, 32, 18},   {21, 256, 110}, {22, 256, 82},  {23, 256, 136},
                            {29, 256, 56},  {34, 256, 54},  {35, 256, 66},  {39, 32, 17},
                            {40, 64, 36},   {41, 128, 18},  {42, 64, 18}};
    for (const auto& r : table)
        QTest::addRow("id %d", r[0]) << r[0] << r[1] << r[2];
}

void TestGgmlDequant::blockSizesMatchTheGgufTable() {
    QFETCH(int, id);
    QFETCH(int, block);
    QFETCH(int, bytes);
    const auto* tr = ggmlTypeTraits(static_cast<GgmlType>(id));
    QVERIFY(tr);
    QCOMPARE(tr->blockSize, block);
    QCOMPARE(tr->bytesPerBlock, bytes);
    QVERIFY(!ggmlTypeTraits(static_cast<GgmlType>(4))); // removed upstream
}

void TestGgmlDequant::q4_0LowNibbleFirstMinusEight() {
    BlockQ4_0 b{};
    b.d = h(0.5f);
    for (int j = 0; j < 16; ++j)
        b.qs[j] = static_cast<std::uint8_t>(j | ((15 - j) << 4));
    const auto y = decode(GgmlType::Q4_0, b, 32);
    for (int j = 0; j < 16; ++j) {
        QCOMPARE(y[j], 0.5f * static_cast<float>(j - 8));
        QCOMPARE(y[j + 16], 0.5f * static_cast<float>(7 - j));
    }
}

void TestGgmlDequant::q4_1AddsTheMin() {
    BlockQ4_1 b{};
    b.d = h(0.25f);
    b.m = h(-1.0f);
    for (int j = 0; j < 16; ++j)
        b.qs[j] = static_cast<std::uint8_t>(j | (3 << 4));
    const auto y = decode(GgmlType::Q4_1, b, 32);
    for (int j = 0; j < 16; ++j) {
        QCOMPARE(y[j], 0.25f * static_cast<float>(j) - 1.0f);
        QCOMPARE(y[j + 16], -0.25f);
    }
}

void TestGgmlDequant::q5_0HighBitsFromQh() {
    BlockQ5_0 b{};
    b.d = h(1.0f);
    for (int j = 0; j < 16; ++j)
        b.qs[j] = static_cast<std::uint8_t>(j | (j << 4));
    // qh as a little-endian uint32: bit 3 (element 3) and bit 20 (element 20)
    const std::uint8_t qh[4] = {0x08, 0x00, 0x10, 0x00};
    std::memcpy(b.qh, qh, 4);
    const auto y = decode(GgmlType::Q5_0, b, 32);
    for (int j = 0; j < 16; ++j) {
        QCOMPARE(y[j], static_cast<float>(j - 16 + (j == 3 ? 16 : 0)));
        QCOMPARE(y[j + 16], static_cast<float>(j - 16 + (j == 4 ? 16 : 0)));
    }
}

void TestGgmlDequant::q5_1AllHighBitsSet() {
    BlockQ5_1 b{};
    b.d = h(0.5f);
    b.m = h(2.0f);
    std::memset(b.qh, 0xFF, 4);
    const auto y = decode(GgmlType::Q5_1, b, 32);
    for (float v : y)
        QCOMPARE(v, 16 * 0.5f + 2.0f);
}

void TestGgmlDequant::q8_0AndQ8_1ScaleSignedCodes() {
    BlockQ8_0 a{};
    a.d = h(2.0f);
    BlockQ8_1 b{};
    b.d = h(0.5f);
    b.s = h(123.0f); // the sum is not used to decode
    for (int j = 0; j < 32; ++j) {
        a.qs[j] = static_cast<std::int8_t>(j - 16);
        b.qs[j] = static_cast<std::int8_t>(-j);
    }
    const auto ya = decode(GgmlType::Q8_0, a, 32);
    const auto yb = decode(GgmlType::Q8_1, b, 32);
    for (int j = 0; j < 32; ++j) {
        QCOMPARE(ya[j], 2.0f * static_cast<float>(j - 16));
        QCOMPARE(yb[j], -0.5f * static_cast<float>(j));
    }
}

void TestGgmlDequant::q2_KScalesAndMins() {
    BlockQ2_K b{};
    b.d = h(1.0f);
    b.dmin = h(0.5f);
    for (int is = 0; is < 16; ++is)
        b.scales[is] = static_cast<std::uint8_t>(is | (2 << 4)); // scale is, min 2*0.5
    std::memset(b.qs, 0xE4, sizeof b.qs); // 0b11'10'01'00: shift 2s holds the code s
    const auto y = decode(GgmlType::Q2_K, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int s = (e % 128) / 32, half = (e % 32) / 16;
        const int is = (e / 128) * 8 + s * 2 + half;
        QCOMPARE(y[e], static_cast<float>(is * s) - 1.0f);
    }
}

void TestGgmlDequant::q3_KSignedScalesAndHmask() {
    BlockQ3_K b{};
    b.d = h(1.0f);
    for (int j = 0; j < 16; ++j) { // 6-bit scale j+24 (value j-8): low nibbles, then 2 high bits
        const int l = j + 24;
        if (j < 8)
            b.scales[j] |= static_cast<std::uint8_t>(l & 0xF);
        else
            b.scales[j - 8] |= static_cast<std::uint8_t>((l & 0xF) << 4);
        b.scales[8 + j % 4] |= static_cast<std::uint8_t>((l >> 4) << (2 * (j / 4)));
    }
    std::memset(b.hmask, 0xFF, sizeof b.hmask);
    b.hmask[0] = 0xFE;                    // element 0 loses its high bit: code - 4
    std::memset(b.qs, 0x1B, sizeof b.qs); // 0b00'01'10'11: shift 2s holds 3 - s
    const auto y = decode(GgmlType::Q3_K, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int s = (e % 128) / 32, half = (e % 32) / 16;
        const int is = (e / 128) * 8 + s * 2 + half;
        const int q = 3 - s - (e == 0 ? 4 : 0);
        QCOMPARE(y[e], static_cast<float>((is - 8) * q));
    }
}

void TestGgmlDequant::q4_KAndQ5_KSixBitScales() {
    int sc[8], m[8];
    for (int j = 0; j < 8; ++j) {
        sc[j] = 8 * j + 3; // 3 .. 59: the high two bits are used from j = 2 on
        m[j] = 63 - 8 * j; // 63 .. 7
    }
    BlockQ4_K a{};
    a.d = h(1.0f);
    a.dmin = h(0.5f);
    packK4(a.scales, sc, m);
    for (int i = 0; i < 128; ++i)
        a.qs[i] = static_cast<std::uint8_t>((i % 16) | ((15 - i % 16) << 4));
    BlockQ5_K b{};
    b.d = a.d;
    b.dmin = a.dmin;
    std::memcpy(b.scales, a.scales, 12);
    std::memcpy(b.qs, a.qs, 128);
    for (int l = 0; l < 32; ++l)
        b.qh[l] = l % 2 == 0 ? 0x55 : 0x00; // even l: the low half of every chunk gets +16
    const auto ya = decode(GgmlType::Q4_K, a, 256);
    const auto yb = decode(GgmlType::Q5_K, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int chunk = e / 64, l = e % 32, high = (e % 64) / 32;
        const int j = 2 * chunk + high;
        const int q = high ? 15 - l % 16 : l % 16;
        const float d = 1.0f * static_cast<float>(sc[j]), mm = 0.5f * static_cast<float>(m[j]);
        QCOMPARE(ya[e], d * static_cast<float>(q) - mm);
        const int q5 = q + (!high && l % 2 == 0 ? 16 : 0);
        QCOMPARE(yb[e], d * static_cast<float>(q5) - mm);
    }
}

void TestGgmlDequant::q6_KSixBitCodes() {
    BlockQ6_K b{};
    b.d = h(0.25f);
    for (int i = 0; i < 16; ++i)
        b.scales[i] = static_cast<std::int8_t>(i - 8);
    auto code = [](int e) { return (e * 7) % 64; };
    for (int n = 0; n < 2; ++n) // per 128: four codes share ql[l], ql[l+32] and qh[l]
        for (int l = 0; l < 32; ++l) {
            const int base = 128 * n;
            const int c1 = code(base + l), c2 = code(base + l + 32), c3 = code(base + l + 64),
                      c4 = code(base + l + 96);
            b.ql[64 * n + l] = static_cast<std::uint8_t>((c1 & 0xF) | ((c3 & 0xF) << 4));
            b.ql[64 * n + l + 32] = static_cast<std::uint8_t>((c2 & 0xF) | ((c4 & 0xF) << 4));
            b.qh[32 * n + l] = static_cast<std::uint8_t>((c1 >> 4) | ((c2 >> 4) << 2) |
                                                         ((c3 >> 4) << 4) | ((c4 >> 4) << 6));
        }
    const auto y = decode(GgmlType::Q6_K, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int sc = (e / 16) - 8; // sixteen scales, one per 16 elements in order
        QCOMPARE(y[e], 0.25f * static_cast<float>(sc) * static_cast<float>(code(e) - 32));
    }
}

void TestGgmlDequant::q8_KFloatScale() {
    BlockQ8_K b{};
    b.d = 0.125f;
    for (int j = 0; j < 256; ++j)
        b.qs[j] = static_cast<std::int8_t>(j - 128);
    b.bsums[0] = 999; // not used to decode
    const auto y = decode(GgmlType::Q8_K, b, 256);
    for (int j = 0; j < 256; ++j)
        QCOMPARE(y[j], 0.125f * static_cast<float>(j - 128));
}

void TestGgmlDequant::iq4NlAndXsCodeBook() {
    const int kv[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    BlockIq4Nl a{};
    a.d = h(2.0f);
    for (int j = 0; j < 16; ++j)
        a.qs[j] = static_cast<std::uint8_t>(j | ((15 - j) << 4));
    const auto ya = decode(GgmlType::IQ4_NL, a, 32);
    for (int j = 0; j < 16; ++j) {
        QCOMPARE(ya[j], 2.0f * static_cast<float>(kv[j]));
        QCOMPARE(ya[j + 16], 2.0f * static_cast<float>(kv[15 - j]));
    }
    BlockIq4Xs b{};
    b.d = h(0.5f);
    for (int ib = 0; ib < 8; ++ib) { // 6-bit scale 29+ib, i.e. (ls - 32) = ib - 3
        const int ls = 29 + ib;
        b.scalesL[ib / 2] |= static_cast<std::uint8_t>((ls & 0xF) << (4 * (ib % 2)));
        b.scalesH |= static_cast<std::uint16_t>((ls >> 4) << (2 * ib));
    }
    for (int i = 0; i < 128; ++i)
        b.qs[i] = static_cast<std::uint8_t>((i % 16) | ((15 - i % 16) << 4));
    const auto yb = decode(GgmlType::IQ4_XS, b, 256);
    for (int e = 0; e < 256; ++e) {
        const int ib = e / 32, j = e % 16;
        const int q = (e % 32) < 16 ? j : 15 - j;
        QCOMPARE(yb[e], 0.5f * static_cast<float>(ib - 3) * static_cast<float>(kv[q]));
    }
}

void TestGgmlDequant::wrongSizesAreErrors() {
    std::vector<std::byte> bytes(18);
    std::vector<float> y31(31), y64(64);
    QVERIFY(!ggmlDequantize(GgmlType::Q4_0, bytes, y31).ok());
    QVERIFY(!ggmlDequantize(GgmlType::Q4_0, bytes, y64).ok());
    QVERIFY(!ggmlDequantize(GgmlType::IQ2_XXS, bytes, y64).ok());
    QVERIFY(ggmlDequantize(GgmlType::Q4_0, std::span<const std::byte>(bytes.data(), 18),
                           std::span<float>(y64.data(), 32))
                .ok());
}

QTEST_APPLESS_MAIN(TestGgmlDequant)
#include "test_ggml_dequant.moc"
