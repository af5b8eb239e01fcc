// plot_data: the point lists the charts draw, built off the GUI thread.

#include "charts/plot_data.h"

#include <QTest>

#include <limits>

using namespace qs;

class TestPlotData : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void histogramOutlineIsAClosedStep();
    void logOutlineLiftsEmptyBinsToTheFloor();
    void binAtMapsValuesToBins();
    void staircasePicksTheNearestLevel();
    void staircaseClipsToTheRange();
    void levelLinesAreThreePointsPerLevel();
    void spanTakesInLevelsWithinTheMirroredRange();
    void sweepLeavesOutExactPoints();
};

void TestPlotData::histogramOutlineIsAClosedStep() {
    Histogram h;
    h.lo = -1;
    h.hi = 1;
    h.counts = {2, 0, 5, 1};
    const HistogramPlot p = buildHistogramPlot(h);
    QCOMPARE(p.linear.size(), 2 * 4 + 2);
    QCOMPARE(p.linear.front(), QPointF(-1, 0));
    QCOMPARE(p.linear.back(), QPointF(1, 0));
    QCOMPARE(p.linear[1], QPointF(-1, 2));
    QCOMPARE(p.linear[2], QPointF(-0.5, 2));
    QCOMPARE(p.maxCount, 5.0);
}

void TestPlotData::logOutlineLiftsEmptyBinsToTheFloor() {
    Histogram h;
    h.lo = 0;
    h.hi = 2;
    h.counts = {0, 3};
    const HistogramPlot p = buildHistogramPlot(h);
    QCOMPARE(p.log[1].y(), HistogramPlot::kLogFloor);
    QCOMPARE(p.log[3].y(), 3.0);
    QCOMPARE(p.log.front().y(), HistogramPlot::kLogFloor);
}

void TestPlotData::binAtMapsValuesToBins() {
    Histogram h;
    h.lo = 0;
    h.hi = 4;
    h.counts = {1, 1, 1, 1};
    const HistogramPlot p = buildHistogramPlot(h);
    QCOMPARE(p.binAt(0.0), 0);
    QCOMPARE(p.binAt(1.5), 1);
    QCOMPARE(p.binAt(4.0), 3); // the last bin includes hi
    QCOMPARE(p.binAt(-0.1), -1);
}

void TestPlotData::staircasePicksTheNearestLevel() {
    const QList<QPointF> s = buildStaircase({-1.f, 0.f, 1.f}, -2, 2);
    const QList<QPointF> expected{{-2, -1}, {-0.5, -1}, {-0.5, 0}, {0.5, 0}, {0.5, 1}, {2, 1}};
    QCOMPARE(s, expected);
}

void TestPlotData::staircaseClipsToTheRange() {
    const QList<QPointF> s = buildStaircase({-1.f, 0.f, 1.f, 2.f}, 0.2, 0.8);
    const QList<QPointF> expected{{0.2, 0}, {0.5, 0}, {0.5, 1}, {0.8, 1}};
    QCOMPARE(s, expected);
    QVERIFY(buildStaircase({}, 0, 1).isEmpty());
}

void TestPlotData::levelLinesAreThreePointsPerLevel() {
    const QList<QPointF> l = buildLevelLines({-0.5f, 0.25f});
    QCOMPARE(l.size(), 6);
    QCOMPARE(l[1], QPointF(-0.5, 1));
    QCOMPARE(l[3], QPointF(0.25, 0));
}

void TestPlotData::sweepLeavesOutExactPoints() {
    auto scheme = Scheme::parse("int4:g64");
    QVERIFY(scheme.ok());
    const double inf = std::numeric_limits<double>::infinity();
    const SweepPlot p =
        buildSweepPlot({{2, 10.0, 2.3}, {3, 16.0, 3.3}, {4, inf, 4.3}}, scheme.value());
    QCOMPARE(p.sqnr.size(), 2);
    QCOMPARE(p.bitsPerWeight.size(), 3);
    QCOMPARE(p.currentBits, 4);
    QCOMPARE(p.family, QStringLiteral("int"));
    QVERIFY(!p.ladder);
    QCOMPARE(p.names, QStringList({"int", "int", "int"}));
    // A fixed-width family's ladder: each point named by the sibling measured there.
    const SweepPlot k =
        buildSweepPlot({{2, 8.0, 2.625, "q2_k"}, {4, 19.0, 4.5, "q4_k"}, {8, 40.0, 8.5, "q8_0"}},
                       Scheme::parse("q4_k").value());
    QVERIFY(k.ladder);
    QCOMPARE(k.names, QStringList({"q2_k", "q4_k", "q8_0"}));
    QCOMPARE(k.currentBits, 4);
}

QTEST_MAIN(TestPlotData)
// nf4's top level (the absmax, +1.594) lies past a skewed tensor's max (1.23): the span takes it
// in; an unscaled grid's +-448 and a NaN do not move it.
void TestPlotData::spanTakesInLevelsWithinTheMirroredRange() {
    const std::vector<float> nf4{-1.594f, -0.5f, 0.0f, 0.6f, 1.594f};
    QCOMPARE(spanWithLevels(-1.594, 1.23, nf4), std::make_pair(-1.594, double(1.594f)));
    const std::vector<float> wide{-448.0f, -1.125f, 0.0f,
                                  1.125f,  448.0f,  std::numeric_limits<float>::quiet_NaN()};
    QCOMPARE(spanWithLevels(-1.0, 1.2, wide), std::make_pair(-1.125, 1.2));
    QCOMPARE(spanWithLevels(-1.0, 1.2, {}), std::make_pair(-1.0, 1.2));
}

#include "test_plot_data.moc"
