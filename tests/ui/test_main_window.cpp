// MainWindow end to end on the bundled sample: open, select, analyse, change the scheme, and a
// malformed file that ends up as one line in the status bar.

#include "charts/sqnr_sweep_chart.h"
#include "charts/weight_histogram_chart.h"
#include "main_window.h"
#include "panels/metrics_panel.h"
#include "panels/tensor_browser_panel.h"
#include "panels/tensor_tab.h"
#include "test_support.h"
#include "workers/analysis_controller.h"

#include <QAction>
#include <QApplication>
#include <QMimeData>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 20000;
const QString kQProj = QStringLiteral("model.layers.0.self_attn.q_proj.weight");

double sqnrDb(const MetricsPanel* metrics) {
    bool ok = false;
    const double v = metrics->sqnrText().section(QLatin1Char(' '), 0, 0).toDouble(&ok);
    return ok ? v : -1.0;
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void showsTheSqnrOfTheSelectedTensor();
    void moreBitsRaiseTheSqnrAndRedrawTheCharts();
    void opensOnAPreferredTensorWhenNoneIsNamed();
    void malformedFileShowsAnErrorInTheStatusBar();
    void droppingAFileOpensIt();
    void viewMenuTogglesTheLogScaleHistogram();
};

void TestMainWindow::showsTheSqnrOfTheSelectedTensor() {
    MainWindow w(false);
    QSignalSpy idle(&w, &MainWindow::idle);
    w.openCheckpoint(QString::fromStdString(test::samplePath()), kQProj);
    QTRY_VERIFY_WITH_TIMEOUT(sqnrDb(w.metricsPanel()) > 0, kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(idle.count() > 0 && !w.controller()->isBusy(), kTimeoutMs);
    QCOMPARE(w.browser()->currentTensor(), kQProj);
    QVERIFY(w.windowTitle().contains(QStringLiteral("stories260K.safetensors")));
    QVERIFY(w.statusFileText().contains(QStringLiteral("47 tensors")));
    QCOMPARE(w.tensorTab()->weightChart()->levelCount(), 16);
    QCOMPARE(w.tensorTab()->sweepChart()->pointCount(), 7);
    QCOMPARE(w.tensorTab()->sweepChart()->highlightedBits(), 4);
    QVERIFY(!w.tensorTab()->weightChart()->csvData().isEmpty());
    QVERIFY2(w.tensorTab()->caption().contains(QStringLiteral("groups of 64 along each row of 64")),
             qPrintable(w.tensorTab()->caption()));
}

void TestMainWindow::moreBitsRaiseTheSqnrAndRedrawTheCharts() {
    MainWindow w(false);
    QSignalSpy idle(&w, &MainWindow::idle);
    w.openCheckpoint(QString::fromStdString(test::samplePath()), kQProj);
    QTRY_VERIFY_WITH_TIMEOUT(w.tensorTab()->sweepChart()->highlightedBits() == 4, kTimeoutMs);
    const double at4 = sqnrDb(w.metricsPanel());
    QVERIFY(at4 > 0);

    auto* bits = w.findChild<QSpinBox*>(QStringLiteral("bitsSpin"));
    QVERIFY(bits);
    bits->setValue(8);
    QTRY_VERIFY_WITH_TIMEOUT(w.tensorTab()->sweepChart()->highlightedBits() == 8, kTimeoutMs);
    const double at8 = sqnrDb(w.metricsPanel());
    QVERIFY2(at8 > at4 + 15,
             qPrintable(QStringLiteral("%1 dB at 8 bits vs %2 dB at 4").arg(at8).arg(at4)));
    QCOMPARE(w.tensorTab()->weightChart()->levelCount(), 256);
    QCOMPARE(w.tensorTab()->sweepChart()->pointCount(), 7);
}

void TestMainWindow::opensOnAPreferredTensorWhenNoneIsNamed() {
    MainWindow w(false);
    w.openCheckpoint(QString::fromStdString(test::samplePath()));
    QTRY_VERIFY_WITH_TIMEOUT(sqnrDb(w.metricsPanel()) > 0, kTimeoutMs);
    QCOMPARE(w.browser()->currentTensor(), kQProj);
}

void TestMainWindow::malformedFileShowsAnErrorInTheStatusBar() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("broken.safetensors"));
    std::vector<std::uint8_t> garbage(64);
    for (size_t i = 0; i < garbage.size(); ++i)
        garbage[i] = static_cast<std::uint8_t>(i * 37 + 11);
    test::writeBytes(path.toStdString(), garbage);

    MainWindow w(false);
    QSignalSpy errors(&w, &MainWindow::errorShown);
    w.openCheckpoint(path);
    QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 1, kTimeoutMs);
    QVERIFY(!w.statusMessage().isEmpty());
    QVERIFY(!w.statusMessage().contains(QLatin1Char('\n')));
    QCOMPARE(w.windowTitle(), QStringLiteral("Quantscope"));

    // The window still works afterwards.
    w.openCheckpoint(QString::fromStdString(test::samplePath()), kQProj);
    QTRY_VERIFY_WITH_TIMEOUT(sqnrDb(w.metricsPanel()) > 0, kTimeoutMs);
}

void TestMainWindow::droppingAFileOpensIt() {
    MainWindow w(false);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(QString::fromStdString(test::samplePath()))});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &drop);
    QTRY_VERIFY_WITH_TIMEOUT(sqnrDb(w.metricsPanel()) > 0, kTimeoutMs);
    QVERIFY(w.windowTitle().contains(QStringLiteral("stories260K")));
}

void TestMainWindow::viewMenuTogglesTheLogScaleHistogram() {
    MainWindow w(false);
    auto* action = w.findChild<QAction*>(QStringLiteral("logScaleAction"));
    QVERIFY(action);
    WeightHistogramChart* chart = w.tensorTab()->weightChart();
    action->trigger();
    QVERIFY(chart->isLogScale());
    chart->setLogScale(false); // from the chart's own context menu
    QVERIFY(!action->isChecked());
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
