// ChartView (through WeightHistogramChart): series filled from point lists, log-scale switching,
// and the context menu's exports — PNG, SVG and CSV; ProfileChart's index ticks.

#include "charts/methods_chart.h"
#include "charts/profile_chart.h"
#include "charts/sqnr_sweep_chart.h"
#include "charts/weight_histogram_chart.h"
#include "charts/wrapped_legend.h"

#include <QChart>
#include <QGraphicsTextItem>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>

#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QValueAxis>

#include <cmath>

using namespace qs;

namespace {

HistogramPlot samplePlot() {
    Histogram h;
    h.lo = -1;
    h.hi = 1;
    h.counts = {1, 4, 9, 0, 3};
    return buildHistogramPlot(h);
}

} // namespace

class TestChartView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void drawsBinsAndLevels();
    void switchesToALogCountAxisAndBack();
    void exportsCsvPngAndSvg();
    void clearsToNothingToExport();
    void profileIndexTicksFallOnPowersOfTwo();
    void xTicksFollowTheWidth();
    void methodNamesTurnUprightWhenNarrow();
    void aLaddersPointsAreNamed();
    void aNarrowLegendWrapsInsteadOfCutting();
};

void TestChartView::drawsBinsAndLevels() {
    WeightHistogramChart chart;
    const std::vector<float> levels{-0.5f, 0.f, 0.5f};
    chart.setPlots(samplePlot(), levels, buildLevelLines(levels), Qt::red);
    QCOMPARE(chart.binCount(), 5);
    QCOMPARE(chart.levelCount(), 3);
    QCOMPARE(chart.levelsBottom(), 0.0); // full-height lines
    // int8's 255 levels: a rug along the top, clear of the histogram's tails at the bottom.
    std::vector<float> dense;
    for (int k = -127; k <= 127; ++k)
        dense.push_back(static_cast<float>(k) / 127.0f);
    chart.setPlots(samplePlot(), dense, buildLevelLines(dense), Qt::red);
    QCOMPARE(chart.levelCount(), 255);
    QVERIFY2(chart.levelsBottom() >= 0.95, qPrintable(QString::number(chart.levelsBottom())));
}

void TestChartView::switchesToALogCountAxisAndBack() {
    WeightHistogramChart chart;
    chart.setPlots(samplePlot(), {}, {}, Qt::red);
    QSignalSpy spy(&chart, &WeightHistogramChart::logScaleChanged);
    chart.setLogScale(true);
    QVERIFY(chart.isLogScale());
    chart.setLogScale(true);
    chart.setLogScale(false);
    QVERIFY(!chart.isLogScale());
    QCOMPARE(spy.count(), 2);
    chart.resetZoom();
}

void TestChartView::exportsCsvPngAndSvg() {
    WeightHistogramChart chart;
    const std::vector<float> levels{-0.5f, 0.5f};
    chart.setPlots(samplePlot(), levels, buildLevelLines(levels), Qt::red);
    chart.resize(400, 300);
    const QStringList lines = chart.csvData().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.front(), QStringLiteral("bin_lo,bin_hi,count"));
    QCOMPARE(lines.at(3), QStringLiteral("-0.2,0.2,9"));
    QVERIFY(lines.contains(QStringLiteral("level_index,level")));
    QCOMPARE(lines.back(), QStringLiteral("1,0.5"));

    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("chart.png"));
    const QString svg = dir.filePath(QStringLiteral("chart.svg"));
    QVERIFY(chart.savePng(png));
    QVERIFY(chart.saveSvg(svg));
    QVERIFY(QFileInfo(png).size() > 1000);
    QFile svgFile(svg);
    QVERIFY(svgFile.open(QIODevice::ReadOnly));
    QVERIFY(svgFile.readAll().contains("<svg"));
}

void TestChartView::clearsToNothingToExport() {
    WeightHistogramChart chart;
    chart.setPlots(samplePlot(), {}, {}, Qt::red);
    chart.clear();
    QVERIFY(chart.csvData().isEmpty());
    QCOMPARE(chart.levelCount(), 0);
}

void TestChartView::profileIndexTicksFallOnPowersOfTwo() {
    // 64 channels: 0, 16, 32, 48 (Qt's default five ticks printed 0, 16, 32, 47, 63).
    ProfileChart chart(QStringLiteral("t"), QStringLiteral("channel"), QStringLiteral("v"), false);
    chart.setSeries({{QStringLiteral("a"), Qt::red, std::vector<double>(64, 1.0)}});
    QCOMPARE(chart.indexTickInterval(), 16.0);
    chart.setSeries({{QStringLiteral("a"), Qt::red, std::vector<double>(172, 1.0)}});
    QCOMPARE(chart.indexTickInterval(), 32.0);
    chart.setSeries({{QStringLiteral("a"), Qt::red, std::vector<double>(8, 1.0)}});
    QCOMPARE(chart.indexTickInterval(), 2.0); // finer again after a wide one
}

// At 260 pixels, eight ticks over [-1.6, 1.6] left each label 25 pixels, and Qt printed "-...";
// the budget is about one per 45 pixels of plot, and the axes refit as the width changes.
void TestChartView::xTicksFollowTheWidth() {
    Histogram h;
    h.lo = -1.6;
    h.hi = 1.6;
    h.counts = {1, 4, 9, 0, 3, 2, 1, 1};
    WeightHistogramChart chart;
    chart.setPlots(buildHistogramPlot(h), {}, {}, Qt::red);
    chart.resize(260, 200);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    auto ticks = [&] {
        const auto* x = static_cast<QValueAxis*>(chart.chart()->axes(Qt::Horizontal).value(0));
        return static_cast<int>(std::lround((x->max() - x->min()) / x->tickInterval())) + 1;
    };
    QTRY_VERIFY2(ticks() <= 5, qPrintable(QString::number(ticks())));
    chart.resize(900, 300);
    QTRY_VERIFY2(ticks() >= 7, qPrintable(QString::number(ticks())));
}

// Method names side by side where they fit, upright where they do not (Qt cut them to "Aut...").
void TestChartView::methodNamesTurnUprightWhenNarrow() {
    MethodsChart chart(QStringLiteral("t"), QStringLiteral("v"));
    chart.setBars({QStringLiteral("RTN"), QStringLiteral("HQQ"), QStringLiteral("SINQ"),
                   QStringLiteral("GPTQ"), QStringLiteral("AWQ"), QStringLiteral("AutoRound")},
                  {{QStringLiteral("e"), Qt::blue, {1, 2, 3, 4, 5, 6}}});
    chart.resize(280, 300);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    QTRY_COMPARE(chart.labelsAngle(), -90);
    chart.resize(1000, 300);
    QTRY_COMPARE(chart.labelsAngle(), 0);
}

// q4_k's chart: its siblings' points are named; an int sweep's points are not.
void TestChartView::aLaddersPointsAreNamed() {
    SqnrSweepChart chart;
    chart.setPlot(
        buildSweepPlot({{2, 8.0, 2.625, "q2_k"}, {4, 19.0, 4.5, "q4_k"}, {8, 40.0, 8.5, "q8_0"}},
                       Scheme::parse("q4_k").value()),
        Qt::red);
    QCOMPARE(chart.pointNames(), QStringList({"q2_k", "q4_k", "q8_0"}));
    QCOMPARE(chart.highlightedBits(), 4);
    QVERIFY(chart.csvData().contains(QLatin1String("q2_k,2,")));
    chart.setPlot(buildSweepPlot({{2, 8.0, 2.5, "int2:g64"}, {3, 14.0, 3.5, "int3:g64"}},
                                 Scheme::parse("int3:g64").value()),
                  Qt::red);
    QVERIFY(chart.pointNames().isEmpty());
}

QTEST_MAIN(TestChartView)
#include "test_chart_view.moc"

void TestChartView::aNarrowLegendWrapsInsteadOfCutting() {
    // Three long names in 260 pixels: Qt's one-row legend cut each; this one wraps them whole.
    QChartView view;
    view.resize(260, 400);
    QChart* chart = view.chart();
    const QStringList names{QStringLiteral("int4:g64"), QStringLiteral("mulaw4:g64:mu255"),
                            QStringLiteral("nf4:g64"), QStringLiteral("hidden")};
    QList<QLineSeries*> series;
    for (const QString& n : names) {
        auto* s = new QLineSeries;
        s->setName(n);
        s->append({{0, 0}, {1, 1}});
        chart->addSeries(s);
        series << s;
    }
    auto* legend = new WrappedLegend(chart);
    legend->setShown(series.back(), false);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVERIFY(!chart->legend()->isVisible());
    const QString text = legend->plainText();
    for (int i = 0; i < 3; ++i)
        QVERIFY2(text.contains(names[i]), qPrintable(text));
    QVERIFY(!text.contains(QStringLiteral("hidden")));
    QVERIFY2(legend->lineCount() >= 2, qPrintable(QString::number(legend->lineCount())));
    // Under the plot, inside the chart, which made room for it.
    const QRectF item = legend->item()->mapRectToParent(legend->item()->boundingRect());
    QVERIFY(chart->rect().contains(item));
    QVERIFY2(item.top() > chart->plotArea().bottom(),
             qPrintable(QStringLiteral("%1 %2").arg(item.top()).arg(chart->plotArea().bottom())));
    // Wide: one line. Markers that change show at once.
    view.resize(700, 400);
    QTRY_COMPARE(legend->lineCount(), 1);
    series[1]->setName(QStringLiteral("q4_k"));
    QVERIFY(legend->plainText().contains(QStringLiteral("q4_k")));
    legend->setShown(series[0], false);
    QVERIFY(!legend->plainText().contains(QStringLiteral("int4:g64")));
    legend->setShown(series[0], true);
    QVERIFY(legend->plainText().contains(QStringLiteral("int4:g64")));
}
