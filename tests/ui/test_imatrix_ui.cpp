// Schemes that need activations (q4_0:imatrix here) in the detail views: without the Model tab's
// activations the analysis says where to choose them; with them the Tensor tab runs the scheme
// on them, its SQNR and output error equal the core's for the same synthetic activations, the
// tensor tree's column fills in, and choosing none again brings the message back.

#include "main_window.h"
#include "metrics/output_error.h"
#include "models/tensor_tree_model.h"
#include "number_format.h"
#include "panels/metrics_panel.h"
#include "panels/model_tab.h"
#include "panels/scheme_panel.h"
#include "panels/tensor_browser_panel.h"
#include "quant/registry.h"
#include "test_support.h"
#include "workers/analysis_controller.h"

#include <QStandardPaths>
#include <QTest>

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

        // No activations: the message again, not a stale result.
        QVERIFY(w.modelTab()->setActivations(QString()));
        QTRY_VERIFY_WITH_TIMEOUT(
            w.metricsPanel()->noteText().contains(QStringLiteral("choose them on the Model tab")),
            kTimeoutMs);
        QVERIFY(w.metricsPanel()->valueText(QStringLiteral("output err")).isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(status() == int(TensorMetric::Status::NotApplicable), kTimeoutMs);
    }
};

QTEST_MAIN(TestImatrixUi)
#include "test_imatrix_ui.moc"
