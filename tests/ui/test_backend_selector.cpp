// The status bar's Compute selector: what it shows for each choice, that it switches the
// process's backend, and that asking for CUDA where there is none says so and computes on the
// CPU. (This test links no CUDA engine, so CUDA is never available here.)
#include "analysis/compute_backend.h"
#include "widgets/backend_selector.h"

#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>

using namespace qs;

class TestBackendSelector : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("QuantscopeTest"));
    }
    void showsTheCpuForAutoAndCpu();
    void cudaWithoutADeviceSaysSoAndUsesTheCpu();
    void aLaterChoiceStands();
};

void TestBackendSelector::showsTheCpuForAutoAndCpu() {
    BackendSelector sel;
    auto* label = sel.findChild<QLabel*>(QStringLiteral("backendDevice"));
    QVERIFY(label);
    sel.apply(Backend::Auto); // the GPU is looked for off the GUI thread
    QTRY_VERIFY2(label->text().startsWith(QStringLiteral("CPU · ")), qPrintable(label->text()));
    QVERIFY(!label->text().contains(QStringLiteral("unavailable")));
    sel.apply(Backend::Cpu);
    QVERIFY(label->text().startsWith(QStringLiteral("CPU · ")));
    QCOMPARE(backendStatus().active, Backend::Cpu);
    QVERIFY(!activeDeviceEngine());
}

void TestBackendSelector::cudaWithoutADeviceSaysSoAndUsesTheCpu() {
    BackendSelector sel;
    sel.apply(Backend::Cpu);
    auto* combo = sel.findChild<QComboBox*>(QStringLiteral("backendCombo"));
    auto* label = sel.findChild<QLabel*>(QStringLiteral("backendDevice"));
    QVERIFY(combo && label);
    QSignalSpy changed(&sel, &BackendSelector::backendChanged);
    combo->setCurrentIndex(combo->findData(QStringLiteral("cuda")));
    QTRY_COMPARE(changed.count(), 1);
    const QString note = changed.at(0).at(0).toString();
    QVERIFY2(note.contains(QStringLiteral("no CUDA backend")), qPrintable(note));
    QVERIFY(label->text().contains(QStringLiteral("CUDA unavailable")));
    QVERIFY(label->toolTip().contains(QStringLiteral("computing on the CPU")));
    QCOMPARE(backendStatus().active, Backend::Cpu);
    // The choice is remembered for the next start.
    QCOMPARE(BackendSelector::remembered(), Backend::Cuda);
    combo->setCurrentIndex(combo->findData(QStringLiteral("auto")));
    QCOMPARE(BackendSelector::remembered(), Backend::Auto);
    QTRY_COMPARE(changed.count(), 2);
}

// A choice made while an earlier one is still looking for the GPU stands: the earlier one,
// finishing late, changes nothing.
void TestBackendSelector::aLaterChoiceStands() {
    BackendSelector sel;
    auto* combo = sel.findChild<QComboBox*>(QStringLiteral("backendCombo"));
    auto* label = sel.findChild<QLabel*>(QStringLiteral("backendDevice"));
    QSignalSpy changed(&sel, &BackendSelector::backendChanged);
    combo->setCurrentIndex(combo->findData(QStringLiteral("cuda")));
    combo->setCurrentIndex(combo->findData(QStringLiteral("cpu"))); // at once, synchronous
    QCOMPARE(changed.count(), 1);
    QTest::qWait(100);
    QCOMPARE(changed.count(), 1);
    QVERIFY(!label->text().contains(QStringLiteral("unavailable")));
    QCOMPARE(backendStatus().active, Backend::Cpu);
}

QTEST_MAIN(TestBackendSelector)
#include "test_backend_selector.moc"
