// Names beside chart points, placed without covering each other or a point: placeLabels'
// geometry, then the Plan tab's chart (the sample's crowded int4:g128 / nf4:g64) and a lesson's
// "4-bit formats" chart (nf4:g64 and nvfp4 a few pixels apart).

#include "charts/pareto_chart.h"
#include "charts/point_names.h"
#include "learn/curve_chart.h"

#include <QTest>
#include <QValueAxis>

using namespace qs;

namespace {

// How far the label sits from its point's centre, along x or y whichever is more (a label at a
// corner is as close as one beside).
double distanceTo(const QRectF& r, QPointF p) {
    const double dx = std::max({r.left() - p.x(), 0.0, p.x() - r.right()});
    const double dy = std::max({r.top() - p.y(), 0.0, p.y() - r.bottom()});
    return std::max(dx, dy);
}

bool anyOverlap(const QList<QRectF>& rects) {
    for (qsizetype i = 0; i < rects.size(); ++i)
        for (qsizetype j = i + 1; j < rects.size(); ++j)
            if (rects[i].intersects(rects[j]))
                return true;
    return false;
}

ParetoPoint uniform(const char* spec, double bpw, double db) {
    ParetoPoint p;
    p.label = spec;
    p.bitsPerWeight = bpw;
    p.sqnrDb = db;
    return p;
}

} // namespace

class TestPointNames : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void aLoneLabelGoesAboveItsPoint();
    void crowdedLabelsMoveApart();
    void aLabelAtTheTopEdgeGoesBelow();
    void aLabelKeepsOffALine();
    void theChartsNamesDoNotOverlap();
    void aLessonsNamesDoNotOverlap();
};

void TestPointNames::aLoneLabelGoesAboveItsPoint() {
    const QRectF bounds(0, 0, 400, 300);
    const auto r = placeLabels({{QPointF(200, 150), QSizeF(60, 14), 5}}, {}, bounds);
    QCOMPARE(r.size(), 1);
    QCOMPARE(r[0].center().x(), 200.0);
    QVERIFY(r[0].bottom() < 150 - 5); // above the marker, clear of it
    QVERIFY(distanceTo(r[0], QPointF(200, 150)) <= 5 + 3 + 1e-9);
}

void TestPointNames::crowdedLabelsMoveApart() {
    // Three points a few pixels apart (as int4:g128, nf4:g64 and the ring of the current plan).
    const QRectF bounds(0, 0, 400, 300);
    const QList<LabelSpot> spots{{QPointF(200, 150), QSizeF(64, 14), 5.5},
                                 {QPointF(210, 146), QSizeF(52, 14), 5.5},
                                 {QPointF(205, 140), QSizeF(40, 14), 5.5}};
    const QList<QRectF> ring{QRectF(197, 122, 16, 16)};
    const auto r = placeLabels(spots, ring, bounds);
    QCOMPARE(r.size(), 3);
    QVERIFY(!anyOverlap(r));
    for (qsizetype i = 0; i < r.size(); ++i) {
        QVERIFY(bounds.contains(r[i]));
        QVERIFY(!r[i].intersects(ring[0]));
        for (const LabelSpot& s : spots) // no label covers any point's marker
            QVERIFY(!r[i].intersects(QRectF(s.anchor.x() - s.radius, s.anchor.y() - s.radius,
                                            2 * s.radius, 2 * s.radius)));
        QVERIFY2(distanceTo(r[i], spots[i].anchor) <= spots[i].radius + 3 + 1e-9,
                 "each label stays beside its own point");
    }
}

void TestPointNames::aLabelAtTheTopEdgeGoesBelow() {
    const QRectF bounds(0, 0, 400, 300);
    const auto r = placeLabels({{QPointF(200, 8), QSizeF(60, 14), 5}}, {}, bounds);
    QVERIFY(bounds.contains(r[0]));
    QVERIFY(r[0].top() > 8);
}

void TestPointNames::aLabelKeepsOffALine() {
    // A curve through the point, steeply: above and below are crossed; beside it is clear.
    const QRectF bounds(0, 0, 400, 300);
    const QList<QLineF> curve{QLineF(190, 250, 200, 150), QLineF(200, 150, 210, 50)};
    const auto r = placeLabels({{QPointF(200, 150), QSizeF(60, 14), 5}}, {}, bounds, curve);
    for (const QLineF& l : curve) {
        QPointF hit;
        const QLineF edges[4] = {QLineF(r[0].topLeft(), r[0].topRight()),
                                 QLineF(r[0].topRight(), r[0].bottomRight()),
                                 QLineF(r[0].bottomRight(), r[0].bottomLeft()),
                                 QLineF(r[0].bottomLeft(), r[0].topLeft())};
        for (const QLineF& e : edges)
            QVERIFY(l.intersects(e, &hit) != QLineF::BoundedIntersection);
    }
    QVERIFY(distanceTo(r[0], QPointF(200, 150)) <= 5 + 3 + 1e-9);
    // Without the line it would have gone above.
    QVERIFY(placeLabels({{QPointF(200, 150), QSizeF(60, 14), 5}}, {}, bounds)[0].bottom() < 145);
    // Crossing a line beats being cut off: near the right edge, every spot inside the chart is
    // crossed by the line; the label takes one (on the left) rather than reach out of the chart.
    const QList<QLineF> wall{QLineF(330, 0, 330, 300)};
    const auto edge = placeLabels({{QPointF(370, 150), QSizeF(100, 14), 5}}, {}, bounds, wall);
    QVERIFY(bounds.contains(edge[0]));
    QVERIFY(edge[0].right() < 370 && edge[0].left() < 330);
}

void TestPointNames::theChartsNamesDoNotOverlap() {
    // The sample's plan view: int4:g128 and nf4:g64 land within a few pixels of each other.
    ParetoChart chart;
    chart.resize(440, 600);
    std::vector<ParetoPoint> plans;
    for (int i = 0; i <= 16; ++i) {
        ParetoPoint p;
        p.bitsPerWeight = 3.3 + 0.42 * i;
        p.sqnrDb = 13.5 + 2.0 * i;
        plans.push_back(p);
    }
    const std::vector<ParetoPoint> uniforms{
        uniform("int3:g64", 3.30, 13.4), uniform("int4:g128", 4.23, 19.8),
        uniform("nf4:g64", 4.38, 20.1), uniform("q4_k", 7.72, 27.1), uniform("q8_0", 10.06, 45.5)};
    chart.setCurve(plans, uniforms);
    chart.setCurrent(4.5, &plans[3]);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    const QList<QRectF> rects = chart.labelRects();
    QCOMPARE(rects.size(), 5);
    for (const QRectF& r : rects)
        QVERIFY(!r.isEmpty()); // every point is inside the plot area: every name is shown
    QVERIFY(!anyOverlap(rects));
    for (const QRectF& r : rects)
        QVERIFY(chart.chart()->rect().contains(r));
    // Zoomed to 3-8 bits: q8_0 (10.06 bpw) leaves the plot area, and its name with it; the
    // others are placed again beside their points' new positions.
    auto* x = qobject_cast<QValueAxis*>(chart.chart()->axes(Qt::Horizontal).front());
    QVERIFY(x);
    x->setRange(3.0, 8.0);
    const QList<QRectF> zoomed = chart.labelRects();
    QVERIFY(zoomed[4].isEmpty());
    for (int i = 0; i < 4; ++i) {
        QVERIFY(!zoomed[i].isEmpty());
        const QPointF at = chart.chart()->mapToPosition(
            QPointF(uniforms[static_cast<std::size_t>(i)].bitsPerWeight,
                    uniforms[static_cast<std::size_t>(i)].sqnrDb));
        QVERIFY(distanceTo(zoomed[i], at) <= 11 / 2.0 + 3 + 1e-6);
    }
    QVERIFY(!anyOverlap(zoomed));
    // As narrow as at 1280 x 800 (290 pixels), with the sample's curve bending past q4_k: its
    // long name crosses the curve rather than run out of the chart.
    ParetoChart narrowChart;
    narrowChart.resize(290, 560);
    std::vector<ParetoPoint> bent;
    const double curve[][2] = {{3.3, 13.5}, {4.0, 18.0}, {4.5, 22.0}, {5.0, 24.5}, {6.0, 27.5},
                               {7.0, 29.0}, {8.0, 31.0}, {9.0, 35.0}, {10.0, 45.5}};
    for (const auto& [bpw, db] : curve)
        bent.push_back(uniform("", bpw, db));
    narrowChart.setCurve(bent, {uniform("int3:g64", 3.30, 13.4), uniform("int4:g128", 4.23, 19.8),
                                uniform("nf4:g64", 4.38, 20.1),
                                uniform("q4_k (+f16, q5_0)", 7.72, 27.1)});
    narrowChart.setCurrent(4.5, &bent[2]);
    narrowChart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&narrowChart));
    const QList<QRectF> narrow = narrowChart.labelRects();
    for (const QRectF& r : narrow)
        QVERIFY2(narrowChart.chart()->rect().contains(r),
                 qPrintable(QStringLiteral("%1..%2 in %3")
                                .arg(r.left())
                                .arg(r.right())
                                .arg(narrowChart.chart()->rect().width())));
    QVERIFY(!anyOverlap(narrow));
}

void TestPointNames::aLessonsNamesDoNotOverlap() {
    CurveChart chart;
    chart.resize(460, 480);
    QList<CurveSeries> curves;
    const QList<std::pair<QString, QPointF>> points{
        {"int4:g128", {4.16, 19.9}}, {"nf4:g64", {4.5, 20.75}},  {"nvfp4", {4.5, 20.45}},
        {"q4_0", {4.5, 21.3}},       {"int4:g32", {4.63, 21.8}}, {"fp4:g32", {5.0, 19.95}}};
    for (const auto& [name, p] : points)
        curves.append({name, {p}, Qt::blue, true, {name}, {name}});
    chart.setCurves(QStringLiteral("4-bit formats"), QStringLiteral("bpw"), QStringLiteral("dB"),
                    curves, {QPointF(5.0, 19.95)});
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    const QList<QRectF> rects = chart.nameRects();
    QCOMPARE(rects.size(), points.size());
    for (const QRectF& r : rects)
        QVERIFY(!r.isEmpty());
    QVERIFY(!anyOverlap(rects));
    for (qsizetype i = 0; i < rects.size(); ++i)
        for (qsizetype j = 0; j < points.size(); ++j) {
            const QPointF c = chart.chart()->mapToPosition(points[j].second);
            QVERIFY(!rects[i].contains(c)); // no name over any point
        }
}

QTEST_MAIN(TestPointNames)
#include "test_point_names.moc"
