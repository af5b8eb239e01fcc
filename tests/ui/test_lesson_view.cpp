// Learn mode: every lesson opens and renders each of its steps; the sliders and boxes of each
// lesson change the formulas and the charts (bits 4 -> 3 halves L and roughly doubles Δ, μ moves
// the SNR-vs-amplitude curve, the group size changes the scale count, the inspector's bytes
// follow the format and block, the memory items add up); every control has a tooltip; the main
// window's Learn menu opens lessons and leaves Learn mode.

#include "charts/transfer_chart.h"
#include "charts/weight_histogram_chart.h"
#include "learn/block_inspector_view.h"
#include "learn/curve_chart.h"
#include "learn/formula_panel.h"
#include "learn/lesson_controls.h"
#include "learn/lesson_view.h"
#include "learn/memory_calculator.h"
#include "learn/packed_bytes_view.h"
#include "main_window.h"
#include "models/block_walk_model.h"
#include "number_format.h"
#include "panels/metrics_panel.h"
#include "panels/scheme_panel.h"
#include "panels/tensor_browser_panel.h"
#include "test_support.h"

#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QAction>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QMenuBar>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTableView>
#include <QTest>

#include <cmath>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 20000;

template <class T> T* child(QWidget* w, const char* name) {
    auto* c = w->findChild<T*>(QString::fromLatin1(name));
    if (!c)
        qFatal("no child %s", name);
    return c;
}

// Waits until the view has applied everything requested.
bool settle(LessonView& v) {
    return QTest::qWaitFor([&] { return !v.isBusy(); }, kTimeoutMs);
}

void openLesson(LessonView& v, const char* id, int step = 0) {
    QVERIFY(v.setLesson(QString::fromLatin1(id)));
    v.setStep(step);
    QVERIFY(settle(v));
    QVERIFY2(v.result().error.isEmpty() || v.page() != LessonPage::Charts,
             qPrintable(v.result().error));
}

} // namespace

class TestLessonView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyLessonRendersEveryStep_data();
    void everyLessonRendersEveryStep();
    void unknownLessonIsRefused();
    void linearBitsSliderHalvesLevelsAndDoublesTheStep();
    void mulawMuSliderMovesTheSnrCurve();
    void mulawAgainstIntOnWeights();
    void nf4FamilyBoxChangesTheLevelPlacement();
    void granularityGroupSizeChangesTheScaleCount();
    void outliersCountAndClipChangeTheError();
    void packingInspectorBytesFollowFormatAndBlock();
    void mxFamilyBoxAndInspector();
    void memoryItemsAddUp();
    void everyControlHasATooltip();
    void mainWindowLearnMenuOpensAndLeavesLessons();
    void theMetricsDockFollowsTheLessonNotTheTensor();
};

void TestLessonView::everyLessonRendersEveryStep_data() {
    QTest::addColumn<QString>("id");
    for (const Lesson& l : lessons())
        QTest::newRow(l.id) << QString::fromLatin1(l.id);
}

void TestLessonView::everyLessonRendersEveryStep() {
    QFETCH(QString, id);
    LessonView v;
    v.resize(1400, 900);
    v.show();
    QVERIFY(v.setLesson(id));
    QCOMPARE(v.lessonId(), id);
    QVERIFY(v.stepCount() >= 3);
    auto* next = child<QAbstractButton>(&v, "nextButton");
    auto* back = child<QAbstractButton>(&v, "backButton");
    QVERIFY(!back->isEnabled());
    QStringList titles;
    for (int i = 0; i < v.stepCount(); ++i) {
        QVERIFY(settle(v));
        QCOMPARE(v.step(), i);
        QVERIFY(!v.stepTitle().isEmpty());
        QVERIFY(!titles.contains(v.stepTitle()));
        titles << v.stepTitle();
        QVERIFY(child<QLabel>(&v, "stepLabel")->text().contains(QString::number(v.stepCount())));
        if (v.page() == LessonPage::Charts) {
            QVERIFY2(v.result().error.isEmpty(), qPrintable(v.result().error));
            QVERIFY(v.weightChart()->levelCount() > 0);
            QVERIFY(v.transferChart()->stepCount() > 0);
            QVERIFY(v.extraChart()->seriesCount() > 0);
            QVERIFY(!v.extraChart()->csvData().isEmpty());
            QVERIFY(v.formulas()->plainText().contains(QLatin1String("SQNR")));
        } else if (v.page() == LessonPage::Inspector) {
            QVERIFY(!v.inspector()->walk().bytes.empty());
        } else {
            QVERIFY(v.memory()->total() > 0);
        }
        QCOMPARE(next->isEnabled(), i + 1 < v.stepCount());
        if (i + 1 < v.stepCount())
            QTest::mouseClick(next, Qt::LeftButton);
    }
    QTest::mouseClick(back, Qt::LeftButton);
    QCOMPARE(v.step(), v.stepCount() - 2);
}

void TestLessonView::unknownLessonIsRefused() {
    LessonView v;
    QVERIFY(!v.setLesson(QStringLiteral("nope")));
    QVERIFY(findLesson(u"linear"));
    QVERIFY(!findLesson(u"nope"));
    for (const char* id :
         {"linear", "mulaw", "nf4", "granularity", "packing", "outliers", "mx", "memory"})
        QVERIFY2(findLesson(QString::fromLatin1(id)), id);
}

void TestLessonView::linearBitsSliderHalvesLevelsAndDoublesTheStep() {
    LessonView v;
    openLesson(v, "linear");
    QCOMPARE(v.result().numbers.levelCount, 16);
    QVERIFY(v.formulas()->plainText().contains(QLatin1String("16")));
    const double delta4 = v.result().numbers.scale;
    const double sqnr4 = v.result().numbers.error.sqnrDb();
    QCOMPARE(v.weightChart()->levelCount(), 16);
    QCOMPARE(v.transferChart()->stepCount(), 16);
    const QString before = v.formulas()->plainText();

    child<QSlider>(&v, "bitsSlider")->setValue(3);
    QVERIFY(settle(v));
    QCOMPARE(v.result().numbers.levelCount, 8);
    QVERIFY(std::abs(v.result().numbers.scale / delta4 - 15.0 / 7.0) < 1e-3);
    QVERIFY(v.result().numbers.error.sqnrDb() < sqnr4 - 4);
    QCOMPARE(v.weightChart()->levelCount(), 8);
    QCOMPARE(v.transferChart()->stepCount(), 8);
    QVERIFY(v.formulas()->plainText() != before);
    QVERIFY(v.formulas()->text().contains(QLatin1String("2<sup>3</sup>")));
    QCOMPARE(v.extraChart()->curves().front().points.size(), 7); // 2..8 bits
}

void TestLessonView::mulawMuSliderMovesTheSnrCurve() {
    LessonView v;
    openLesson(v, "mulaw");
    QCOMPARE(v.extraChart()->seriesCount(), 2);
    const QList<QPointF> linear = v.extraChart()->curves()[0].points;
    const QList<QPointF> mu255 = v.extraChart()->curves()[1].points;
    QVERIFY(v.formulas()->plainText().contains(QLatin1String("255")));
    const double smallest255 = v.result().numbers.smallestStep;

    child<QSlider>(&v, "muSlider")->setValue(2); // μ = 5
    QVERIFY(settle(v));
    QCOMPARE(v.controls()->settings().mu, 5);
    QCOMPARE(v.extraChart()->curves()[0].points, linear); // the uniform grid does not move
    const QList<QPointF> mu5 = v.extraChart()->curves()[1].points;
    QVERIFY(mu5 != mu255);
    // Less companding: worse at -60 dBFS, better at full scale.
    QVERIFY(mu5.front().y() < mu255.front().y());
    QVERIFY(mu5.back().y() > mu255.back().y());
    QVERIFY(v.result().numbers.smallestStep > smallest255);
    QVERIFY(QString::fromStdString(v.result().scheme.toString()).contains(QLatin1String("mu5")));
}

// What the lesson's last step says of weights, on its own data (one scale per tensor, 4 bits):
// on Laplace data mu-law beats int; on Gaussian data mu = 255 loses to int and mu = 10 wins.
void TestLessonView::mulawAgainstIntOnWeights() {
    LessonView v;
    openLesson(v, "mulaw", 2);
    auto sqnrOf = [&](const char* family) {
        auto* combo = child<QComboBox>(&v, "familyCombo");
        combo->setCurrentIndex(combo->findData(QString::fromLatin1(family)));
        return settle(v) ? v.result().numbers.error.sqnrDb() : -1.0;
    };
    QVERIFY(sqnrOf("mulaw") > sqnrOf("int")); // Laplace
    auto* data = child<QComboBox>(&v, "distributionCombo");
    data->setCurrentIndex(data->findData(static_cast<int>(Distribution::Gaussian)));
    QVERIFY(settle(v));
    const double int4 = sqnrOf("int"), mu255 = sqnrOf("mulaw");
    QCOMPARE(v.controls()->settings().mu, 255);
    QVERIFY2(mu255 < int4, qPrintable(QString("%1 vs %2").arg(mu255).arg(int4)));
    child<QSlider>(&v, "muSlider")->setValue(3); // mu = 10
    QVERIFY(settle(v));
    QCOMPARE(v.controls()->settings().mu, 10);
    QVERIFY2(v.result().numbers.error.sqnrDb() > int4,
             qPrintable(QString("%1 vs %2").arg(v.result().numbers.error.sqnrDb()).arg(int4)));
}

void TestLessonView::nf4FamilyBoxChangesTheLevelPlacement() {
    LessonView v;
    openLesson(v, "nf4");
    QCOMPARE(QString::fromStdString(v.result().scheme.family), QStringLiteral("nf"));
    const double ratioNf = v.result().numbers.largestStep / v.result().numbers.smallestStep;
    QVERIFY(ratioNf > 2);
    auto* family = child<QComboBox>(&v, "familyCombo");
    family->setCurrentIndex(family->findData(QStringLiteral("int")));
    QVERIFY(settle(v));
    QCOMPARE(QString::fromStdString(v.result().scheme.family), QStringLiteral("int"));
    const double ratioInt = v.result().numbers.largestStep / v.result().numbers.smallestStep;
    QVERIFY(ratioInt < 1.001);
    QCOMPARE(v.extraChart()->seriesCount(), 3);
}

void TestLessonView::granularityGroupSizeChangesTheScaleCount() {
    LessonView v;
    openLesson(v, "granularity", 2); // groups of 128 over [64, 256]
    QCOMPARE(v.result().numbers.groupCount, std::int64_t(128));
    const double bpw128 = v.result().numbers.cost.bitsPerWeight();
    const double sqnr128 = v.result().numbers.error.sqnrDb();
    auto* group = child<QComboBox>(&v, "groupCombo");
    group->setCurrentIndex(group->findData(32));
    QVERIFY(settle(v));
    QCOMPARE(v.result().numbers.groupCount, std::int64_t(512));
    QVERIFY(v.formulas()->plainText().contains(QLatin1String("512")));
    QVERIFY(v.result().numbers.cost.bitsPerWeight() > bpw128);
    QVERIFY(v.result().numbers.error.sqnrDb() > sqnr128);
    group->setCurrentIndex(group->findData(0));
    QVERIFY(settle(v));
    QCOMPARE(v.result().numbers.groupCount, std::int64_t(1));
    QVERIFY(v.extraChart()->curves().front().points.size() >= 5);
}

void TestLessonView::outliersCountAndClipChangeTheError() {
    LessonView v;
    openLesson(v, "outliers");
    const double withOutliers = v.result().numbers.error.sqnrDb();
    const double range = v.result().numbers.groupMax - v.result().numbers.groupMin;
    child<QSpinBox>(&v, "outlierCountSpin")->setValue(0);
    QVERIFY(settle(v));
    QVERIFY(v.result().numbers.groupMax - v.result().numbers.groupMin < range / 3);
    QVERIFY(v.result().numbers.error.sqnrDb() > withOutliers + 10);
    child<QSpinBox>(&v, "outlierCountSpin")->setValue(8);
    child<QSlider>(&v, "clipSlider")->setValue(90); // p99.90
    QVERIFY(settle(v));
    QVERIFY(QString::fromStdString(v.result().scheme.toString()).contains(QLatin1String("p99.9")));
    QVERIFY(v.formulas()->plainText().contains(QLatin1String("clipped")));
    QVERIFY(v.result().numbers.scale < range / 15 / 3); // the step no longer spans the outliers
    QCOMPARE(v.extraChart()->seriesCount(), 3);
}

void TestLessonView::packingInspectorBytesFollowFormatAndBlock() {
    LessonView v;
    openLesson(v, "packing");
    BlockInspectorView* ins = v.inspector();
    QAbstractItemModelTester tester(ins->table()->model(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(v.page(), LessonPage::Inspector);
    QCOMPARE(ins->walk().bytes.size(), std::size_t(19)); // 16 code bytes, fp16 scale, zero
    // The zero-point's byte holds 4 stored bits: the header's sum adds up (not "19 bytes =
    // 4.625 bits per weight").
    QVERIFY2(ins->layoutText().contains(QLatin1String("32 elements in 19 bytes as laid out here, "
                                                      "18.5 stored (the zero-point takes 4 bits) "
                                                      "= <b>4.625 bits per weight</b>")),
             qPrintable(ins->layoutText()));
    ins->setFormat(BlockFormat::Q4_0);
    QCOMPARE(ins->walk().bytes.size(), std::size_t(18));
    QVERIFY(ins->layoutText().startsWith(
        QLatin1String("32 elements in 18 bytes = <b>4.5 bits per weight</b>")));
    QVERIFY(ins->layoutText().contains(QLatin1String("j+16")));
    const auto block0 = ins->walk().bytes;
    ins->setBlock(1);
    QVERIFY(ins->walk().bytes != block0);
    QCOMPARE(ins->blockCount(), int(v.data().values.size() / 32));
    // Selecting element 17 in the table outlines its nibble: the high one of code byte 1.
    ins->table()->selectRow(17);
    QCOMPARE(ins->bytesView()->selectedElement(), 17);
    QCOMPARE(ins->walk().elements[17].byte, std::size_t(3));
    QVERIFY(ins->walk().elements[17].highNibble);
    QCOMPARE(ins->bytesView()->byteText(3), QStringLiteral("0x%1")
                                                .arg(ins->walk().bytes[3], 2, 16, QLatin1Char('0'))
                                                .toUpper()
                                                .replace(QLatin1String("0X"), QLatin1String("0x")));
    ins->setFormat(BlockFormat::NF4);
    QVERIFY(ins->layoutText().contains(QLatin1String("high")));
    QCOMPARE(ins->walk().bytes.size(), std::size_t(36));
    ins->setFormat(BlockFormat::Q4_K);
    QCOMPARE(ins->walk().bytes.size(), std::size_t(144));
    QCOMPARE(ins->table()->model()->rowCount(), 256);
    // The data source changes the bytes too.
    const auto before = ins->walk().bytes;
    child<QSpinBox>(&v, "seedSpin")->setValue(2);
    QVERIFY(settle(v));
    QVERIFY(ins->walk().bytes != before);
}

void TestLessonView::mxFamilyBoxAndInspector() {
    LessonView v;
    openLesson(v, "mx", 1);
    QCOMPARE(QString::fromStdString(v.result().scheme.family), QStringLiteral("mxfp4"));
    QCOMPARE(v.result().numbers.cost.bitsPerWeight(), 4.25);
    const double scale = v.result().numbers.scale;
    QCOMPARE(std::exp2(std::round(std::log2(scale))), scale); // a power of two
    // The worked weight's element is named by its E2M1 bits (sign, 2 exponent bits, 1 mantissa
    // bit: the magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6 are codes 0 to 7), not its level index.
    const double yq = v.result().numbers.example.yq;
    const std::vector<double> magnitudes{0, 0.5, 1, 1.5, 2, 3, 4, 6};
    const auto at = std::find(magnitudes.begin(), magnitudes.end(), std::abs(yq));
    QVERIFY(at != magnitudes.end());
    const int bits = int(at - magnitudes.begin()) + (yq < 0 ? 8 : 0);
    const QString expected = QStringLiteral("nearest E2M1 value, its bits %1, %2")
                                 .arg(formatNumber(yq, 4))
                                 .arg(bits, 4, 2, QLatin1Char('0'));
    QVERIFY2(v.formulas()->plainText().simplified().contains(expected.simplified()),
             qPrintable(v.formulas()->plainText() + QStringLiteral("\n-- wanted: ") + expected));
    auto* family = child<QComboBox>(&v, "familyCombo");
    family->setCurrentIndex(family->findData(QStringLiteral("nvfp4")));
    QVERIFY(settle(v));
    QCOMPARE(QString::fromStdString(v.result().scheme.family), QStringLiteral("nvfp4"));
    QVERIFY(v.result().numbers.cost.bitsPerWeight() > 4.5);
    QVERIFY(v.formulas()->plainText().contains(QLatin1String("E4M3")));
    QVERIFY(v.extraChart()->seriesCount() >= 7);
    v.setStep(3);
    QVERIFY(settle(v));
    QCOMPARE(v.inspector()->format(), BlockFormat::MXFP4);
    QCOMPARE(v.inspector()->walk().bytes.size(), std::size_t(17));
}

void TestLessonView::memoryItemsAddUp() {
    LessonView v;
    openLesson(v, "memory");
    MemoryCalculator* m = v.memory();
    QCOMPARE(m->lines().size(), std::size_t(1));
    const double f16 = m->total();
    QVERIFY(std::abs(f16 - 8.03e9 * 2) < 1e6);
    m->setScheme(QStringLiteral("int4:g64"));
    QVERIFY(std::abs(m->total() - f16 / 4) < 1e6); // payload only: 4 of 16 bits
    m->setItemIncluded(MemoryItem::Scales, true);
    QCOMPARE(m->lines().size(), std::size_t(2));
    QVERIFY(std::abs(m->lines()[1].bytes - 8.03e9 * 0.3125 / 8) < 1e3);
    m->setItemIncluded(MemoryItem::KvCache, true);
    const double kv = m->lines()[2].bytes;
    child<QSpinBox>(&v, "contextSpin")->setValue(8192);
    QVERIFY(std::abs(m->lines()[2].bytes - 2 * kv) < 1);
    QVERIFY(m->formulaText().contains(QLatin1String("8192")));
    v.setStep(3);
    QVERIFY(settle(v));
    QCOMPARE(m->lines().size(), std::size_t(6));
    QVERIFY(m->total() > 8.03e9 * 14);
}

void TestLessonView::everyControlHasATooltip() {
    LessonView v;
    for (const Lesson& l : lessons()) {
        openLesson(v, l.id);
        const auto widgets = v.findChildren<QWidget*>();
        for (QWidget* w : widgets) {
            const bool control = qobject_cast<QAbstractSlider*>(w) || qobject_cast<QComboBox*>(w) ||
                                 qobject_cast<QAbstractSpinBox*>(w) ||
                                 qobject_cast<QAbstractButton*>(w);
            // Scroll bars and a table's corner button are Qt's own parts, not lesson controls.
            if (!control || qobject_cast<QScrollBar*>(w) || w->objectName().startsWith(u"qt_") ||
                qobject_cast<QTableView*>(w->parentWidget()))
                continue;
            QVERIFY2(!w->toolTip().isEmpty(),
                     qPrintable(QStringLiteral("%1 (%2) has no tooltip")
                                    .arg(w->objectName(), w->metaObject()->className())));
            QVERIFY2(w->focusPolicy() & Qt::TabFocus, qPrintable(w->objectName()));
        }
    }
}

void TestLessonView::mainWindowLearnMenuOpensAndLeavesLessons() {
    MainWindow w(false);
    w.resize(1600, 1000);
    w.show();
    QMenu* learn = nullptr;
    for (QAction* a : w.menuBar()->actions())
        if (a->text().remove(QLatin1Char('&')) == QLatin1String("Learn"))
            learn = a->menu();
    QVERIFY(learn);
    for (const Lesson& l : lessons())
        QVERIFY(learn->findChild<QAction*>(QStringLiteral("lessonAction_") + l.id));
    QSignalSpy idle(&w, &MainWindow::idle);
    learn->findChild<QAction*>(QStringLiteral("lessonAction_nf4"))->trigger();
    QVERIFY(w.isLearnMode());
    QCOMPARE(w.lessonView()->lessonId(), QStringLiteral("nf4"));
    QTRY_VERIFY_WITH_TIMEOUT(idle.count() > 0, kTimeoutMs);
    QCOMPARE(w.schemePanel()->scheme().family, std::string("nf")); // the docks follow
    QVERIFY(!w.showLesson(QStringLiteral("nope")));
    QCOMPARE(w.lessonView()->lessonId(), QStringLiteral("nf4"));
    learn->findChild<QAction*>(QStringLiteral("leaveLearnAction"))->trigger();
    QVERIFY(!w.isLearnMode());
    QVERIFY(w.showLesson(QStringLiteral("memory")));
    QVERIFY(w.isLearnMode());
    // A step that measures no quantization error says so in the Metrics dock.
    QTRY_VERIFY_WITH_TIMEOUT(
        w.metricsPanel()->noteText().startsWith(QStringLiteral("This step counts memory")),
        kTimeoutMs);
}

void TestLessonView::theMetricsDockFollowsTheLessonNotTheTensor() {
    MainWindow w(false);
    w.resize(1600, 1000);
    w.show();
    QSignalSpy idle(&w, &MainWindow::idle);
    const QString tensor = QStringLiteral("model.layers.0.self_attn.q_proj.weight");
    w.openCheckpoint(QString::fromStdString(test::samplePath()), tensor);
    QTRY_VERIFY_WITH_TIMEOUT(idle.count() > 0, kTimeoutMs);
    // The lesson sets the Scheme dock (int4:tensor), which analyses the selected tensor again
    // in the background; the Metrics dock keeps describing the lesson's data all the same.
    idle.clear();
    QVERIFY(w.showLesson(QStringLiteral("granularity")));
    QTRY_VERIFY_WITH_TIMEOUT(idle.count() > 0, kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(!w.browser()->isBusy(), kTimeoutMs);
    QTest::qWait(50); // anything still queued
    const QString lesson = formatDb(w.lessonView()->result().analysis.error.sqnrDb());
    QCOMPARE(w.metricsPanel()->sqnrText(), lesson);
    QVERIFY(w.metricsPanel()->noteText().startsWith(QStringLiteral("16 levels — levels of")));
    // Back to exploring: the tensor's own figures again.
    idle.clear();
    w.leaveLearnMode();
    QTRY_VERIFY_WITH_TIMEOUT(idle.count() > 0, kTimeoutMs);
    QTRY_VERIFY(w.metricsPanel()->sqnrText() != lesson);
}

QTEST_MAIN(TestLessonView)
#include "test_lesson_view.moc"
