// Error maps and error samples (core/metrics/error_map) against hand-computed cases: row, column
// and tile RMSE on a 3 x 4 matrix with ragged tiles, and the scatter sample's stride and largest
// errors.

#include "metrics/error_map.h"

#include <QtTest>

#include <cmath>
#include <vector>

using namespace qs;

class TestErrorMap : public QObject {
    Q_OBJECT

private slots:
    void rowsColumnsAndTilesByHand() {
        // w - w^ = [[1, 0, 0, 2], [0, 0, 0, 0], [3, 0, 4, 0]]
        const std::vector<float> w = {1, 5, 5, 2, 7, 7, 7, 7, 3, 1, 4, 1};
        const std::vector<float> rec = {0, 5, 5, 0, 7, 7, 7, 7, 0, 1, 0, 1};
        const MatrixView view{w.data(), 3, 4};
        const ErrorMap m = computeErrorMap(view, rec, 2);
        QCOMPARE(m.tileRows, std::int64_t(2)); // ceil(3 / 2)
        QCOMPARE(m.tileCols, std::int64_t(2));
        QCOMPARE(m.gridRows, 2);
        QCOMPARE(m.gridCols, 2);
        QCOMPARE(m.rowRmse.size(), size_t(3));
        QCOMPARE(m.rowRmse[0], std::sqrt(5.0 / 4));
        QCOMPARE(m.rowRmse[1], 0.0);
        QCOMPARE(m.rowRmse[2], std::sqrt(25.0 / 4));
        QCOMPARE(m.colRmse[0], std::sqrt(10.0 / 3));
        QCOMPARE(m.colRmse[1], 0.0);
        QCOMPARE(m.colRmse[2], std::sqrt(16.0 / 3));
        QCOMPARE(m.colRmse[3], std::sqrt(4.0 / 3));
        // Tiles: rows {0,1} x cols {0,1}: 1 over 4; rows {0,1} x {2,3}: 4 over 4;
        // row {2} x {0,1}: 9 over 2; row {2} x {2,3}: 16 over 2.
        QCOMPARE(m.tileRmse[0], std::sqrt(1.0 / 4));
        QCOMPARE(m.tileRmse[1], std::sqrt(4.0 / 4));
        QCOMPARE(m.tileRmse[2], std::sqrt(9.0 / 2));
        QCOMPARE(m.tileRmse[3], std::sqrt(16.0 / 2));
        QCOMPARE(m.maxTileRmse(), std::sqrt(8.0));
        // One tile per element when the grid allows.
        const ErrorMap fine = computeErrorMap(view, rec, 96);
        QCOMPARE(fine.gridRows, 3);
        QCOMPARE(fine.gridCols, 4);
        QCOMPARE(fine.tileRmse[11], 0.0);
        QCOMPARE(fine.tileRmse[10], 4.0);
        // Mismatched sizes give an empty map, not a crash.
        QVERIFY(computeErrorMap(view, std::span<const float>(rec.data(), 5)).tileRmse.empty());
    }

    void sampleKeepsTheStrideAndTheLargestErrors() {
        std::vector<float> w(1000), rec(1000);
        for (int i = 0; i < 1000; ++i) {
            w[size_t(i)] = float(i);
            rec[size_t(i)] = float(i) - (i == 777 ? 50.f : i == 3 ? -40.f : 0.01f);
        }
        const MatrixView view{w.data(), 10, 100};
        const auto s = sampleErrors(view, rec, 100, 2);
        // Stride 10 gives 0, 10, ..., 990; the two largest errors add 3 and 777.
        QCOMPARE(s.size(), size_t(102));
        bool saw3 = false, saw777 = false;
        for (size_t k = 1; k < s.size(); ++k)
            QVERIFY(s[k].value > s[k - 1].value); // index order, no repeats
        for (const auto& e : s) {
            if (e.value == 3.f) {
                saw3 = true;
                QCOMPARE(e.error, -40.f);
            }
            if (e.value == 777.f) {
                saw777 = true;
                QCOMPARE(e.error, 50.f);
            }
        }
        QVERIFY(saw3 && saw777);
        QCOMPARE(sampleErrors(view, rec, 2000, 0).size(), size_t(1000));
    }
};

QTEST_APPLESS_MAIN(TestErrorMap)
#include "test_error_map.moc"
