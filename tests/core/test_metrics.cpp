#include "metrics/distribution_stats.h"
#include "metrics/error_metrics.h"
#include "metrics/histogram.h"
#include "metrics/output_error.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace qs;

class TestMetrics : public QObject {
    Q_OBJECT
private slots:
    void zeroDifferenceHistogramMatches();
    void errorMetricsKnownValues();
    void exactReconstructionHasInfiniteSqnr();
    void mergeEqualsWholeComputation();
    void errorSumsFollowTheLaneOrder();
    void distributionStatsKnownValues();
    void kurtosisOfTwoPointDistribution();
    void nonFiniteValuesAreCountedApart();
    void histogramBinsAndEdges();
    void differenceHistogramIsSymmetric();
    void histogramsMatchANaiveCount();
    void outputErrorOfALinearLayer();
};

void TestMetrics::errorMetricsKnownValues() {
    const std::vector<float> w{3, 4, 0, 0};
    const std::vector<float> r{3, 3, 0, 1};
    const auto m = computeErrorMetrics(w, r);
    // err = (0, 1, 0, -1): sum sq 2, mse 0.5; ||w||^2 = 25.
    QCOMPARE(m.count, std::uint64_t(4));
    QCOMPARE(m.mse(), 0.5);
    QCOMPARE(m.rmse(), std::sqrt(0.5));
    QCOMPARE(m.relRmse(), std::sqrt(2.0 / 25.0));
    QCOMPARE(m.sqnrDb(), 10.0 * std::log10(12.5));
    QCOMPARE(m.maxAbsErr, 1.0);
    // cos = (9 + 12) / (5 * sqrt(19))
    QCOMPARE(m.cosine(), 21.0 / (5.0 * std::sqrt(19.0)));
}

void TestMetrics::exactReconstructionHasInfiniteSqnr() {
    const std::vector<float> w{1, -2, 3};
    const auto m = computeErrorMetrics(w, w);
    QVERIFY(std::isinf(m.sqnrDb()) && m.sqnrDb() > 0);
    QCOMPARE(m.relRmse(), 0.0);
    QCOMPARE(m.cosine(), 1.0);
}

void TestMetrics::mergeEqualsWholeComputation() {
    std::vector<float> a(100000), b(100000);
    for (size_t i = 0; i < a.size(); ++i) {
        a[i] = std::sin(float(i));
        b[i] = a[i] + 0.01f * std::cos(float(i) * 0.37f);
    }
    const auto whole = computeErrorMetrics(a, b);
    auto part = computeErrorMetrics(std::span(a).first(40000), std::span(b).first(40000));
    part.merge(computeErrorMetrics(std::span(a).subspan(40000), std::span(b).subspan(40000)));
    QCOMPARE(part.count, whole.count);
    QVERIFY(std::fabs(part.sumSqErr - whole.sumSqErr) <= 1e-12 * whole.sumSqErr);
    QCOMPARE(part.maxAbsErr, whole.maxAbsErr);
}

// Within one stretch of 2^15 values the sums run in eight lanes (lane j adds the values j,
// j + 8, ... in order; the lanes are added pairwise), whatever the SIMD copy the CPU picks: the
// same doubles as this plain loop, bit for bit (no FMA, no other order). With a NaN and an
// infinity in the mix, and a length that leaves a tail.
void TestMetrics::errorSumsFollowTheLaneOrder() {
    std::mt19937 rng(5);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::uniform_real_distribution<float> u(-6.0f, 6.0f);
    const std::size_t n = 1003;
    std::vector<float> a(n), b(n);
    for (std::size_t i = 0; i < n; ++i) { // magnitudes over 5 decades: the order shows
        a[i] = g(rng) * std::exp(u(rng));
        b[i] = a[i] + 0.05f * std::fabs(a[i]) * g(rng);
    }
    b[17] = std::numeric_limits<float>::quiet_NaN();
    b[400] = std::numeric_limits<float>::infinity();
    double lanes[4][8] = {}, maxAbs = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double x = a[i], y = b[i], e = x - y;
        const volatile double e2 = e * e, x2 = x * x, y2 = y * y, xy = x * y; // no FMA
        lanes[0][i % 8] += e2;
        lanes[1][i % 8] += x2;
        lanes[2][i % 8] += y2;
        lanes[3][i % 8] += xy;
        maxAbs = std::max(maxAbs, std::fabs(e));
    }
    auto pairwise = [](const double* l) {
        return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    };
    const ErrorMetrics m = computeErrorMetrics(a, b);
    QCOMPARE(m.count, std::uint64_t(n));
    QVERIFY(std::isnan(m.sumSqErr) && std::isnan(pairwise(lanes[0]))); // the NaN reaches them
    QVERIFY(m.sumSqRef == pairwise(lanes[1]));
    QVERIFY(std::isnan(m.sumSqRec) && std::isnan(pairwise(lanes[2])));
    QVERIFY(std::isnan(m.dot) && std::isnan(pairwise(lanes[3])));
    QVERIFY(std::isinf(maxAbs) && m.maxAbsErr == maxAbs); // the infinite error; NaN passed over
    // Finite values only: every sum compared.
    b[17] = 0.5f;
    b[400] = -0.25f;
    std::fill(&lanes[0][0], &lanes[0][0] + 32, 0.0);
    maxAbs = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double x = a[i], y = b[i], e = x - y;
        const volatile double e2 = e * e, x2 = x * x, y2 = y * y, xy = x * y;
        lanes[0][i % 8] += e2;
        lanes[1][i % 8] += x2;
        lanes[2][i % 8] += y2;
        lanes[3][i % 8] += xy;
        maxAbs = std::max(maxAbs, std::fabs(e));
    }
    const ErrorMetrics f = computeErrorMetrics(a, b);
    // By hand: 2^27 in lane 0 and 1 in the seven others. Added pairwise the seven squares make
    // 2^54 + 4; added one by one each 1 would vanish into 2^54 (whose ulp is 4).
    const std::vector<float> big{0x1p27f, 1, 1, 1, 1, 1, 1, 1}, zeros(8, 0.0f);
    QVERIFY(computeErrorMetrics(big, zeros).sumSqRef == 0x1p54 + 4);
    QVERIFY(computeErrorMetrics(zeros, big).sumSqErr == 0x1p54 + 4);
    QVERIFY(f.sumSqErr == pairwise(lanes[0]));
    QVERIFY(f.sumSqRef == pairwise(lanes[1]));
    QVERIFY(f.sumSqRec == pairwise(lanes[2]));
    QVERIFY(f.dot == pairwise(lanes[3]));
    QVERIFY(f.maxAbsErr == maxAbs);
}

void TestMetrics::distributionStatsKnownValues() {
    const std::vector<float> v{1, 2, 3, 4};
    const auto s = computeDistributionStats(v);
    QCOMPARE(s.mean, 2.5);
    QCOMPARE(s.std, std::sqrt(1.25)); // population
    QCOMPARE(s.min, 1.0);
    QCOMPARE(s.max, 4.0);
    QCOMPARE(s.absmax, 4.0);
    QCOMPARE(s.skew, 0.0);
    // m4 = (2*1.5^4 + 2*0.5^4)/4 = 2.5625; m2^2 = 1.5625 -> excess -1.36
    QVERIFY(std::fabs(s.kurtosis - (2.5625 / 1.5625 - 3.0)) < 1e-12);
    QCOMPARE(s.outlierShare, 0.0);
}

void TestMetrics::kurtosisOfTwoPointDistribution() {
    // One large outlier among many zeros: share of values beyond 3 sigma is 1/n.
    std::vector<float> v(1000, 0.0f);
    v[0] = 100.0f;
    const auto s = computeDistributionStats(v);
    QCOMPARE(s.outlierShare, 0.001);
    QVERIFY(s.kurtosis > 900); // n - 3 - 1/(n-1)... ~ 995
    QCOMPARE(s.zeros, std::uint64_t(999));
}

void TestMetrics::nonFiniteValuesAreCountedApart() {
    const std::vector<float> v{1, std::numeric_limits<float>::quiet_NaN(), 3,
                               std::numeric_limits<float>::infinity()};
    const auto s = computeDistributionStats(v);
    QCOMPARE(s.count, std::uint64_t(2));
    QCOMPARE(s.nonFinite, std::uint64_t(2));
    QCOMPARE(s.mean, 2.0);
}

void TestMetrics::histogramBinsAndEdges() {
    const std::vector<float> v{0, 0.1f, 0.5f, 0.99f, 1.0f, -1, 2};
    const auto h = computeHistogram(v, 4, 0.0, 1.0);
    QCOMPARE(h.counts, (std::vector<std::uint64_t>{2, 0, 1, 2})); // 1.0 falls in the last bin
    QCOMPARE(h.below, std::uint64_t(1));
    QCOMPARE(h.above, std::uint64_t(1));
    QCOMPARE(h.total(), std::uint64_t(7));
    QCOMPARE(h.binCenter(0), 0.125);
    const auto auto_ = computeHistogram(v, 3);
    QCOMPARE(auto_.lo, -1.0);
    QCOMPARE(auto_.hi, 2.0);
    QCOMPARE(auto_.total(), std::uint64_t(7));
    const std::vector<float> constant(5, 2.0f);
    const auto c = computeHistogram(constant, 10);
    QVERIFY(c.hi > c.lo);
    QCOMPARE(c.total(), std::uint64_t(5));
}

void TestMetrics::differenceHistogramIsSymmetric() {
    const std::vector<float> a{1, 2, 3};
    const std::vector<float> b{1.5f, 2, 2};
    const auto h = computeDifferenceHistogram(a, b, 4);
    QCOMPARE(h.lo, -1.0);
    QCOMPARE(h.hi, 1.0);
    QCOMPARE(h.counts, (std::vector<std::uint64_t>{0, 1, 1, 1}));
}

// The vectorised binning against a plain loop over the values: more than one parallel chunk,
// values on the edges, outside the range, NaN and infinities, several bin counts.
void TestMetrics::histogramsMatchANaiveCount() {
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> a(200003), b(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        a[i] = normal(rng);
        b[i] = normal(rng) * 0.1f;
    }
    const float inf = std::numeric_limits<float>::infinity();
    std::size_t at = 13;
    for (float x : {std::numeric_limits<float>::quiet_NaN(), inf, -inf, -1.0f, 1.0f, 0.0f, -0.0f,
                    1.5f, -3.0f, 7.0f, std::nextafter(1.0f, 2.0f), std::nextafter(-1.0f, -2.0f)})
        for (int k = 0; k < 7; ++k, at += 2371)
            a[at] = x;
    b[5] = inf;
    auto naive = [](const std::vector<double>& v, int bins, double lo, double hi) {
        Histogram h;
        h.counts.assign(static_cast<std::size_t>(bins), 0);
        const double scale = bins / (hi - lo);
        for (double x : v) {
            if (!std::isfinite(x))
                ++h.nonFinite;
            else if (x < lo)
                ++h.below;
            else if (x > hi)
                ++h.above;
            else
                ++h.counts[std::min<std::size_t>(bins - 1,
                                                 static_cast<std::size_t>((x - lo) * scale))];
        }
        return h;
    };
    std::vector<double> values(a.begin(), a.end()), diffs(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        diffs[i] = double(a[i]) - double(b[i]);
    for (int bins : {1, 3, 120, 256}) {
        const Histogram ranged = computeHistogram(a, bins, -1.0, 1.0);
        const Histogram want = naive(values, bins, -1.0, 1.0);
        QCOMPARE(ranged.counts, want.counts);
        QCOMPARE(ranged.below, want.below);
        QCOMPARE(ranged.above, want.above);
        QCOMPARE(ranged.nonFinite, want.nonFinite);

        double lo = inf, hi = -inf;
        for (double x : values)
            if (std::isfinite(x)) {
                lo = std::min(lo, x);
                hi = std::max(hi, x);
            }
        const Histogram full = computeHistogram(a, bins);
        QCOMPARE(full.lo, lo);
        QCOMPARE(full.hi, hi);
        QCOMPARE(full.counts, naive(values, bins, lo, hi).counts);
        QCOMPARE(full.nonFinite, std::uint64_t(21));

        const Histogram d = computeDifferenceHistogram(a, b, bins);
        double m = 0;
        for (double x : diffs)
            if (std::isfinite(x))
                m = std::max(m, std::fabs(x));
        QCOMPARE(d.hi, m);
        const Histogram dw = naive(diffs, bins, -m, m);
        QCOMPARE(d.counts, dw.counts);
        QCOMPARE(d.nonFinite, dw.nonFinite);
        QCOMPARE(d.total() + d.nonFinite, std::uint64_t(a.size()));
    }
}

void TestMetrics::outputErrorOfALinearLayer() {
    // X = I (2x2): X W^T = W^T, so the output error is the weight error.
    const std::vector<float> x{1, 0, 0, 1};
    const std::vector<float> w{3, 0, 0, 4};
    const std::vector<float> r{3, 0, 0, 3};
    auto e = outputRelativeError(MatrixView{x.data(), 2, 2}, MatrixView{w.data(), 2, 2}, r.data());
    QVERIFY(e.ok());
    QCOMPARE(*e, 0.2);
    // Taller than a block of rows (600 = 2 x 256 + 88): against the sums written out.
    const std::int64_t t = 5, in = 7, out = 600;
    std::vector<float> xs(t * in), ws(out * in), rs(out * in);
    for (size_t i = 0; i < xs.size(); ++i)
        xs[i] = static_cast<float>(std::sin(1.3 * static_cast<double>(i)));
    for (size_t i = 0; i < ws.size(); ++i) {
        ws[i] = static_cast<float>(std::cos(0.7 * static_cast<double>(i)));
        rs[i] = std::round(ws[i] * 8.0f) / 8.0f;
    }
    double ref = 0, err = 0;
    for (std::int64_t a = 0; a < t; ++a)
        for (std::int64_t o = 0; o < out; ++o) {
            double y = 0, d = 0;
            for (std::int64_t k = 0; k < in; ++k) {
                y += double(xs[a * in + k]) * ws[o * in + k];
                d += double(xs[a * in + k]) * (double(ws[o * in + k]) - rs[o * in + k]);
            }
            ref += y * y;
            err += d * d;
        }
    auto tall = outputRelativeError(MatrixView{xs.data(), t, in}, MatrixView{ws.data(), out, in},
                                    rs.data());
    QVERIFY(tall.ok());
    QVERIFY2(std::abs(*tall - std::sqrt(err / ref)) <= 1e-6 * std::sqrt(err / ref), // float
             qPrintable(QString::number(*tall - std::sqrt(err / ref))));
    // The sums per token; the reference alone (once per tensor, for all its schemes) is the
    // same number, and given back it leaves the error unchanged.
    const MatrixView X{xs.data(), t, in}, W{ws.data(), out, in};
    auto sums = outputErrorSums(X, W, rs.data());
    QVERIFY(sums.ok());
    QVERIFY(std::abs(sums->ref - ref / t) <= 1e-6 * ref / t);
    QVERIFY(std::abs(sums->err - err / t) <= 1e-5 * err / t);
    auto alone = outputReference(X, W);
    QVERIFY(alone.ok());
    QCOMPARE(*alone, sums->ref); // bit for bit: the same blocks, in the same order
    QVERIFY(*alone == sums->ref);
    auto given = outputErrorSums(X, W, rs.data(), 123.0);
    QVERIFY(given.ok());
    QVERIFY(given->err == sums->err && given->ref == 123.0);
    const std::vector<float> x3{1, 2, 3};
    auto bad =
        outputRelativeError(MatrixView{x3.data(), 1, 3}, MatrixView{w.data(), 2, 2}, r.data());
    QVERIFY(!bad.ok());
    QVERIFY(!outputReference(MatrixView{x3.data(), 1, 3}, MatrixView{w.data(), 2, 2}).ok());
}

// The histogram of an exact reconstruction, built without the values, is the one computed.
void TestMetrics::zeroDifferenceHistogramMatches() {
    for (int bins : {1, 64, 255, 256}) {
        const std::vector<float> zeros(100, 0.0f);
        const qs::Histogram a = qs::computeDifferenceHistogram(zeros, zeros, bins);
        const qs::Histogram b = qs::zeroDifferenceHistogram(bins, 100);
        QCOMPARE(b.lo, a.lo);
        QCOMPARE(b.hi, a.hi);
        QCOMPARE(b.counts, a.counts);
    }
}

QTEST_APPLESS_MAIN(TestMetrics)
#include "test_metrics.moc"
