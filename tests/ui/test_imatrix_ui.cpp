// Schemes that need activations (q4_0:imatrix here) in the detail views: without the Model tab's
// activations the analysis says where to choose them; with them the Tensor tab runs the scheme
// on them, its SQNR and output error equal the core's for the same synthetic activations, the
// tensor tree's column fills in, and choosing none again brings the message back.

#include "charts/sensitivity_heatmap.h"
#include "charts/sqnr_sweep_chart.h"
#include "dialogs/export_dialog.h"
#include "export/exporter.h"
#include "fixture_imatrix.h"
#include "main_window.h"
#include "metrics/output_error.h"
#include "models/compare_table_model.h"
#include "models/sensitivity_model.h"
#include "models/tensor_tree_model.h"
#include "number_format.h"
#include "panels/compare_tab.h"
#include "panels/metrics_panel.h"
#include "panels/model_tab.h"
#include "panels/scheme_panel.h"
#include "panels/tensor_browser_panel.h"
#include "panels/tensor_tab.h"
#include "plan/planner.h"
#include "quant/registry.h"
#include "test_support.h"
#include "workers/analysis_controller.h"
#include "workers/sweep_controller.h"

#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 30000;
const QString kQProj = QStringLiteral("model.layers.0.self_attn.q_proj.weight");
const QString kSynthetic = QStringLiteral("synthetic:256:4:20");

struct Expected {
    QString sqnr, outErr;
};

// The core on the same tensor and the same synthetic activations (64 input features).
Expected coreResult(const Checkpoint& ckpt, const Scheme& s) {
    const TensorInfo* t = ckpt.find(kQProj.toStdString());
    auto values = ckpt.readFloat(*t).value();
    const MatrixView w = matrixView(*t, values);
    auto source = ActivationSource::synthetic(
        parseSyntheticCalibration(kSynthetic.toStdString()).value(), "synthetic");
    source.prepare({w.cols});
    const MatrixView* x = source.forFeatures(w.cols);
    auto q = quantize(s, w, {}, x).value();
    const auto m = computeErrorMetrics(std::span<const float>(values), q.reconstruction);
    const auto out = outputErrorSums(*x, w, q.reconstruction.data()).value();
    return {formatDb(m.sqnrDb()), formatPercent(out.relative())};
}

} // namespace

class TestImatrixUi : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void imatrixRunsWithTheModelTabsActivations() {
        MainWindow w(false);
        w.openCheckpoint(QString::fromStdString(test::samplePath()), kQProj);
        QTRY_VERIFY_WITH_TIMEOUT(w.metricsPanel()->sqnrText() != QStringLiteral("—"), kTimeoutMs);
        const Scheme s = *Scheme::parse("q4_0:imatrix");
        w.schemePanel()->setScheme(s);
        QTRY_VERIFY_WITH_TIMEOUT(
            w.metricsPanel()->noteText().contains(QStringLiteral("choose them on the Model tab")),
            kTimeoutMs);

        QVERIFY(w.modelTab()->setActivations(kSynthetic));
        QTRY_VERIFY_WITH_TIMEOUT(
            !w.metricsPanel()->valueText(QStringLiteral("output err")).isEmpty(), kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->isBusy(), kTimeoutMs);
        const Expected e = coreResult(*w.controller()->checkpoint(), s);
        QCOMPARE(w.metricsPanel()->sqnrText(), e.sqnr);
        QCOMPARE(w.metricsPanel()->valueText(QStringLiteral("output err")), e.outErr);
        // The plain format's output error is higher on these outlier channels.
        const Expected plain = coreResult(*w.controller()->checkpoint(), *Scheme::parse("q4_0"));
        QVERIFY2(plain.outErr.section(' ', 0, 0).toDouble() >
                     e.outErr.section(' ', 0, 0).toDouble(),
                 qPrintable(plain.outErr + " vs " + e.outErr));

        // The tree's column for another tensor is measured with the same activations.
        TensorTreeModel* tree = w.browser()->model();
        const QString kProj = QStringLiteral("model.layers.0.self_attn.k_proj.weight");
        auto status = [&] {
            const TensorMetric* m = tree->metric(kProj);
            return m ? int(m->status) : -1;
        };
        QTRY_VERIFY_WITH_TIMEOUT(status() == int(TensorMetric::Status::Ok), kTimeoutMs);

        // Compare: q4_0 against q4_0:imatrix on the same activations, the output error shown.
        CompareTab* compare = w.compareTab();
        w.setCurrentTab(QStringLiteral("compare"));
        QVERIFY(compare->setSlotSpec(0, QStringLiteral("q4_0")));
        QVERIFY(compare->setSlotSpec(1, QStringLiteral("q4_0:imatrix")));
        CompareTableModel* table = compare->tableModel();
        auto outErr = [&](int row) {
            return table->data(table->index(row, int(CompareColumn::OutErr))).toString();
        };
        QTRY_VERIFY_WITH_TIMEOUT(table->rowCount() >= 2 && table->result(0) && table->result(1) &&
                                     outErr(1) != QStringLiteral("—"),
                                 kTimeoutMs);
        QCOMPARE(outErr(1), e.outErr);
        QCOMPARE(outErr(0), plain.outErr);

        // No activations: the message again, not a stale result.
        QVERIFY(w.modelTab()->setActivations(QString()));
        QTRY_VERIFY_WITH_TIMEOUT(
            w.metricsPanel()->noteText().contains(QStringLiteral("choose them on the Model tab")),
            kTimeoutMs);
        QVERIFY(w.metricsPanel()->valueText(QStringLiteral("output err")).isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(status() == int(TensorMetric::Status::NotApplicable), kTimeoutMs);
    }

    // A llama.cpp importance matrix as the Model tab's inputs: the sweep measures the output
    // error it implies (the core's, for the same entry) and q4_0:imatrix with it; the Tensor
    // tab shows that output error for a plain scheme too; GGUF export quantizes with it.
    void anImportanceMatrixFileStandsInForActivations() {
        QTemporaryDir dir;
        const QString file = dir.filePath("imatrix.gguf");
        std::vector<test::ImatrixFixtureEntry> entries;
        std::vector<float> importance; // every entry's: 64 columns, one loud in eight
        for (int j = 0; j < 64; ++j)
            importance.push_back(j % 8 == 3 ? 100.0f : 1.0f);
        for (int layer = 0; layer < 5; ++layer)
            for (const char* kind : {"attn_q", "attn_k", "attn_v", "attn_output"})
                entries.push_back(
                    {"blk." + std::to_string(layer) + "." + kind + ".weight", importance, {1}});
        test::writeBytes(file.toStdString(), test::imatrixGguf(entries, 1, "t"));

        MainWindow w(false);
        w.openCheckpoint(QString::fromStdString(test::samplePath()), kQProj);
        QTRY_VERIFY_WITH_TIMEOUT(w.metricsPanel()->sqnrText() != QStringLiteral("—"), kTimeoutMs);
        w.modelTab()->setSchemesText(QStringLiteral("q4_0, q4_0:imatrix, int4:g64"));
        QVERIFY(w.modelTab()->table()->isColumnHidden(int(SensitivityColumn::InputSpread)));
        QSignalSpy applied(w.modelTab(), &ModelTab::activationsChanged);
        QVERIFY(w.modelTab()->setActivations(file));
        QTRY_VERIFY_WITH_TIMEOUT(applied.count() == 1, kTimeoutMs);
        QCOMPARE(applied.first().first().toBool(), true);
        QSignalSpy swept(w.sweepController(), &SweepController::finished);
        QVERIFY(w.modelTab()->runSweep());
        QVERIFY(swept.wait(kTimeoutMs));
        const auto m = w.sweepController()->cache();
        QVERIFY(m && hasOutputError(*m));

        const Checkpoint& ckpt = *w.controller()->checkpoint();
        auto values = ckpt.readFloat(*ckpt.find(kQProj.toStdString())).value();
        const MatrixView wq{values.data(), 64, 64};
        auto expected = [&](const char* spec) {
            const ImportanceWeights given{importance, file.toStdString()};
            auto q = quantize(*Scheme::parse(spec), wq, {}, nullptr, &given).value();
            return importanceErrorSums(importance, wq, q.reconstruction.data())->relative();
        };
        for (const TensorMeasurement& t : m->tensors) {
            if (t.name != kQProj.toStdString())
                continue;
            for (const PlanOption& o : t.options)
                if (o.scheme.toString() != "int4:g64")
                    QCOMPARE(o.outRelErr, expected(o.scheme.toString().c_str()));
        }
        QVERIFY(expected("q4_0:imatrix") < expected("q4_0"));
        // The inputs' spread where the file has an entry: sqrt(100 / 1), the loud channels' RMS
        // over the median's; none for the MLP and the embedding (no entry). The table shows
        // the column (hidden before), the map its fourth bars.
        int spread = 0;
        for (const TensorMeasurement& t : m->tensors) {
            const bool entry = t.name.find("self_attn") != std::string::npos;
            QVERIFY2(entry ? t.inputSpread == 10.0 : std::isnan(t.inputSpread), t.name.c_str());
            spread += entry;
        }
        QCOMPARE(spread, 20);
        QVERIFY(!w.modelTab()->table()->isColumnHidden(int(SensitivityColumn::InputSpread)));
        QVERIFY(w.modelTab()->heatmap()->cellRect(0, int(SensitivityColumn::InputSpread)).left() >
                w.modelTab()->heatmap()->cellRect(0, int(SensitivityColumn::Imbalance)).left());
        // The map's n/a for the embedding says the file has no entry for it.
        SensitivityModel* map = w.modelTab()->model();
        bool said = false;
        for (int r = 0; r < map->rowCount(); ++r) {
            const QModelIndex i = map->index(r, map->schemeColumn(0));
            if (map->data(i, int(SensitivityRole::TensorName)).toString() ==
                QStringLiteral("model.embed_tokens.weight"))
                said = map->data(i, int(SensitivityRole::NotApplicable))
                           .toString()
                           .contains(QStringLiteral("importance matrix has no entry"));
        }
        QVERIFY(said);

        // The Tensor tab: the output error of a plain scheme, from the file.
        w.schemePanel()->setScheme(*Scheme::parse("q4_0"));
        QTRY_VERIFY_WITH_TIMEOUT(w.metricsPanel()->valueText(QStringLiteral("output err")) ==
                                     formatPercent(expected("q4_0")),
                                 kTimeoutMs);
        // Its SNR-vs-bits chart draws the output's SNR beside the weights' (q4_0, q5_0, q8_0).
        SqnrSweepChart* sweep = w.tensorTab()->sweepChart();
        QTRY_VERIFY_WITH_TIMEOUT(sweep->outputPointCount() == 3, kTimeoutMs);
        bool atFour = false;
        for (const QString& line : sweep->csvData().split(QLatin1Char('\n')))
            if (line.startsWith(QStringLiteral("q4_0,4,"))) {
                const double snr = line.section(QLatin1Char(','), 4, 4).toDouble();
                QVERIFY2(std::fabs(snr + 20 * std::log10(expected("q4_0"))) < 1e-6,
                         qPrintable(line));
                atFour = true;
            }
        QVERIFY(atFour);

        // GGUF export of q4_0:imatrix uses it (the embedding has no entry: said).
        ExportDialog* d = w.showExportDialog();
        QVERIFY(d);
        d->setTarget(ExportTarget::Gguf);
        d->setSchemeSpec(QStringLiteral("q4_0:imatrix"));
        d->setOutputPath(dir.filePath("out.gguf"));
        QSignalSpy done(d, &ExportDialog::exportFinished);
        d->startExport();
        QTRY_VERIFY_WITH_TIMEOUT(done.count() == 1, kTimeoutMs);
        QVERIFY2(done.first().first().toBool(), qPrintable(done.first().at(1).toString()));
        QVERIFY(QFileInfo::exists(dir.filePath("out.gguf")));
    }
};

QTEST_MAIN(TestImatrixUi)
#include "test_imatrix_ui.moc"
