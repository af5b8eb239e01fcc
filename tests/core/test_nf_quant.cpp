#include "quant/group_quant.h"
#include "quant/nf_quant.h"
#include "quant/normal_float.h"

#include "quant_helpers.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

using namespace qs;
using namespace qs::test;

namespace {

// bitsandbytes functional.py get_4bit_type("nf4"), verbatim.
const std::vector<float> kNf4Literals{-1.0f,
                                      -0.6961928009986877f,
                                      -0.5250730514526367f,
                                      -0.39491748809814453f,
                                      -0.28444138169288635f,
                                      -0.18477343022823334f,
                                      -0.09105003625154495f,
                                      0.0f,
                                      0.07958029955625534f,
                                      0.16093020141124725f,
                                      0.24611230194568634f,
                                      0.33791524171829224f,
                                      0.44070982933044434f,
                                      0.5626170039176941f,
                                      0.7229568362236023f,
                                      1.0f};

} // namespace

class TestNfQuant : public QObject {
    Q_OBJECT
private slots:
    void batchedNearestLevelEqualsTheSearch();
    void nf4IsTheBitsandbytesTable();
    void constructionReproducesNf4AndSinqNf3();
    void inverseNormalCdfKnownValues();
    void codebooksHaveTheDocumentedShape();
    void blockwiseAbsmaxByHand();
    void midpointTiesGoToTheLowerCode();
    void blocksRunOverTheFlattenedTensor();
    void allZeroBlockReconstructsZero();
    void bnbFp4ThresholdTree();
    void dynamicMapMatchesBitsandbytesConstruction();
    void doubleQuantMatchesAnIndependentComputation();
    void bitsPerWeight_data();
    void bitsPerWeight();
    void errorShrinksWithMoreBits();
    void nibblePackingOrder();
    void nibblePackingRoundTrips();
};

void TestNfQuant::nf4IsTheBitsandbytesTable() {
    QCOMPARE(normalFloatCodebook(4), kNf4Literals);
    auto l = unitLevels(spec("nf4"));
    QVERIFY(l.ok());
    QCOMPARE(*l, kNf4Literals);
}

void TestNfQuant::constructionReproducesNf4AndSinqNf3() {
    QVERIFY(std::fabs(normalFloatOffset(4) - 0.9677083) < 1e-7);
    // The generic construction (what normalFloatCodebook does for k != 4) at k = 4.
    const double off = normalFloatOffset(4);
    std::vector<float> v;
    const auto pos = torchLinspaceF32(off, 0.5, 9);
    const auto neg = torchLinspaceF32(off, 0.5, 8);
    for (int i = 0; i < 8; ++i)
        v.push_back(float(inverseNormalCdf(pos[std::size_t(i)])));
    for (int i = 0; i < 7; ++i)
        v.push_back(float(-inverseNormalCdf(neg[std::size_t(i)])));
    v.push_back(0.0f);
    std::sort(v.begin(), v.end());
    double worst = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
        worst = std::max(worst, std::fabs(double(v[i] / v.back()) - kNf4Literals[i]));
    qInfo("nf4 construction vs bnb table: max |diff| %.3g", worst);
    QVERIFY(worst < 5e-7); // a few float32 ulps: torch.linspace rounding
    // SINQ's hard-coded NF3_CODEBOOK (sinq/dual_shift.py).
    const std::vector<double> nf3{-1,        -0.5350227, -0.2469314, 0,
                                  0.1833375, 0.3819940,  0.6229857,  1};
    const auto c3 = normalFloatCodebook(3);
    QCOMPARE(c3.size(), nf3.size());
    for (std::size_t i = 0; i < nf3.size(); ++i)
        QVERIFY(std::fabs(c3[i] - nf3[i]) < 1e-6);
}

void TestNfQuant::inverseNormalCdfKnownValues() {
    QCOMPARE(inverseNormalCdf(0.5), 0.0);
    QVERIFY(std::fabs(inverseNormalCdf(0.975) - 1.959963984540054) < 1e-14);
    QVERIFY(std::fabs(inverseNormalCdf(0.02) + 2.053748910631823) < 1e-13);
    QVERIFY(std::fabs(inverseNormalCdf(1e-10) + 6.361340902404056) < 1e-12);
    QVERIFY(std::fabs(inverseNormalCdf(1 - 1e-6) - 4.753424308822899) < 1e-9);
    QVERIFY(std::isinf(inverseNormalCdf(0.0)));
    QVERIFY(std::isnan(inverseNormalCdf(1.5)));
}

void TestNfQuant::codebooksHaveTheDocumentedShape() {
    for (int k = 2; k <= 8; ++k) {
        const auto c = normalFloatCodebook(k);
        QCOMPARE(int(c.size()), 1 << k);
        QVERIFY(std::is_sorted(c.begin(), c.end()));
        QCOMPARE(c.front(), -1.0f);
        QCOMPARE(c.back(), 1.0f);
        const auto zero = std::find(c.begin(), c.end(), 0.0f);
        QVERIFY(zero != c.end());
        QCOMPARE(int(zero - c.begin()), (1 << (k - 1)) - 1); // 2^(k-1)-1 negatives
    }
}

void TestNfQuant::blockwiseAbsmaxByHand() {
    // absmax 2: scaled {1, -0.25, 0.025, 0}: -0.25 lies between -0.2844 (4) and -0.1848 (5),
    // midpoint -0.2346, so code 4; 0.025 < 0.0398 -> code 7 (0).
    auto q = quantizeBnbCodes(spec("nf4:g4"),
                              MatrixView{std::vector<float>{2, -0.5f, 0.05f, 0}.data(), 1, 4});
    QVERIFY(q.ok());
    QCOMPARE(q->codes, (std::vector<std::uint8_t>{15, 4, 7, 7}));
    QCOMPARE(q->absmax, std::vector<float>{2.0f});
    const auto out = run("nf4:g4", {2, -0.5f, 0.05f, 0}, 1, 4);
    QCOMPARE(out.reconstruction, (std::vector<float>{2, -0.28444138169288635f * 2, 0, 0}));
}

void TestNfQuant::midpointTiesGoToTheLowerCode() {
    const float mid = 0.03979014977812767f; // bnb's CUDA threshold between codes 7 and 8
    auto tie =
        quantizeBnbCodes(spec("nf4:g2"), MatrixView{std::vector<float>{1, mid}.data(), 1, 2});
    QCOMPARE(int(tie->codes[1]), 7);
    const float above = std::nextafter(mid, 1.0f);
    auto up =
        quantizeBnbCodes(spec("nf4:g2"), MatrixView{std::vector<float>{1, above}.data(), 1, 2});
    QCOMPARE(int(up->codes[1]), 8);
    const float negMid = -0.045525018125772476f; // bnb's threshold between 6 and 7
    auto neg =
        quantizeBnbCodes(spec("nf4:g2"), MatrixView{std::vector<float>{1, negMid}.data(), 1, 2});
    QCOMPARE(int(neg->codes[1]), 6);
    // -0.8480964004993439 (between -1 and -0.696): on the threshold, the CUDA tree gives code 0.
    auto low = quantizeBnbCodes(
        spec("nf4:g2"), MatrixView{std::vector<float>{1, -0.8480964004993439f}.data(), 1, 2});
    QCOMPARE(int(low->codes[1]), 0);
}

void TestNfQuant::blocksRunOverTheFlattenedTensor() {
    // 2 x 6 with g4: blocks are elements 0..3, 4..7 (row 0 cols 4,5 + row 1 cols 0,1), 8..11.
    const std::vector<float> x{1, 1, 1, 1, 8, 0, 4, 0, 1, 1, 1, 1};
    auto q = quantizeBnbCodes(spec("nf4:g4"), MatrixView{x.data(), 2, 6});
    QCOMPARE(q->absmax, (std::vector<float>{1, 8, 1}));
    QCOMPARE(dequantizeBnb(*q)[6], 0.44070982933044434f * 8); // 4/8 = 0.5 -> code 12 (0.4407)
}

void TestNfQuant::allZeroBlockReconstructsZero() {
    const auto out = run("nf4:g4", {0, 0, 0, 0, 1, 2, 3, 4}, 1, 8);
    for (int i = 0; i < 4; ++i)
        QCOMPARE(out.reconstruction[i], 0.0f);
    const auto fp4 = run("bnb_fp4:g4", {0, 0, 0, 0, 1, 2, 3, 4}, 1, 8);
    QCOMPARE(fp4.reconstruction[0], 0.0f);
}

void TestNfQuant::bnbFp4ThresholdTree() {
    QCOMPARE(int(encodeBnbFp4(1.0f)), 0b0011);
    QCOMPARE(int(encodeBnbFp4(-0.9f)), 0b1011);
    QCOMPARE(int(encodeBnbFp4(0.29166667f)), 0b0111); // on the threshold: smaller magnitude (3/12)
    QCOMPARE(int(encodeBnbFp4(std::nextafter(0.29166667f, 1.0f))), 0b0100);
    QCOMPARE(int(encodeBnbFp4(0.002f)), 0b0000);
    QCOMPARE(int(encodeBnbFp4(0.003f)), 0b0001);
    QCOMPARE(int(encodeBnbFp4(-0.0f)), 0b0000);
    const auto t = bnbFp4Table();
    QCOMPARE(t[3], 1.0f);
    QCOMPARE(t[2], 8.0f / 12.0f);
    QCOMPARE(t[1], 0.0625f / 12.0f);
    QCOMPARE(t[14], -2.0f / 12.0f);
    QCOMPARE(bnbFp4Levels().size(), std::size_t(15));
    const auto out = run("bnb_fp4:g4", {12, -5, 0.5f, 2.9f}, 1, 4);
    QCOMPARE(out.reconstruction,
             (std::vector<float>{12, -(4.0f / 12) * 12, 0.0625f / 12 * 12, (3.0f / 12) * 12}));
}

void TestNfQuant::dynamicMapMatchesBitsandbytesConstruction() {
    const auto d = bnbDynamicMap();
    QCOMPARE(d.size(), std::size_t(256));
    QVERIFY(std::is_sorted(d.begin(), d.end()));
    QCOMPARE(d.back(), 1.0f);
    QCOMPARE(std::count(d.begin(), d.end(), 0.0f), 1L);
    // Largest magnitude below 1: 10^0 * mean(0.9859375, 1) (linspace(0.1, 1, 65)).
    QVERIFY(std::fabs(d.front() + 0.99296875) < 1e-6);
    QVERIFY(std::fabs(d[254] - 0.99296875) < 1e-6);
    QVERIFY(std::fabs(d[253] - 0.97890625) < 1e-6);
    // Smallest positive: 1e-6 * mean(0.1, 1) = 5.5e-7; the first decade has one value per sign.
    const auto firstPos = *std::upper_bound(d.begin(), d.end(), 0.0f);
    QVERIFY(std::fabs(firstPos - 5.5e-7) < 1e-12);
    QCOMPARE(std::count_if(d.begin(), d.end(), [](float v) { return v > 0 && v < 1e-5f; }), 3L);
}

void TestNfQuant::doubleQuantMatchesAnIndependentComputation() {
    const auto x = gaussian(64 * 600, 21); // 600 blocks: 3 nested blocks, the last partial
    auto plain = quantizeBnbCodes(spec("nf4"), MatrixView{x.data(), 60, 640});
    auto dq = quantizeBnbCodes(spec("nf4:dq"), MatrixView{x.data(), 60, 640});
    QCOMPARE(dq->codes, plain->codes); // codes use the exact absmax
    const auto& a = plain->absmax;
    double sum = 0;
    for (float v : a)
        sum += v;
    const float offset = float(sum / double(a.size()));
    QCOMPARE(dq->offset, offset);
    const auto map = bnbDynamicMap();
    for (std::size_t b0 = 0; b0 < a.size(); b0 += 256) {
        const std::size_t b1 = std::min(a.size(), b0 + 256);
        float nested = 0;
        for (std::size_t i = b0; i < b1; ++i)
            nested = std::max(nested, std::fabs(a[i] - offset));
        QCOMPARE(dq->nestedAbsmax[b0 / 256], nested);
        for (std::size_t i = b0; i < b1; ++i) {
            const float t = (a[i] - offset) * (1.0f / nested);
            std::size_t best = 0; // argmin |t - map|, first on ties (torch.argmin)
            for (std::size_t j = 1; j < map.size(); ++j)
                if (std::fabs(t - map[j]) < std::fabs(t - map[best]))
                    best = j;
            QCOMPARE(dq->absmax[i], map[best] * nested + offset);
        }
    }
    const auto out = run("nf4:dq", x, 60, 640);
    for (std::size_t i = 0; i < x.size(); i += 97)
        QCOMPARE(out.reconstruction[i], dq->codebook[dq->codes[i]] * dq->absmax[i / 64]);
}

void TestNfQuant::bitsPerWeight_data() {
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<double>("bpw");
    // 256 x 1024: 4096 blocks of 64, 16 nested blocks.
    QTest::newRow("nf4:g64") << "nf4" << 4.5;
    QTest::newRow("nf4:g64:dq") << "nf4:dq" << 4.0 + 8.0 / 64 + (16 * 32 + 32) / 262144.0;
    QTest::newRow("nf3:g128") << "nf3:g128" << 3.25;
    QTest::newRow("bnb_fp4") << "bnb_fp4" << 4.5;
    QTest::newRow("nf4:channel") << "nf4:channel" << 4.0 + 32.0 / 1024;
}

void TestNfQuant::bitsPerWeight() {
    QFETCH(QString, scheme);
    QFETCH(double, bpw);
    const auto x = gaussian(262144, 2);
    const auto out = run(scheme.toUtf8().constData(), x, 256, 1024);
    QCOMPARE(out.cost.bitsPerWeight(), bpw);
    if (scheme == "nf4:dq")
        QVERIFY(std::fabs(bpw - 4.127) < 0.001);
}

void TestNfQuant::errorShrinksWithMoreBits() {
    const auto x = gaussian(8192, 4);
    double prev = INFINITY;
    for (int k = 2; k <= 8; ++k) {
        const std::string s = "nf" + std::to_string(k);
        const auto out = run(s.c_str(), x, 32, 256);
        double e = 0;
        for (std::size_t i = 0; i < x.size(); ++i)
            e += std::pow(double(out.reconstruction[i]) - x[i], 2);
        QVERIFY2(e < prev, s.c_str());
        prev = e;
    }
}

void TestNfQuant::nibblePackingOrder() {
    const std::vector<std::uint8_t> q{1, 2, 3, 4, 5};
    QCOMPARE(packNibblesHighFirst(q), (std::vector<std::uint8_t>{0x12, 0x34, 0x50}));
    QCOMPARE(packNibblesLowFirst(q), (std::vector<std::uint8_t>{0x21, 0x43, 0x05}));
}

void TestNfQuant::nibblePackingRoundTrips() {
    std::mt19937 rng(3);
    for (std::size_t n : {0u, 1u, 2u, 63u, 64u, 1001u}) {
        std::vector<std::uint8_t> q(n);
        for (auto& v : q)
            v = static_cast<std::uint8_t>(rng() & 0xF);
        QCOMPARE(unpackNibblesHighFirst(packNibblesHighFirst(q), n), q);
        QCOMPARE(unpackNibblesLowFirst(packNibblesLowFirst(q), n), q);
    }
}

// nearestLevelIndices (branch-free, vectorised) gives lower_bound's index for every value:
// values on a midpoint and one float either side of it, NaN, +-Inf, random values, for the NF4
// codebook and for a 256-level list.
void TestNfQuant::batchedNearestLevelEqualsTheSearch() {
    std::vector<float> wide(256);
    for (std::size_t i = 0; i < wide.size(); ++i)
        wide[i] = -1.0f + 2.0f * static_cast<float>(i) / 255.0f;
    for (const auto& levels : {normalFloatCodebook(4), wide}) {
        const std::vector<float> mids = levelMidpoints(levels);
        std::vector<float> x{std::numeric_limits<float>::quiet_NaN(),
                             std::numeric_limits<float>::infinity(),
                             -std::numeric_limits<float>::infinity(),
                             0.0f,
                             -0.0f,
                             2.0f,
                             -2.0f};
        for (float m : mids)
            for (float v : {m, std::nextafter(m, -2.0f), std::nextafter(m, 2.0f)})
                x.push_back(v);
        std::mt19937 rng(17);
        std::uniform_real_distribution<float> u(-1.1f, 1.1f);
        for (int i = 0; i < 5000; ++i)
            x.push_back(u(rng));
        std::vector<std::uint8_t> got(x.size());
        nearestLevelIndices(mids, x.data(), static_cast<std::int64_t>(x.size()), got.data());
        for (std::size_t i = 0; i < x.size(); ++i)
            QCOMPARE(static_cast<std::size_t>(got[i]), nearestLevelIndex(mids, x[i]));
    }
}

QTEST_APPLESS_MAIN(TestNfQuant)
#include "test_nf_quant.moc"
