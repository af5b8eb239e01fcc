// The sensitivity map's weight statistics (plan/weight_stats.h): a hand-computed matrix, the
// same numbers as computeDistributionStats and matrixImbalance to rounding, exactly the same
// numbers whole and in chunks of any size and on one thread or many, non-finite values left out
// of the moments as computeDistributionStats leaves them.

#include "methods/matrix_imbalance.h"
#include "metrics/distribution_stats.h"
#include "plan/weight_stats.h"

#include <QtTest>

#include <tbb/global_control.h>

#include <cmath>
#include <random>

using namespace qs;

namespace {

// Gaussian rows of unequal spread with a few loud values: kurtosis, outliers and imbalance all
// well away from zero.
std::vector<float> loudMatrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> d(0.01f, 0.02f);
    std::vector<float> w(static_cast<std::size_t>(rows * cols));
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c)
            w[static_cast<std::size_t>(r * cols + c)] = d(gen) * (1.0f + 0.05f * float(r % 7));
    for (std::size_t k = 0; k < w.size(); k += 97)
        w[k] *= 12.0f;
    return w;
}

WeightStats inChunks(MatrixView w, std::int64_t rowsPerChunk) {
    ChunkedWeightStats s(w.rows, w.cols);
    for (int pass = 0; pass < ChunkedWeightStats::kPasses; ++pass)
        for (std::int64_t r0 = 0; r0 < w.rows; r0 += rowsPerChunk)
            s.add(pass, {w.data + r0 * w.cols, std::min(rowsPerChunk, w.rows - r0), w.cols});
    return s.result();
}

// Bit for bit (QCOMPARE on doubles is fuzzy).
void sameNumbers(const WeightStats& a, const WeightStats& b) {
    QVERIFY(a.sumSq == b.sumSq);
    QVERIFY(a.kurtosis == b.kurtosis);
    QVERIFY(a.outlierShare == b.outlierShare);
    QVERIFY(a.imbalance == b.imbalance);
}

bool near(double a, double b, double rel) {
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b));
}

} // namespace

class TestWeightStats : public QObject {
    Q_OBJECT

private slots:
    void handComputed() {
        // Rows (1, 2, 3) and (2, 4, 6): row deviations 1 and 2 (unbiased), column deviations
        // 0.5 sqrt 2, sqrt 2 and 1.5 sqrt 2, so the imbalance is 1.5 sqrt 2 / (0.5 sqrt 2) = 3.
        // Mean 3; deviations -2 -1 0 -1 1 3: m2 = 16 / 6, m4 = 100 / 6, kurtosis
        // (100 / 6) / (16 / 6)^2 - 3 = 600 / 256 - 3; sum of squares 70; no value beyond
        // 3 sigma (4.90).
        const float v[] = {1, 2, 3, 2, 4, 6};
        const WeightStats s = weightStats({v, 2, 3});
        QCOMPARE(s.sumSq, 70.0);
        QVERIFY(near(s.imbalance, 3.0, 1e-15));
        QVERIFY(near(s.kurtosis, 600.0 / 256.0 - 3.0, 1e-15));
        QCOMPARE(s.outlierShare, 0.0);
        // One row or one column: no imbalance (NaN, as torch.std gives).
        QVERIFY(std::isnan(weightStats({v, 1, 6}).imbalance));
        QVERIFY(std::isnan(weightStats({v, 6, 1}).imbalance));
    }

    void agreesWithTheWholeTensorStatistics() {
        for (auto [rows, cols] : {std::pair{64, 300}, {257, 33}, {3, 4099}}) {
            const auto w = loudMatrix(rows, cols, static_cast<unsigned>(rows + cols));
            const MatrixView m{w.data(), rows, cols};
            const WeightStats s = weightStats(m);
            const DistributionStats d = computeDistributionStats(w);
            double sq = 0;
            for (float x : w)
                sq += double(x) * x;
            QVERIFY(near(s.sumSq, sq, 1e-13));
            QVERIFY2(near(s.kurtosis, d.kurtosis, 1e-12),
                     qPrintable(QString("%1 vs %2").arg(s.kurtosis).arg(d.kurtosis)));
            QVERIFY(d.kurtosis > 1.0);
            QCOMPARE(s.outlierShare, d.outlierShare);
            QVERIFY(d.outlierShare > 0.005);
            QVERIFY(near(s.imbalance, matrixImbalance(m), 1e-13));
        }
    }

    void chunksAndThreadsGiveTheSameNumbers() {
        const std::int64_t rows = 130, cols = 517;
        const auto w = loudMatrix(rows, cols, 7);
        const MatrixView m{w.data(), rows, cols};
        const WeightStats whole = weightStats(m);
        for (std::int64_t chunk : {1, 7, 64, 129})
            sameNumbers(inChunks(m, chunk), whole);
        tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
        sameNumbers(weightStats(m), whole);
        sameNumbers(inChunks(m, 9), whole);
    }

    // The loudest channel's RMS over the median channel's, from mean squares.
    void inputSpreadOfHandPickedChannels() {
        const std::vector<float> odd{9, 1, 100, 16, 4}; // median 9
        QVERIFY(near(inputSpread(odd), 10.0 / 3.0, 1e-15));
        const std::vector<float> even{16, 1, 4, 9}; // median (4 + 9) / 2
        QVERIFY(near(inputSpread(even), std::sqrt(16.0 / 6.5), 1e-15));
        QCOMPARE(inputSpread(std::vector<float>{4}), 1.0);
        QVERIFY(std::isnan(inputSpread({})));
        QVERIFY(std::isnan(inputSpread(std::vector<float>{0, 0, 5}))); // median 0
    }

    void nonFiniteValuesAreLeftOutOfTheMoments() {
        auto w = loudMatrix(40, 50, 3);
        w[17] = std::numeric_limits<float>::quiet_NaN();
        w[1000] = std::numeric_limits<float>::infinity();
        const WeightStats s = weightStats({w.data(), 40, 50});
        const DistributionStats d = computeDistributionStats(w);
        QCOMPARE(d.nonFinite, std::uint64_t{2});
        QVERIFY(near(s.kurtosis, d.kurtosis, 1e-12));
        QCOMPARE(s.outlierShare, d.outlierShare);
        // The imbalance takes whatever matrixImbalance makes of the NaN and infinite deviations.
        const double whole = matrixImbalance({w.data(), 40, 50});
        QVERIFY((std::isnan(s.imbalance) && std::isnan(whole)) || near(s.imbalance, whole, 1e-13));
    }
};

QTEST_APPLESS_MAIN(TestWeightStats)
#include "test_weight_stats.moc"
