// The kmeans (Lloyd-Max) family: optimality against an exact 1-D dynamic program on small
// inputs, never worse than the uniform int grid of the same size (synthetic data and every
// weight matrix of the bundled sample), determinism, options, storage and edge cases.

#include "io/checkpoint.h"
#include "quant/kmeans_quant.h"
#include "tensor/dtype.h"

#include "quant_helpers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace qs;
using namespace qs::test;

namespace {

double sse(std::span<const float> a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    return s;
}

// Exact optimum of 1-D k-means (contiguous clusters of the sorted values), O(k n^2).
double optimalDistortion(std::vector<float> v, int k) {
    std::sort(v.begin(), v.end());
    const auto n = static_cast<int>(v.size());
    std::vector<double> s1(n + 1, 0), s2(n + 1, 0);
    for (int i = 0; i < n; ++i) {
        s1[i + 1] = s1[i] + v[i];
        s2[i + 1] = s2[i] + static_cast<double>(v[i]) * v[i];
    }
    auto cost = [&](int a, int b) { // [a, b)
        const double m = b - a, s = s1[b] - s1[a];
        return s2[b] - s2[a] - s * s / m;
    };
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> prev(n + 1, inf), cur(n + 1, inf);
    prev[0] = 0;
    for (int c = 1; c <= k; ++c) {
        std::fill(cur.begin(), cur.end(), inf);
        cur[0] = 0;
        for (int b = 1; b <= n; ++b)
            for (int a = 0; a < b; ++a)
                if (prev[a] < inf)
                    cur[b] = std::min(cur[b], prev[a] + cost(a, b));
        std::swap(prev, cur);
    }
    return std::max(0.0, prev[n]);
}

std::vector<float> sample(unsigned seed, std::size_t n, bool heavy) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::student_t_distribution<float> td(2.5f);
    std::vector<float> v(n);
    for (auto& x : v)
        x = heavy ? td(rng) : nd(rng);
    return v;
}

} // namespace

class TestKmeansQuant : public QObject {
    Q_OBJECT
private slots:
    void reachesTheDynamicProgrammingOptimum();
    void beatsUniformIntOnSyntheticData_data();
    void beatsUniformIntOnSyntheticData();
    void beatsUniformIntOnTheSample();
    void fewDistinctValuesAreExact();
    void optionsAreParsedAndChecked();
    void storageIsCodesPlusFp16CodeBooks();
    void reconstructionUsesTheStoredFp16Levels();
    void deterministicAcrossRuns();
};

void TestKmeansQuant::reachesTheDynamicProgrammingOptimum() {
    int optimal = 0, trials = 0;
    double worst = 1.0;
    for (unsigned seed = 1; seed <= 60; ++seed) {
        for (int k : {2, 4, 8}) {
            const auto v = sample(seed, 40, seed % 2 == 0);
            const double best = optimalDistortion(v, k);
            const KmeansFit fit = fitLloydMax(v, k);
            QVERIFY(fit.distortion >= best * (1 - 1e-9) - 1e-12);
            const double ratio = best > 0 ? fit.distortion / best : 1.0;
            worst = std::max(worst, ratio);
            optimal += ratio < 1 + 1e-6;
            ++trials;
        }
    }
    qInfo("Lloyd-Max reached the exact optimum in %d of %d cases; worst ratio %.4f", optimal,
          trials, worst);
    QCOMPARE(optimal, trials); // groups of <= 1024 values with K <= 16 are solved exactly
    // K = 64 on 200 values is Lloyd's alone: close to, never below, the optimum
    const auto v = sample(77, 200, true);
    const double best = optimalDistortion(v, 64);
    const double got = fitLloydMax(v, 64).distortion;
    QVERIFY(got >= best * (1 - 1e-9) && got < best * 1.5);
}

void TestKmeansQuant::beatsUniformIntOnSyntheticData_data() {
    QTest::addColumn<int>("bits");
    QTest::addColumn<QString>("granularity");
    QTest::addColumn<bool>("heavy");
    for (int b = 2; b <= 8; b += 2)
        for (const char* g : {"tensor", "channel", "g64"})
            for (bool heavy : {false, true})
                QTest::addRow("%d bits %s %s", b, g, heavy ? "t(2.5)" : "gaussian")
                    << b << QString(g) << heavy;
}

void TestKmeansQuant::beatsUniformIntOnSyntheticData() {
    QFETCH(int, bits);
    QFETCH(QString, granularity);
    QFETCH(bool, heavy);
    const auto x = sample(static_cast<unsigned>(bits * 7 + heavy), 64 * 512, heavy);
    const MatrixView m{x.data(), 64, 512};
    const std::string g = granularity.toStdString();
    auto km = quantize(spec("kmeans" + std::to_string(bits) + ":" + g), m);
    auto in = quantize(spec("int" + std::to_string(bits) + ":" + g), m);
    QVERIFY(km.ok() && in.ok());
    const double a = sse(x, km->reconstruction), b = sse(x, in->reconstruction);
    QVERIFY2(a < b, qPrintable(QString("kmeans %1 vs int %2").arg(a).arg(b)));
}

void TestKmeansQuant::beatsUniformIntOnTheSample() {
    const std::string path = qEnvironmentVariable("QS_SOURCE_DIR").toStdString() +
                             "/resources/samples/stories260K.safetensors";
    auto c = Checkpoint::open(path);
    if (!c)
        QSKIP("bundled sample not found");
    int matrices = 0;
    for (const auto& t : c->tensors()) {
        if (t.shape.size() < 2)
            continue;
        auto v = c->readFloat(t);
        QVERIFY(v.ok());
        const MatrixView m{v->data(), t.rows(), t.cols()};
        for (const char* s : {"3:tensor", "4:channel", "4:g32"}) {
            auto km = quantize(spec(std::string("kmeans") + s), m);
            auto in = quantize(spec(std::string("int") + s), m);
            QVERIFY(km.ok() && in.ok());
            QVERIFY2(sse(*v, km->reconstruction) < sse(*v, in->reconstruction),
                     qPrintable(QString::fromStdString(t.name + " " + s)));
        }
        ++matrices;
    }
    QVERIFY(matrices > 10);
}

void TestKmeansQuant::fewDistinctValuesAreExact() {
    std::vector<float> x{0.5f, -1.0f, 0.5f, 2.0f, -1.0f, 0.5f, 2.0f, 0.0f};
    auto q = quantize(spec("kmeans2:tensor"), MatrixView{x.data(), 1, 8});
    QVERIFY(q.ok());
    QCOMPARE(q->reconstruction, x);
    QCOMPARE(q->levels, (std::vector<float>{-1.0f, 0.0f, 0.5f, 2.0f}));
    std::vector<float> zeros(16, 0.0f);
    auto z = quantize(spec("kmeans3:channel"), MatrixView{zeros.data(), 2, 8});
    QVERIFY(z.ok());
    QCOMPARE(z->reconstruction, zeros);
}

void TestKmeansQuant::optionsAreParsedAndChecked() {
    const auto x = sample(5, 4096, false);
    const MatrixView m{x.data(), 4, 1024};
    auto one = quantize(spec("kmeans3:tensor:iters=1"), m);
    auto many = quantize(spec("kmeans3:tensor:iters=200:tol=0"), m);
    QVERIFY(one.ok() && many.ok());
    QVERIFY(sse(x, many->reconstruction) < sse(x, one->reconstruction));
    auto bad = Scheme::parse("kmeans3:tol=2");
    if (bad.ok())
        QVERIFY(!quantize(*bad, m).ok());
}

void TestKmeansQuant::storageIsCodesPlusFp16CodeBooks() {
    const auto x = sample(6, 8 * 256, false);
    const MatrixView m{x.data(), 8, 256};
    auto t = quantize(spec("kmeans4:tensor"), m);
    auto c = quantize(spec("kmeans4:channel"), m);
    auto g = quantize(spec("kmeans2:g64"), m);
    QCOMPARE(t->cost.totalBits(), std::uint64_t(2048 * 4 + 16 * 16));
    QCOMPARE(c->cost.totalBits(), std::uint64_t(2048 * 4 + 8 * 16 * 16));
    QCOMPARE(g->cost.bitsPerWeight(), 2.0 + 4 * 16 / 64.0);
}

void TestKmeansQuant::reconstructionUsesTheStoredFp16Levels() {
    const auto x = sample(8, 4 * 300, true);
    auto q = quantize(spec("kmeans3:channel"), MatrixView{x.data(), 4, 300});
    QVERIFY(q.ok());
    QCOMPARE(q->levels.size(), std::size_t(8));
    for (float l : q->levels)
        QCOMPARE(halfToFloat(floatToHalf(l)), l);
    QVERIFY(std::is_sorted(q->levels.begin(), q->levels.end()));
    for (std::size_t i = 0; i < x.size(); ++i) // every value goes to its nearest level
        QVERIFY(halfToFloat(floatToHalf(q->reconstruction[i])) == q->reconstruction[i]);
}

void TestKmeansQuant::deterministicAcrossRuns() {
    const auto x = sample(9, 32 * 128, false);
    const MatrixView m{x.data(), 32, 128};
    auto a = quantize(spec("kmeans4:g32"), m);
    auto b = quantize(spec("kmeans4:g32"), m);
    QCOMPARE(a->reconstruction, b->reconstruction);
}

QTEST_APPLESS_MAIN(TestKmeansQuant)
#include "test_kmeans_quant.moc"
