// The Methods tab on the sample: showing it runs the ticked methods on the selected layer with
// synthetic outlier activations; each row equals analyzeTensor run here with the same
// activations; the calibrated methods beat round-to-nearest on output error; activations load
// from a file and a mismatched width is refused in one line.

#include "analysis/tensor_analysis.h"
#include "charts/methods_chart.h"
#include "main_window.h"
#include "methods/calibration.h"
#include "panels/methods_tab.h"
#include "panels/tensor_browser_panel.h"
#include "test_support.h"

#include <QHeaderView>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 60000;
const QString kDown = QStringLiteral("model.layers.2.mlp.down_proj.weight"); // [64, 172]

const Checkpoint& sample() {
    static const Checkpoint c = *Checkpoint::open(test::samplePath());
    return c;
}

} // namespace

class TestMethodsTab : public QObject {
    Q_OBJECT
private slots:
    void runsTheTickedMethodsOnTheLayer() {
        MainWindow w(false);
        MethodsTab* tab = w.methodsTab();
        QSignalSpy done(tab, &MethodsTab::finished);
        w.openCheckpoint(QString::fromStdString(test::samplePath()), kDown);
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->currentTensor(), kDown, kTimeoutMs);
        QVERIFY(w.setCurrentTab(QStringLiteral("methods")));
        QVERIFY(done.count() > 0 || done.wait(kTimeoutMs));
        const auto& results = tab->results();
        QCOMPARE(int(results.size()), 6);
        QCOMPARE(results.front().spec, QStringLiteral("int4:g64"));
        // The charts name the methods (the table the specs): bits and group are the controls'.
        const QStringList rows =
            tab->errorChart()->csvData().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QStringList categories;
        for (qsizetype i = 1; i < rows.size(); ++i)
            categories << rows[i].section(QLatin1Char(','), 0, 0);
        QCOMPARE(categories, QStringList({QStringLiteral("RTN"), QStringLiteral("HQQ"),
                                          QStringLiteral("SINQ"), QStringLiteral("GPTQ"),
                                          QStringLiteral("AWQ"), QStringLiteral("AutoRound")}));
        QCOMPARE(tab->table()->item(0, 0)->text(), QStringLiteral("int4:g64"));
        // Relative errors in percent, as the Metrics dock and the Compare tab write them.
        QVERIFY2(tab->table()->item(0, 1)->text().endsWith(QStringLiteral(" %")),
                 qPrintable(tab->table()->item(0, 1)->text()));
        QVERIFY(tab->table()->item(0, 3)->text().endsWith(QStringLiteral(" %")));

        const TensorInfo* info = sample().find(kDown.toStdString());
        auto values = sample().readFloat(*info);
        QVERIFY(values.ok());
        const MatrixView wv = matrixView(*info, *values);
        const auto x = syntheticActivations(SyntheticCalibration{}, wv.cols);
        const MatrixView xv{x.data(), SyntheticCalibration{}.tokens, wv.cols};
        AnalysisOptions o;
        o.activations = &xv;
        double rtn = 0;
        for (const MethodResult& r : results) {
            QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
            auto a = analyzeTensor(wv, *Scheme::parse(r.spec.toStdString()), o);
            QVERIFY(a.ok());
            QCOMPARE(r.relRmse, a->error.relRmse());
            QCOMPARE(r.outRelErr, a->outputError->relative());
            if (r.spec.startsWith(QLatin1String("int")))
                rtn = r.outRelErr;
        }
        for (const MethodResult& r : results)
            if (r.spec.startsWith(QLatin1String("gptq")) ||
                r.spec.startsWith(QLatin1String("awq")) ||
                r.spec.startsWith(QLatin1String("autoround")))
                QVERIFY2(r.outRelErr < rtn, qPrintable(r.spec));

        // Inside SINQ and AWQ: the first 64-column tile evens out; AWQ's scale per input.
        const MethodInsights* in = tab->insights();
        QVERIFY(in);
        QCOMPARE(in->tileCols, std::int64_t(64));
        QCOMPARE(in->rowStdBefore.size(), size_t(64));
        QCOMPARE(in->colStdAfter.size(), size_t(64));
        QVERIFY(in->imbalanceAfter < in->imbalanceBefore);
        QCOMPARE(in->awqScale.size(), size_t(172));
        QVERIFY(in->awqRatio >= 0);

        // Only GPTQ at 3 bits per channel: one row, the scheme the controls say.
        for (const QString& m : MethodsTab::methodNames())
            tab->setMethodChecked(m, m == QLatin1String("gptq"));
        tab->setBits(3);
        tab->setGroupSize(0);
        QCOMPARE(tab->schemes().size(), size_t(1));
        QCOMPARE(QString::fromStdString(tab->schemes()[0].toString()),
                 QStringLiteral("gptq3:channel"));
        done.clear();
        QVERIFY(tab->run());
        QVERIFY(done.wait(kTimeoutMs));
        QCOMPARE(int(tab->results().size()), 1);
    }

    void theTableHasARowPerMethodInView() {
        MainWindow w(false);
        w.resize(1600, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.openCheckpoint(QString::fromStdString(test::samplePath()), kDown);
        MethodsTab* tab = w.methodsTab();
        QSignalSpy done(tab, &MethodsTab::finished);
        QVERIFY(w.setCurrentTab(QStringLiteral("methods")));
        QVERIFY(done.count() > 0 || done.wait(kTimeoutMs));
        QTRY_VERIFY(tab->isVisible() && tab->height() > 700); // laid out in the window
        const QTableWidget* table = tab->table();
        const int rows = static_cast<int>(MethodsTab::methodNames().size());
        // Seven methods: every one's row shows under the charts without scrolling, and the
        // charts keep most of the height.
        QVERIFY(table->viewport()->height() >=
                rows * table->verticalHeader()->defaultSectionSize());
        QVERIFY(table->height() <= tab->height() * 2 / 5);
    }

    void activationsLoadFromAFile() {
        MainWindow w(false);
        MethodsTab* tab = w.methodsTab();
        w.openCheckpoint(QString::fromStdString(test::samplePath()), kDown);
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->currentTensor(), kDown, kTimeoutMs);
        QTemporaryDir dir;
        const std::string good = dir.filePath(QStringLiteral("acts.safetensors")).toStdString();
        std::vector<float> x(32 * 172);
        for (size_t i = 0; i < x.size(); ++i)
            x[i] = float((i * 37) % 101) / 50.0f - 1.0f;
        test::writeSafetensors(good, {{"acts", "F32", {32, 172}, test::floatBytes(x)}});
        QSignalSpy loaded(tab, &MethodsTab::activationsLoaded);
        QVERIFY(tab->loadActivations(QString::fromStdString(good)));
        QVERIFY(loaded.wait(kTimeoutMs)); // read on the work pool
        QCOMPARE(loaded.last().at(0).toBool(), true);
        QSignalSpy done(tab, &MethodsTab::finished);
        tab->setMethodChecked(QStringLiteral("autoround"), false);
        QVERIFY(tab->run());
        QVERIFY(done.wait(kTimeoutMs));
        QCOMPARE(int(tab->results().size()), 5);
        for (const MethodResult& r : tab->results())
            QVERIFY(r.outRelErr >= 0);
        const std::string narrow = dir.filePath(QStringLiteral("narrow.safetensors")).toStdString();
        test::writeSafetensors(
            narrow, {{"acts", "F32", {8, 64}, test::floatBytes(std::vector<float>(512, 1.f))}});
        QVERIFY(tab->loadActivations(QString::fromStdString(narrow)));
        QVERIFY(loaded.wait(kTimeoutMs));
        QVERIFY(!tab->run()); // 64 features for a layer with 172 inputs
        QVERIFY(tab->statusText().contains(QStringLiteral("172")));
        QVERIFY(!tab->loadActivations(dir.filePath(QStringLiteral("missing.npy"))));
    }
};

QTEST_MAIN(TestMethodsTab)
#include "test_methods_tab.moc"
