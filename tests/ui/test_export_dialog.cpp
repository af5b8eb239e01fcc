// File → Export… and project files end to end on the bundled sample: the live preview of a
// config target, a GGUF written off the GUI thread that re-opens, the refusal to overwrite the
// input, and a saved project restored in a fresh window.

#include "dialogs/export_dialog.h"
#include "io/checkpoint.h"
#include "main_window.h"
#include "panels/model_tab.h"
#include "panels/scheme_panel.h"
#include "panels/tensor_browser_panel.h"
#include "test_support.h"
#include "workers/analysis_controller.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 30000;
const QString kDownProj = QStringLiteral("model.layers.0.mlp.down_proj.weight");

QString sample() {
    return QString::fromStdString(test::samplePath());
}

bool openAndWait(MainWindow& w, const QString& path, const QString& tensor = {}) {
    w.openCheckpoint(path, tensor);
    return QTest::qWaitFor([&] { return w.controller()->checkpoint() != nullptr; }, kTimeoutMs);
}

QByteArray fileHash(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

} // namespace

class TestExportDialog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void previewShowsTheBitsandbytesConfigLive();
    void weightTargetsPreviewTheFilesAndTensorTypes();
    void ggufExportRunsInTheBackgroundAndReopens();
    void invalidSchemeIsOneLineErrorAndDisablesExport();
    void refusesToOverwriteTheInput();
    void cancelStopsTheExportAndWritesNothing();
    void projectRestoresTensorSchemeAndTab();
};

void TestExportDialog::previewShowsTheBitsandbytesConfigLive() {
    MainWindow w(false);
    QVERIFY(openAndWait(w, sample()));
    ExportDialog* d = w.showExportDialog();
    QVERIFY(d);
    d->setTarget(ExportTarget::HfConfig);
    d->setSchemeSpec(QStringLiteral("nf4:g64:dq"));
    // No explicit refresh: the preview follows the choices on its own.
    QTRY_VERIFY_WITH_TIMEOUT(d->previewText().contains(QStringLiteral("bnb_4bit_quant_type")),
                             kTimeoutMs);
    QVERIFY(d->previewText().contains(QStringLiteral("bnb_4bit_use_double_quant")));
    QVERIFY(d->outputPath().endsWith(QStringLiteral("quantization_config.json")));
    QVERIFY(d->errorText().isEmpty());
    QVERIFY(!d->warnings().isEmpty());

    d->setTarget(ExportTarget::LlamaCpp);
    d->setSchemeSpec(QStringLiteral("q4_0"));
    QTRY_VERIFY_WITH_TIMEOUT(d->previewText().contains(QStringLiteral("llama-quantize")),
                             kTimeoutMs);

    d->setTarget(ExportTarget::HfConfig);
    d->setSchemeSpec(QStringLiteral("nf4:g64:dq"));
    d->refreshPreview();
    d->resize(1100, 680);
    QVERIFY(QTest::qWaitForWindowExposed(d));
    QVERIFY(d->grab().save(QStringLiteral("/tmp/export_dialog.png")));
}

void TestExportDialog::weightTargetsPreviewTheFilesAndTensorTypes() {
    MainWindow w(false);
    QVERIFY(openAndWait(w, sample()));
    ExportDialog* d = w.showExportDialog();
    QVERIFY(d);
    d->setTarget(ExportTarget::Safetensors);
    d->setSchemeSpec(QStringLiteral("int4:g32:sym"));
    d->setOutputPath(QStringLiteral("/tmp/out-ct"));
    d->refreshPreview();
    const QString text = d->previewText();
    QVERIFY2(text.contains(QStringLiteral("/tmp/out-ct/model.safetensors")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("/tmp/out-ct/config.json")));
    QVERIFY(text.contains(QStringLiteral("int4:g32:sym")));
    QVERIFY(text.contains(kDownProj));
    QVERIFY(text.contains(QStringLiteral("Not quantized")));
    QVERIFY(text.contains(QStringLiteral("model.norm.weight")));

    d->setTarget(ExportTarget::Gguf);
    d->setSchemeSpec(QStringLiteral("q8_0"));
    d->setOutputPath(QStringLiteral("/tmp/x.gguf"));
    d->refreshPreview();
    QVERIFY(d->previewText().contains(QStringLiteral("q8_0 — 31 tensors")));
    // The 172-wide down_proj rows take no 32-element ggml block: listed as staying F32.
    const QString gguf = d->previewText();
    const auto f32At = gguf.indexOf(QStringLiteral("Stay F32"));
    QVERIFY(f32At > 0);
    QVERIFY(gguf.indexOf(kDownProj, f32At) > f32At);
    QVERIFY(d->warnings().join(QLatin1Char('\n')).contains(QStringLiteral("5 tensors")));
    // q4_k divides none of the rows, and takes llama.cpp's fallback type for all 36.
    d->setSchemeSpec(QStringLiteral("q4_k"));
    d->refreshPreview();
    QVERIFY(d->previewText().contains(QStringLiteral("q4_k — 0 tensors")));
    QVERIFY(d->previewText().contains(QStringLiteral("llama.cpp's fallback type")));
    QVERIFY(!d->previewText().contains(QStringLiteral("Stay F32")));
    QVERIFY(d->warnings().join(QLatin1Char('\n')).contains(QStringLiteral("fell back: 36")));
}

void TestExportDialog::ggufExportRunsInTheBackgroundAndReopens() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MainWindow w(false);
    QVERIFY(openAndWait(w, sample()));
    ExportDialog* d = w.showExportDialog();
    QVERIFY(d);
    d->setTarget(ExportTarget::Gguf);
    d->setSchemeSpec(QStringLiteral("q8_0"));
    const QString out = dir.filePath(QStringLiteral("s-q8_0.gguf"));
    d->setOutputPath(out);
    QSignalSpy finished(d, &ExportDialog::exportFinished);
    d->startExport();
    QCOMPARE(finished.count(), 0); // the result arrives later, from the worker
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeoutMs);
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
    QVERIFY(!d->isExporting());
    QVERIFY(QFileInfo::exists(out));
    QVERIFY(d->previewText().contains(out));
    QVERIFY(QTest::qWaitForWindowExposed(d));
    QVERIFY(d->grab().save(QStringLiteral("/tmp/export_dialog_gguf.png")));

    auto reopened = Checkpoint::open(out.toStdString());
    QVERIFY2(reopened.ok(), reopened.ok() ? "" : reopened.message().c_str());
    const auto original = Checkpoint::open(test::samplePath());
    QVERIFY(original.ok());
    QCOMPARE(reopened->tensors().size(), original->tensors().size());
    int q8 = 0;
    for (const auto& t : reopened->tensors())
        q8 += t.typeName() == "Q8_0";
    QVERIFY2(q8 > 0, "no tensor was written as Q8_0");
}

void TestExportDialog::invalidSchemeIsOneLineErrorAndDisablesExport() {
    MainWindow w(false);
    QVERIFY(openAndWait(w, sample()));
    ExportDialog* d = w.showExportDialog();
    QVERIFY(d);
    d->setTarget(ExportTarget::HfConfig);
    d->setSchemeSpec(QStringLiteral("int99:gzz"));
    d->refreshPreview();
    QVERIFY(!d->errorText().isEmpty());
    QVERIFY(!d->errorText().contains(QLatin1Char('\n')));
    QSignalSpy finished(d, &ExportDialog::exportFinished);
    d->startExport();
    QVERIFY(!d->isExporting());
    QCOMPARE(finished.count(), 0);

    d->setPlanPath(QStringLiteral("/nonexistent/plan.json"));
    d->refreshPreview();
    QVERIFY2(d->errorText().contains(QStringLiteral("plan")), qPrintable(d->errorText()));
}

void TestExportDialog::refusesToOverwriteTheInput() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString copy = dir.filePath(QStringLiteral("s.safetensors"));
    QVERIFY(QFile::copy(sample(), copy));
    const QByteArray before = fileHash(copy);
    MainWindow w(false);
    QVERIFY(openAndWait(w, copy));
    ExportDialog* d = w.showExportDialog();
    QVERIFY(d);
    d->setTarget(ExportTarget::Safetensors);
    d->setSchemeSpec(QStringLiteral("int4:g32:sym"));
    d->setOutputPath(copy);
    QSignalSpy finished(d, &ExportDialog::exportFinished);
    d->startExport();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeoutMs);
    QVERIFY(!finished.at(0).at(0).toBool());
    QVERIFY2(d->errorText().contains(QStringLiteral("refusing")), qPrintable(d->errorText()));
    QCOMPARE(fileHash(copy), before);
}

void TestExportDialog::cancelStopsTheExportAndWritesNothing() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    // Eight 1024x1024 matrices: long enough that Cancel lands while tensors are being written.
    std::vector<test::FixtureTensor> tensors;
    std::vector<float> values(1024 * 1024);
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = static_cast<float>((i * 7919) % 2001) / 1000.0f - 1.0f;
    for (int layer = 0; layer < 8; ++layer)
        tensors.push_back({"model.layers." + std::to_string(layer) + ".mlp.down_proj.weight",
                           "F32",
                           {1024, 1024},
                           test::floatBytes(values)});
    const QString input = dir.filePath(QStringLiteral("big.safetensors"));
    test::writeSafetensors(input.toStdString(), tensors);
    MainWindow w(false);
    QVERIFY(openAndWait(w, input));
    ExportDialog* d = w.showExportDialog();
    QVERIFY(d);
    d->setTarget(ExportTarget::Safetensors);
    d->setSchemeSpec(QStringLiteral("int4:g32:sym"));
    const QString out = dir.filePath(QStringLiteral("out-ct"));
    d->setOutputPath(out);
    QSignalSpy finished(d, &ExportDialog::exportFinished);
    d->startExport();
    QVERIFY(d->isExporting());
    d->cancelExport();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeoutMs);
    QVERIFY(!finished.at(0).at(0).toBool());
    QVERIFY2(d->errorText().contains(QStringLiteral("cancelled")), qPrintable(d->errorText()));
    QVERIFY(!QFileInfo::exists(QDir(out).filePath(QStringLiteral("model.safetensors"))));
}

void TestExportDialog::projectRestoresTensorSchemeAndTab() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString project = dir.filePath(QStringLiteral("session.qsproj"));
    {
        MainWindow w(false);
        QVERIFY(openAndWait(w, sample(), kDownProj));
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->currentTensor(), kDownProj, kTimeoutMs);
        w.setScheme(Scheme::parse("nf4:g64:dq").value());
        w.modelTab()->setSchemesText(QStringLiteral("int4:g128, q4_k"));
        QVERIFY(w.modelTab()->setActivations(QStringLiteral("synthetic:64:2:10")));
        QVERIFY(w.setCurrentTab(QStringLiteral("compare")));
        QVERIFY(w.saveProject(project));
    }
    MainWindow fresh(false);
    QVERIFY(fresh.openProject(project));
    QTRY_COMPARE_WITH_TIMEOUT(fresh.browser()->currentTensor(), kDownProj, kTimeoutMs);
    QCOMPARE(QString::fromStdString(fresh.schemePanel()->scheme().toString()),
             QStringLiteral("nf4:g64:dq"));
    QCOMPARE(fresh.currentTabName(), QStringLiteral("compare"));
    QCOMPARE(QString::fromStdString(fresh.controller()->checkpoint()->path()), sample());
    // The Model tab's schemes and activations too.
    auto sweep = fresh.modelTab()->schemes();
    QVERIFY(sweep.ok() && sweep->size() == 2);
    QCOMPARE(QString::fromStdString((*sweep)[1].toString()), QStringLiteral("q4_k"));
    QCOMPARE(fresh.modelTab()->activationsChoice().path, QStringLiteral("synthetic:64:2:10"));

    QFile broken(dir.filePath(QStringLiteral("broken.qsproj")));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("{\"quantscope_project\": 1, \"scheme\": 7}");
    broken.close();
    QSignalSpy errors(&fresh, &MainWindow::errorShown);
    QVERIFY(!fresh.openProject(broken.fileName()));
    QCOMPARE(errors.count(), 1);
    QVERIFY(errors.at(0).at(0).toString().contains(QStringLiteral("\"scheme\"")));
}

QTEST_MAIN(TestExportDialog)
#include "test_export_dialog.moc"
