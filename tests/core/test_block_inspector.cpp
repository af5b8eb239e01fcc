// The block inspector: hand-made groups whose packed bytes are written out by hand here for every
// format, ggml formats byte-identical to ggml's quantizer, nibbles that read back as the codes,
// and reconstructions equal to what the registry's quantizers give.

#include "quant/ggml_quant.h"
#include "quant/normal_float.h"
#include "quant_helpers.h"
#include "teach/block_inspector.h"

#include <QtTest>

#include <cmath>
#include <cstring>

using namespace qs;
using namespace qs::test;

Q_DECLARE_METATYPE(qs::BlockFormat)

namespace {

using Bytes = std::vector<std::uint8_t>;

BlockWalk walk(BlockFormat f, const std::vector<float>& x, float tensorAbsmax = 0) {
    auto r = inspectBlock(f, x, tensorAbsmax);
    if (!r)
        qFatal("inspectBlock: %s", r.message().c_str());
    return *r;
}

QString hex(const Bytes& b) {
    QString s;
    for (auto v : b)
        s += QStringLiteral("%1 ").arg(v, 2, 16, QLatin1Char('0'));
    return s;
}

// The E2M1 values of codes 0..15 (code 8 is -0).
constexpr float kE2M1[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};

} // namespace

class TestBlockInspector : public QObject {
    Q_OBJECT
private slots:
    void int4PacksLowNibbleFirstWithScaleAndZero();
    void q4_0PutsElementJLowAndJPlus16High();
    void nf4PutsTheFirstElementInTheHighNibble();
    void mxfp4HasAnE8M0ByteThenLowFirstCodes();
    void nvfp4HasAnE4M3ByteThenLowFirstCodes();
    void ggmlBlocksEqualGgmlsQuantizer_data();
    void ggmlBlocksEqualGgmlsQuantizer();
    void nibblesReadBackAsCodesAndReconstructionMatchesTheQuantizer_data();
    void nibblesReadBackAsCodesAndReconstructionMatchesTheQuantizer();
    void wrongLengthIsAnError();
};

void TestBlockInspector::int4PacksLowNibbleFirstWithScaleAndZero() {
    // x = 0.5 (q - 3) for q = i % 16: lo = -1.5, hi = 6, scale = 7.5/15 = 0.5, zero = 3.
    std::vector<float> x(32);
    for (int i = 0; i < 32; ++i)
        x[i] = 0.5f * static_cast<float>(i % 16 - 3);
    const BlockWalk w = walk(BlockFormat::Int4, x);
    Bytes expected;
    for (int i = 0; i < 16; ++i) {
        const int a = (2 * i) % 16, b = (2 * i + 1) % 16;
        expected.push_back(static_cast<std::uint8_t>(a | b << 4));
    }
    expected.insert(expected.end(), {0x00, 0x38, 0x03}); // fp16 0.5 little-endian, zero 3
    QCOMPARE(hex(w.bytes), hex(expected));
    QCOMPARE(w.elements[5].code, 5);
    QCOMPARE(w.elements[5].codeValue, 2.0f);
    QCOMPARE(w.elements[5].reconstruction, 1.0f);
    QCOMPARE(w.scales[0].value, 0.5);
    QCOMPARE(w.scales[1].value, 3.0);
    QCOMPARE(w.bitsPerWeight, (32 * 4 + 16 + 4) / 32.0);
}

void TestBlockInspector::q4_0PutsElementJLowAndJPlus16High() {
    // x_j = 0.25 (j%16 - 8): the largest magnitude is -2.0 (first), d = -2/-8 = 0.25, q = j%16.
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j)
        x[j] = 0.25f * static_cast<float>(j % 16 - 8);
    const BlockWalk w = walk(BlockFormat::Q4_0, x);
    Bytes expected = {0x00, 0x34}; // fp16 0.25
    for (int j = 0; j < 16; ++j)
        expected.push_back(static_cast<std::uint8_t>(j | j << 4));
    QCOMPARE(hex(w.bytes), hex(expected));
    QCOMPARE(w.elements[17].byte, std::size_t(2 + 1));
    QVERIFY(w.elements[17].highNibble);
    QVERIFY(!w.elements[1].highNibble);
    for (const ElementWalk& e : w.elements)
        QCOMPARE(e.error, 0.0f);
}

void TestBlockInspector::nf4PutsTheFirstElementInTheHighNibble() {
    const std::vector<float> table = normalFloatCodebook(4);
    std::vector<float> x(64);
    for (int i = 0; i < 64; ++i)
        x[i] = 2.0f * table[static_cast<std::size_t>(i % 16)];
    const BlockWalk w = walk(BlockFormat::NF4, x);
    Bytes expected;
    for (int i = 0; i < 32; ++i)
        expected.push_back(static_cast<std::uint8_t>(((2 * i) % 16) << 4 | (2 * i + 1) % 16));
    expected.insert(expected.end(), {0x00, 0x00, 0x00, 0x40}); // fp32 2.0 little-endian
    QCOMPARE(hex(w.bytes), hex(expected));
    QCOMPARE(w.elements[3].code, 3);
    QVERIFY(w.elements[0].highNibble);
}

void TestBlockInspector::mxfp4HasAnE8M0ByteThenLowFirstCodes() {
    // amax 6 -> e = floor(log2 6) - 2 + 127 = 127, X = 1: codes are the table indices.
    std::vector<float> x(32);
    for (int i = 0; i < 32; ++i)
        x[i] = kE2M1[i % 16];
    const BlockWalk w = walk(BlockFormat::MXFP4, x);
    Bytes expected = {0x7F};
    for (int r = 0; r < 2; ++r)
        for (int i = 0; i < 8; ++i)
            expected.push_back(static_cast<std::uint8_t>((2 * i) | (2 * i + 1) << 4));
    QCOMPARE(hex(w.bytes), hex(expected));
    QCOMPARE(w.scales[0].value, 1.0);
}

void TestBlockInspector::nvfp4HasAnE4M3ByteThenLowFirstCodes() {
    // Tensor absmax 6: per-tensor scale 6/2688, block ratio 448 -> E4M3 0x7E (S.1111.110).
    std::vector<float> x(16);
    for (int i = 0; i < 16; ++i)
        x[i] = kE2M1[i];
    const BlockWalk w = walk(BlockFormat::NVFP4, x, 6.0f);
    Bytes expected = {0x7E};
    for (int i = 0; i < 8; ++i)
        expected.push_back(static_cast<std::uint8_t>((2 * i) | (2 * i + 1) << 4));
    QCOMPARE(hex(w.bytes), hex(expected));
    QCOMPARE(w.scales[0].value, 448.0);
    // A tensor with a larger absmax gives this block a smaller E4M3 scale: 448 / 4 = 112.
    const BlockWalk w4 = walk(BlockFormat::NVFP4, x, 24.0f);
    QCOMPARE(w4.scales[0].value, 112.0);
    QCOMPARE(int(w4.bytes[0]), 0x6E); // 112 = 1.75 * 2^6: 0.1101.110
}

void TestBlockInspector::ggmlBlocksEqualGgmlsQuantizer_data() {
    QTest::addColumn<BlockFormat>("format");
    QTest::addColumn<int>("type");
    QTest::newRow("q4_0") << BlockFormat::Q4_0 << int(GgmlType::Q4_0);
    QTest::newRow("q4_k") << BlockFormat::Q4_K << int(GgmlType::Q4_K);
}

void TestBlockInspector::ggmlBlocksEqualGgmlsQuantizer() {
    QFETCH(BlockFormat, format);
    QFETCH(int, type);
    const auto x = gaussian(static_cast<std::size_t>(blockElements(format)), 11);
    const BlockWalk w = walk(format, x);
    auto ref = ggmlQuantizeRows(static_cast<GgmlType>(type),
                                MatrixView{x.data(), 1, static_cast<std::int64_t>(x.size())});
    QVERIFY(ref.ok());
    QCOMPARE(w.bytes.size(), ref->size());
    QVERIFY(std::memcmp(w.bytes.data(), ref->data(), w.bytes.size()) == 0);
}

void TestBlockInspector::nibblesReadBackAsCodesAndReconstructionMatchesTheQuantizer_data() {
    QTest::addColumn<BlockFormat>("format");
    for (BlockFormat f : kBlockFormats)
        QTest::newRow(std::string(blockFormatName(f)).c_str()) << f;
}

void TestBlockInspector::nibblesReadBackAsCodesAndReconstructionMatchesTheQuantizer() {
    QFETCH(BlockFormat, format);
    const auto n = static_cast<std::size_t>(blockElements(format));
    auto x = gaussian(n, 3);
    x[n / 3] = 0.2f; // an outlier sets the scale
    const BlockWalk w = walk(format, x);
    QCOMPARE(w.elements.size(), n);
    const QuantOutput q = run(blockFormatSpec(format), x, 1, static_cast<std::int64_t>(n));
    for (std::size_t i = 0; i < n; ++i) {
        const ElementWalk& e = w.elements[i];
        QCOMPARE(codeAt(w, i), e.code);
        QCOMPARE(e.raw, x[i]);
        QVERIFY2(std::abs(e.reconstruction - q.reconstruction[i]) <=
                     1e-6f * std::max(1.0f, std::abs(q.reconstruction[i])),
                 qPrintable(QStringLiteral("element %1: %2 vs %3")
                                .arg(i)
                                .arg(e.reconstruction)
                                .arg(q.reconstruction[i])));
        QVERIFY(std::abs(e.codeValue * e.scale + e.offset - e.reconstruction) <= 1e-6f);
        QCOMPARE(e.error, x[i] - e.reconstruction);
    }
    // Each code byte holds exactly two elements.
    std::vector<int> perByte(w.bytes.size(), 0);
    for (const ElementWalk& e : w.elements)
        perByte[e.byte] += e.highNibble ? 2 : 1;
    for (const ByteField& f : w.fields)
        if (f.kind == FieldKind::Codes)
            for (std::size_t b = f.offset; b < f.offset + f.size; ++b)
                QCOMPARE(perByte[b], 3);
}

void TestBlockInspector::wrongLengthIsAnError() {
    const std::vector<float> x(31, 0.1f);
    QVERIFY(!inspectBlock(BlockFormat::Q4_0, x).ok());
    std::vector<float> y(32, 0.1f);
    y[3] = NAN;
    QVERIFY(!inspectBlock(BlockFormat::MXFP4, y).ok());
}

QTEST_APPLESS_MAIN(TestBlockInspector)
#include "test_block_inspector.moc"
