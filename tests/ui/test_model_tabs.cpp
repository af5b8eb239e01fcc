// The whole-model tabs in the main window on the bundled sample: the Model tab's sweep and
// sensitivity map (values against core, partial results, role filters, sorting, the per-scheme
// cache, click-through), the Plan tab (budget slider, keep rules, hand edits, saving) and the
// Memory tab (config.json figures, GPU table, pricing the plan).

#include "analysis/tensor_analysis.h"
#include "charts/memory_breakdown_chart.h"
#include "charts/pareto_chart.h"
#include "charts/sensitivity_heatmap.h"
#include "main_window.h"
#include "methods/calibration.h"
#include "metrics/distribution_stats.h"
#include "metrics/error_metrics.h"
#include "models/plan_table_model.h"
#include "models/sensitivity_model.h"
#include "panels/memory_tab.h"
#include "panels/model_tab.h"
#include "panels/plan_tab.h"
#include "panels/scheme_panel.h"
#include "panels/tensor_browser_panel.h"
#include "plan/gpu_table.h"
#include "plan/plan_file.h"
#include "plan/tensor_roles.h"
#include "test_support.h"
#include "widgets/table_columns.h"
#include "widgets/tensor_names.h"
#include "workers/sweep_controller.h"

#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QLabel>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSlider>
#include <QSortFilterProxyModel>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 60000;
constexpr int kQuantizedTensors = 36; // the sample's tensors with two dimensions

const Checkpoint& sample() {
    static const Checkpoint c = *Checkpoint::open(test::samplePath());
    return c;
}

struct Window {
    Window() : w(false) {
        w.resize(1600, 1000);
        w.openCheckpoint(QString::fromStdString(test::samplePath()));
    }
    // Shows the Model tab (which starts the sweep) and waits for it.
    bool swept() {
        QSignalSpy done(w.sweepController(), &SweepController::finished);
        w.setCurrentTab(QStringLiteral("model"));
        return done.count() > 0 || done.wait(kTimeoutMs);
    }
    MainWindow w;
};

int rowOf(const QAbstractItemModel* m, const QString& tensor) {
    for (int r = 0; r < m->rowCount(); ++r)
        if (m->index(r, 0).data(int(SensitivityRole::TensorName)).toString() == tensor)
            return r;
    return -1;
}

} // namespace

class TestModelTabs : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QVERIFY(QFile::exists(QString::fromStdString(test::samplePath())));
        QVERIFY(MainWindow::tabNames().contains(QStringLiteral("plan")));
    }

    void sweepFillsTheMapWithCoreFigures() {
        Window win;
        QSignalSpy partial(win.w.sweepController(), &SweepController::tensorMeasured);
        QVERIFY(win.swept());
        SensitivityModel* model = win.w.modelTab()->model();
        QAbstractItemModelTester tester(model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model->rowCount(), kQuantizedTensors);
        QCOMPARE(partial.count(), kQuantizedTensors); // each tensor arrived on its own
        QCOMPARE(int(model->schemes().size()), 5);
        QVERIFY(win.w.modelTab()->statusText().contains(QStringLiteral("36 tensors")));
        // Every cell of one tensor against analyzeTensor run here.
        const TensorInfo* info = sample().find("model.layers.1.self_attn.k_proj.weight");
        auto values = sample().readFloat(*info);
        QVERIFY(values.ok());
        const int row = rowOf(model, QString::fromStdString(info->name));
        QVERIFY(row >= 0);
        for (int s = 0; s < int(model->schemes().size()); ++s) {
            const Scheme& scheme = model->schemes()[size_t(s)];
            auto a = analyzeTensor(matrixView(*info, *values), scheme);
            const QModelIndex idx = model->index(row, model->schemeColumn(s));
            if (!a) { // q4_k does not divide 64-wide rows: the fallback stands in, marked
                QVERIFY(!idx.data(int(SensitivityRole::Fallback)).toString().isEmpty());
                continue;
            }
            QCOMPARE(idx.data(int(SensitivityRole::Value)).toDouble(), a->error.sqnrDb());
        }
        win.w.modelTab()->setMetric(int(SensitivityMetric::RelRmse));
        auto a = analyzeTensor(matrixView(*info, *values), model->schemes()[0]);
        QVERIFY(std::abs(model->index(row, model->schemeColumn(0))
                             .data(int(SensitivityRole::Value))
                             .toDouble() -
                         a->error.relRmse()) < 1e-9);
        QVERIFY(!win.w.modelTab()->heatmap()->higherIsBetter());
    }

    // Activations turn on the output error: synthetic ones give every cell its value, the one
    // analyzeTensor gives; a file's [16, 64] tensor only the 64-wide tensors, the others n/a
    // with the reason; a bad file is refused and nothing changes.
    void activationsShowTheOutputError() {
        Window win;
        QVERIFY(win.swept());
        ModelTab* tab = win.w.modelTab();
        SensitivityModel* model = tab->model();
        QSignalSpy done(win.w.sweepController(), &SweepController::finished);
        QVERIFY(tab->setActivations(QStringLiteral("synthetic:32:2:10")));
        QVERIFY(done.count() > 0 || done.wait(kTimeoutMs));
        QCOMPARE(model->metric(), SensitivityMetric::OutRelErr);
        QCOMPARE(model->rowCount(), kQuantizedTensors);
        const TensorInfo* info = sample().find("model.layers.1.mlp.down_proj.weight");
        auto values = sample().readFloat(*info);
        QVERIFY(values.ok());
        const MatrixView w = matrixView(*info, *values);
        const std::vector<float> x = syntheticActivations({32, 2, 10.0, 0}, w.cols);
        const MatrixView xv{x.data(), 32, w.cols};
        const int row = rowOf(model, QString::fromStdString(info->name));
        AnalysisOptions withX;
        withX.activations = &xv;
        auto a = analyzeTensor(w, model->schemes()[0], withX);
        QVERIFY(a.ok() && a->outputError);
        QCOMPARE(model->index(row, model->schemeColumn(0)).data(int(SensitivityRole::Value)),
                 QVariant(a->outputError->relative()));
        for (int r = 0; r < model->rowCount(); ++r)
            QVERIFY(std::isfinite(model->index(r, model->schemeColumn(1))
                                      .data(int(SensitivityRole::Value))
                                      .toDouble()));
        QVERIFY(!tab->heatmap()->higherIsBetter());

        // A file of width 64.
        QTemporaryDir dir;
        const QString npy = dir.filePath(QStringLiteral("x.npy"));
        {
            std::vector<float> v(16 * 64);
            for (size_t i = 0; i < v.size(); ++i)
                v[i] = static_cast<float>(std::cos(0.1 * static_cast<double>(i)));
            std::vector<std::uint8_t> bytes(v.size() * sizeof(float));
            std::memcpy(bytes.data(), v.data(), bytes.size());
            test::writeNpy(npy.toStdString(), "<f4", {16, 64}, bytes);
        }
        done.clear();
        QVERIFY(tab->setActivations(npy));
        QVERIFY(done.count() > 0 || done.wait(kTimeoutMs));
        const QModelIndex down = model->index(row, model->schemeColumn(0));
        QVERIFY(std::isnan(down.data(int(SensitivityRole::Value)).toDouble()));
        QVERIFY2(down.data(int(SensitivityRole::NotApplicable)).toString().contains("172"),
                 qPrintable(down.data(int(SensitivityRole::NotApplicable)).toString()));
        QCOMPARE(down.data().toString(), QStringLiteral("n/a"));
        const int up = rowOf(model, QStringLiteral("model.layers.1.mlp.up_proj.weight"));
        QVERIFY(std::isfinite(
            model->index(up, model->schemeColumn(0)).data(int(SensitivityRole::Value)).toDouble()));
        QVERIFY(!tab->setActivations(dir.filePath(QStringLiteral("missing.npy"))));
        QVERIFY(win.w.sweepController()->activations()); // still the file's
        // A file of many matrices: one named (the picker asks which), or none and a refusal.
        // (Read on the work pool: the refusal comes with activationsChanged(false).)
        const QString many = QString::fromStdString(test::samplePath());
        QSignalSpy changed(tab, &ModelTab::activationsChanged);
        QVERIFY(tab->setActivations(many));
        QVERIFY(changed.wait(kTimeoutMs));
        QCOMPARE(changed.last().at(0).toBool(), false);
        QVERIFY2(tab->statusText().contains(QStringLiteral("name one")),
                 qPrintable(tab->statusText()));
        done.clear();
        QVERIFY(
            tab->setActivations(many, QStringLiteral("model.layers.0.self_attn.q_proj.weight")));
        QVERIFY(done.count() > 0 || done.wait(kTimeoutMs));
        QCOMPARE(win.w.sweepController()->activations()->tokens(), std::int64_t(64));
        // None: back to the SQNR, every cell a value again.
        done.clear();
        QVERIFY(tab->setActivations(QString()));
        QVERIFY(done.count() > 0 || done.wait(kTimeoutMs));
        QCOMPARE(model->metric(), SensitivityMetric::SqnrDb);
        QVERIFY(std::isfinite(down.data(int(SensitivityRole::Value)).toDouble()));
    }

    void rolesFilterAndSortingReorderTheMap() {
        Window win;
        QVERIFY(win.swept());
        ModelTab* tab = win.w.modelTab();
        int attention = 0;
        for (const auto& t : sample().tensors())
            if (t.shape.size() >= 2 && classifyTensor(t.name) == TensorRole::Attention)
                ++attention;
        QVERIFY(attention > 0);
        tab->setRoleShown(TensorRole::Attention, false);
        QCOMPARE(tab->proxy()->rowCount(), kQuantizedTensors - attention);
        for (int r = 0; r < tab->proxy()->rowCount(); ++r)
            QVERIFY(tab->proxy()->index(r, 0).data(int(SensitivityRole::TensorRoleId)).toInt() !=
                    int(TensorRole::Attention));
        QCOMPARE(tab->heatmap()->sizeHint().height(),
                 SensitivityHeatmap::kHeaderHeight +
                     tab->proxy()->rowCount() * SensitivityHeatmap::kRowHeight + 4);
        tab->setRoleShown(TensorRole::Attention, true);
        tab->table()->sortByColumn(int(SensitivityColumn::Kurtosis), Qt::DescendingOrder);
        double maxKurtosis = -1e9;
        QString top;
        for (const auto& t : sample().tensors()) {
            if (t.shape.size() < 2)
                continue;
            const double k = computeDistributionStats(*sample().readFloat(t)).kurtosis;
            if (k > maxKurtosis)
                maxKurtosis = k, top = QString::fromStdString(t.name);
        }
        QCOMPARE(tab->proxy()->index(0, 0).data(int(SensitivityRole::TensorName)).toString(), top);
    }

    void theMapsBarsStayInViewWithTheTableBesideOrBelow() {
        Window win;
        win.w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&win.w));
        QVERIFY(win.swept());
        ModelTab* tab = win.w.modelTab();
        SensitivityHeatmap* map = tab->heatmap();
        QWidget* view = map->parentWidget(); // the scroll area's viewport
        QTableView* table = tab->table();
        auto rectOf = [&](QWidget* w) { return QRect(w->mapTo(tab, QPoint(0, 0)), w->size()); };
        // 1600 px: the map with its five scheme columns and three bars does not leave a table
        // of kMinTableWidth beside it, so the table goes below, and the bars stay in view.
        QTRY_VERIFY(view->width() >= map->sizeHint().width());
        QVERIFY(rectOf(table).top() >= rectOf(view).bottom());
        QVERIFY(map->hasStandIns()); // q4_k does not apply to the sample's widths
        // q8_0 has no fallback on down_proj's rows of 172: "n/a", with llama.cpp's reason, not
        // the "…" of a cell still to come.
        QVERIFY(map->hasNotApplicable());
        const SensitivityModel* m = tab->model();
        int q8 = -1;
        for (int c = kSensitivityFixedColumns; c < m->columnCount(); ++c)
            if (m->headerData(c, Qt::Horizontal).toString() == QStringLiteral("q8_0"))
                q8 = c;
        QVERIFY(q8 > 0);
        int naRows = 0;
        for (int r = 0; r < m->rowCount(); ++r) {
            const QModelIndex i = m->index(r, q8);
            const bool down = m->index(r, 0)
                                  .data(int(SensitivityRole::TensorName))
                                  .toString()
                                  .contains(QStringLiteral("down_proj"));
            QCOMPARE(i.data().toString() == QStringLiteral("n/a"), down);
            if (down) {
                ++naRows;
                QVERIFY(std::isnan(i.data(int(SensitivityRole::Value)).toDouble()));
                QVERIFY2(
                    i.data(Qt::ToolTipRole).toString().contains(QStringLiteral("does not apply")),
                    qPrintable(i.data(Qt::ToolTipRole).toString()));
            }
        }
        QCOMPARE(naRows, 5);
        // Below the map the names give way (to kMinNameColumnWidth, shortened to fit)
        // so that the figures beside them show without scrolling.
        QHeaderView* header = table->horizontalHeader();
        const int tensor = int(SensitivityColumn::Tensor),
                  imbalance = int(SensitivityColumn::Imbalance);
        QTRY_VERIFY(header->sectionSize(tensor) >= kMinNameColumnWidth); // fitted
        QVERIFY(header->sectionViewportPosition(imbalance) + header->sectionSize(imbalance) <=
                table->viewport()->width());
        QVERIFY(table->itemDelegateForColumn(tensor) != nullptr);
        // 1280 x 800: the names give way (elided at the left) so that the scheme columns show
        // without scrolling (the last of five was cut before): 505 pixels hold all five.
        win.w.resize(1280, 800);
        QTRY_VERIFY(map->labelWidth() < SensitivityHeatmap::kLabelWidth);
        const int lastScheme = tab->model()->columnCount() - 1;
        const int wideRight = SensitivityHeatmap::kLabelWidth + 5 * SensitivityHeatmap::kCellWidth;
        map->fitLabelsTo(505);
        QVERIFY2(map->cellRect(0, lastScheme).right() < 505 &&
                     map->cellRect(0, lastScheme).right() < wideRight,
                 qPrintable(QString::number(map->cellRect(0, lastScheme).right())));
        // Then the cells and bars narrow too, so that the bars show without scrolling (cut at
        // 1280 x 800 before): 480 pixels hold five schemes and three bars.
        const int imbalanceColumn = int(SensitivityColumn::Imbalance);
        map->fitLabelsTo(480);
        QCOMPARE(map->labelWidth(), SensitivityHeatmap::kMinLabelWidth);
        QVERIFY(map->cellWidth() < SensitivityHeatmap::kCellWidth &&
                map->cellWidth() >= SensitivityHeatmap::kMinCellWidth);
        // The least follows the figures shown: errors (down to "0.00099*") need more than dB.
        const int dbLeast = map->leastCellWidth();
        map->setScale(0.001, 0.4, false);
        QVERIFY(map->leastCellWidth() > dbLeast && map->cellWidth() >= map->leastCellWidth());
        QVERIFY(map->cellWidth() >
                map->fontMetrics().horizontalAdvance(QStringLiteral("0.00022*")));
        map->setScale(10, 40, true);
        QVERIFY2(map->cellRect(0, imbalanceColumn).right() < 480 && map->sizeHint().width() <= 480,
                 qPrintable(QString::number(map->sizeHint().width())));
        QCOMPARE(map->cellAt(map->cellRect(3, imbalanceColumn).center()),
                 std::make_pair(3, imbalanceColumn));
        QCOMPARE(map->cellAt(map->cellRect(3, lastScheme).center()), std::make_pair(3, lastScheme));
        // Room again: every width whole.
        map->showWholeNames();
        QCOMPARE(map->labelWidth(), SensitivityHeatmap::kLabelWidth);
        QCOMPARE(map->cellWidth(), SensitivityHeatmap::kCellWidth);
        QCOMPARE(map->barWidth(), SensitivityHeatmap::kBarWidth);
        // Wide enough: beside it, at least kMinTableWidth wide.
        win.w.resize(2560, 1000);
        QTRY_VERIFY(rectOf(table).left() >= rectOf(view).right());
        QVERIFY(view->width() >= map->sizeHint().width());
        QVERIFY(table->width() >= ModelTab::kMinTableWidth);
        // Schemes that apply everywhere: no note about stand-ins.
        QSignalSpy done(win.w.sweepController(), &SweepController::finished);
        tab->setSchemesText(QStringLiteral("int4:g128"));
        QVERIFY(tab->runSweep());
        QVERIFY(done.count() > 0 || done.wait(kTimeoutMs));
        QVERIFY(!map->hasStandIns());
        QVERIFY(!map->hasNotApplicable());
    }

    // A narrow names' column keeps the block and the projection: ".weight" goes first, then the
    // path above the block number, every row alike so that they stay aligned.
    void narrowNamesKeepTheBlockAndProjection() {
        const QString down = QStringLiteral("model.layers.17.mlp.down_proj.weight");
        const QString embed = QStringLiteral("model.embed_tokens.weight");
        const QString bias = QStringLiteral("h.3.attn.c_attn.bias");
        QCOMPARE(shortTensorName(down, 0), down);
        QCOMPARE(shortTensorName(down, 1), QStringLiteral("model.layers.17.mlp.down_proj"));
        QCOMPARE(shortTensorName(down, 2), QStringLiteral("layers.17.mlp.down_proj"));
        QCOMPARE(shortTensorName(down, 3), QStringLiteral("17.mlp.down_proj"));
        QCOMPARE(shortTensorName(down, 4), QStringLiteral("17.mlp.down_proj"));
        QCOMPARE(shortTensorName(embed, 3), QStringLiteral("model.embed_tokens"));
        QCOMPARE(shortTensorName(bias, 2), QStringLiteral("3.attn.c_attn.bias"));

        const QFontMetrics fm(QApplication::font());
        const QStringList names = {embed, down,
                                   QStringLiteral("model.layers.2.mlp.up_proj.weight")};
        auto levelAt = [&](const char* widest) {
            return shortTensorLevel(names, fm, fm.horizontalAdvance(QLatin1String(widest)));
        };
        QCOMPARE(levelAt("model.layers.17.mlp.down_proj.weight"), 0);
        QCOMPARE(levelAt("model.layers.17.mlp.down_proj"), 1);
        QCOMPARE(levelAt("model.layers.17.mlp.down_pro"), 2); // "layers.17.mlp.down_proj" fits
        QCOMPARE(levelAt("model.embed_tokens"), 3);           // "17.mlp.down_proj" too
        QCOMPARE(levelAt("17.mlp.down"), 4); // none fits: the longest are elided in the middle
        QCOMPARE(shortTensorLevel(names, fm, fm.horizontalAdvance(QLatin1String("17.mlp.down")), 1),
                 1); // the tensor tree's: ".weight" at most
    }

    void laterSweepsMeasureOnlyNewSchemes() {
        Window win;
        QVERIFY(win.swept());
        QSignalSpy partial(win.w.sweepController(), &SweepController::tensorMeasured);
        QSignalSpy done(win.w.sweepController(), &SweepController::finished);
        win.w.modelTab()->setSchemesText(ModelTab::defaultSchemes() + QStringLiteral(", mxfp4"));
        QVERIFY(win.w.modelTab()->runSweep());
        QVERIFY(done.wait(kTimeoutMs));
        QCOMPARE(partial.count(), kQuantizedTensors);
        for (const auto& args : partial) // only mxfp4 was measured this time
            QCOMPARE(args.at(0).value<TensorMeasurement>().options.size(), size_t(1));
        QCOMPARE(int(win.w.modelTab()->model()->schemes().size()), 6);
        // Dropping a scheme again needs no measuring at all.
        partial.clear();
        win.w.modelTab()->setSchemesText(QStringLiteral("int4:g128, mxfp4"));
        QVERIFY(win.w.modelTab()->runSweep());
        QTRY_COMPARE(done.count(), 2);
        QCOMPARE(partial.count(), 0);
        QCOMPARE(int(win.w.modelTab()->model()->schemes().size()), 2);
        win.w.modelTab()->setSchemesText(QStringLiteral("int4:g128, int99"));
        QVERIFY(!win.w.modelTab()->runSweep());
        QVERIFY(win.w.modelTab()->statusText().contains(QStringLiteral("int99")));
    }

    void clickingACellOpensThatTensorAndScheme() {
        Window win;
        QVERIFY(win.swept());
        ModelTab* tab = win.w.modelTab();
        SensitivityHeatmap* map = tab->heatmap();
        const int row = rowOf(tab->proxy(), QStringLiteral("model.layers.2.mlp.up_proj.weight"));
        const QRect cell = map->cellRect(row, kSensitivityFixedColumns + 2); // nf4:g64
        QCOMPARE(map->cellAt(cell.center()), std::make_pair(row, kSensitivityFixedColumns + 2));
        QTest::mouseClick(map, Qt::LeftButton, {}, cell.center());
        QCOMPARE(win.w.currentTabName(), QStringLiteral("tensor"));
        QCOMPARE(QString::fromStdString(win.w.schemePanel()->scheme().toString()),
                 QStringLiteral("nf4:g64"));
        QTRY_COMPARE(win.w.browser()->currentTensor(),
                     QStringLiteral("model.layers.2.mlp.up_proj.weight"));
    }

    void planTableShowsItsFiguresBesideTheNames() {
        Window win;
        win.w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&win.w));
        QSignalSpy done(win.w.sweepController(), &SweepController::finished);
        win.w.setCurrentTab(QStringLiteral("plan")); // sweeps too
        QVERIFY(done.wait(kTimeoutMs));
        QTableView* view = win.w.planTab()->tableView();
        QHeaderView* header = view->horizontalHeader();
        const int tensor = int(PlanColumn::Tensor), sqnr = int(PlanColumn::Sqnr);
        // The table spans the page under the controls and the chart: in the 1600 px window the
        // names (225 px) show whole beside every figure (once the plan is in and its columns
        // fitted: until then the columns are Qt's).
        auto figuresShow = [&] {
            return win.w.planTab()->tableModel()->rowCount() > 0 &&
                   header->sectionSize(tensor) >= kMinNameColumnWidth &&
                   header->sectionViewportPosition(sqnr) + header->sectionSize(sqnr) <=
                       view->viewport()->width();
        };
        const int whole = static_cast<const QAbstractItemView*>(view)->sizeHintForColumn(tensor);
        QTRY_VERIFY(figuresShow() && header->sectionSize(tensor) >= whole);
        // At 1280 px every figure still shows (the names give way first where they must).
        win.w.resize(1280, 800);
        QTRY_VERIFY(figuresShow());
    }

    void planFollowsTheBudgetRulesAndHandEdits() {
        Window win;
        QSignalSpy done(win.w.sweepController(), &SweepController::finished);
        win.w.setCurrentTab(QStringLiteral("plan")); // sweeps too
        QVERIFY(done.wait(kTimeoutMs));
        PlanTab* plan = win.w.planTab();
        QVERIFY(plan->solution().has_value());
        QCOMPARE(plan->budget(), 4.5);
        const auto measured = done.at(0).at(0).value<std::shared_ptr<const PlanMeasurements>>();
        PlanBudget b;
        b.bitsPerWeight = 4.5 + 1e-9;
        const auto core = solvePlan(*measured, b);
        QVERIFY(core.ok());
        QCOMPARE(plan->solution()->bits, core->bits);
        QCOMPARE(plan->solution()->plan.tensors, core->plan.tensors);
        // The curve comes from the work pool: the core's curve for these measurements.
        QTRY_VERIFY(!plan->isBusy());
        QCOMPARE(plan->chart()->curvePoints(),
                 int(paretoCurve(*measured, PlanTab::kCurvePoints).size()));
        QVERIFY(plan->chart()->curvePoints() >= 5);
        // Five candidates, four uniform points: llama-quantize stops on q8_0 for the 172-wide
        // rows (no fallback), so "q8_0 everywhere" cannot be made; q4_k falls back.
        QCOMPARE(plan->chart()->uniformPoints(), 4);
        QVERIFY(plan->summaryText().contains(QStringLiteral("lower")));
        QVERIFY2(plan->summaryText().contains(
                     QRegularExpression(QStringLiteral("relative RMSE [0-9.]+ %"))),
                 qPrintable(plan->summaryText()));

        // The slider re-solves: a tighter budget, a smaller plan that still fits.
        const auto before = plan->solution()->bits;
        plan->budgetSlider()->setValue(400);
        QCOMPARE(plan->budget(), 4.0);
        QVERIFY(plan->solution()->bitsPerWeight <= 4.0);
        QVERIFY(plan->solution()->bits < before);

        plan->setRulesText(QStringLiteral(".*embed_tokens.*=q8_0"));
        QVERIFY(plan->rulesError().isEmpty());
        QCOMPARE(*plan->solution()->plan.specFor("model.embed_tokens.weight"), std::string("q8_0"));
        plan->setRulesText(QStringLiteral(".*embed_tokens.*=nf3"));
        QVERIFY(plan->rulesError().contains(QStringLiteral("not measured")));
        plan->setRulesText(QString());

        // A hand edit through the table pins one tensor and says so.
        PlanTableModel* table = plan->tableModel();
        const QString name = QStringLiteral("model.layers.3.self_attn.v_proj.weight");
        int row = -1;
        for (int r = 0; r < table->rowCount(); ++r)
            if (table->index(r, 0).data().toString() == name)
                row = r;
        QVERIFY(row >= 0);
        QVERIFY(table->setData(table->index(row, int(PlanColumn::Scheme)), QStringLiteral("q8_0")));
        QCOMPARE(*plan->solution()->plan.specFor(name.toStdString()), std::string("q8_0"));
        QCOMPARE(table->index(row, int(PlanColumn::Why)).data().toString(),
                 QStringLiteral("set by hand"));
        QVERIFY(!table->setData(table->index(row, int(PlanColumn::Scheme)), QStringLiteral("nf3")));

        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("plan.json"));
        QVERIFY(plan->savePlanTo(path));
        auto loaded = loadPlan(path.toStdString());
        QVERIFY(loaded.ok());
        QCOMPARE(loaded->tensors.size(), size_t(kQuantizedTensors));
        QCOMPARE(*loaded->specFor(name.toStdString()), std::string("q8_0"));
        QCOMPARE(win.w.planPath(), path);

        // A curve asked for just before the plan is cleared (a new file) is never drawn.
        plan->setRulesText(QStringLiteral(".*embed_tokens.*=q8_0"));
        QVERIFY(plan->isBusy());
        plan->clear();
        QVERIFY(!plan->isBusy());
        QTest::qWait(300);
        QCOMPARE(plan->chart()->curvePoints(), 0);
    }

    void closingTheWindowCancelsASweepInFlight() {
        // Eight 1024 x 4096 tensors under k-means: far longer than the close below takes.
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("big.safetensors")).toStdString();
        std::vector<float> values(size_t(1024) * 4096);
        for (size_t i = 0; i < values.size(); ++i)
            values[i] = float(std::sin(double(i) * 0.7071) * 0.05);
        std::vector<test::FixtureTensor> tensors;
        for (int k = 0; k < 8; ++k)
            tensors.push_back({"layers." + std::to_string(k) + ".mlp.up_proj.weight",
                               "F32",
                               {1024, 4096},
                               test::floatBytes(values)});
        test::writeSafetensors(path, tensors);
        MainWindow w(false);
        QSignalSpy started(w.sweepController(), &SweepController::started);
        QSignalSpy finished(w.sweepController(), &SweepController::finished);
        w.modelTab()->setSchemesText(QStringLiteral("kmeans4, q4_k, nf4:g64"));
        w.setCurrentTab(QStringLiteral("model"));
        w.openCheckpoint(QString::fromStdString(path));
        QVERIFY(started.wait(kTimeoutMs));
        QVERIFY(w.sweepController()->isBusy());
        QElapsedTimer clock;
        clock.start();
        QVERIFY(w.close()); // cancels and waits for the workers
        qInfo("closed %lld ms into a sweep", static_cast<long long>(clock.elapsed()));
        QCoreApplication::processEvents();
        QCOMPARE(finished.count(), 0);
        QVERIFY(!w.sweepController()->cache());
    }

    void memoryTabMatchesTheConfigFiguresAndPricesThePlan() {
        Window win;
        MemoryTab* mem = win.w.memoryTab();
        // A config chosen after the checkpoint opened is what the tab describes.
        QTRY_VERIFY_WITH_TIMEOUT(win.w.sweepController()->checkpoint() != nullptr, kTimeoutMs);
        // The sample's config allows 512 positions: the default 4096 is cut to that.
        QTRY_COMPARE(mem->context(), 512);
        QVERIFY(mem->setConfig(QString::fromStdString(
            test::sourceDir() + "/tests/data/configs/llama-3.1-8b/config.json")));
        QCOMPARE(mem->context(), 4096); // not chosen by the user: the default again
        mem->setWeightsAs(MemoryTab::WeightsAs::Stored);
        mem->setContext(8192);
        QTRY_VERIFY_WITH_TIMEOUT(mem->estimate() && mem->estimate()->kvCacheBytes == (1ull << 30) &&
                                     !mem->isBusy(),
                                 kTimeoutMs);
        QCOMPARE(mem->estimate()->params, std::uint64_t(8'030'261'248));
        QCOMPARE(mem->gpuTable()->rowCount(), int(commonGpus().size()));
        // One "Fits" column: yes, or how many share the model (16 GB of bf16 weights and 1 GiB
        // of KV cache split on two 12 GB cards).
        QCOMPARE(mem->gpuTable()->columnCount(), 3);
        QCOMPARE(mem->gpuTable()->item(0, 0)->text(), QStringLiteral("RTX 3060 12 GB"));
        QCOMPARE(mem->gpuTable()->item(0, 2)->text(), QStringLiteral("split on 2"));
        // At 1280 x 800 the table shows whole: no scrolling sideways, "Usable" and "Fits" whole.
        win.w.setCurrentTab(QStringLiteral("memory"));
        win.w.resize(1280, 800);
        win.w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&win.w));
        QTRY_VERIFY(mem->gpuTable()->isVisible() &&
                    !mem->gpuTable()->horizontalScrollBar()->isVisible());
        {
            QTableWidget* gpus = mem->gpuTable();
            QHeaderView* header = gpus->horizontalHeader();
            QCOMPARE(header->sectionViewportPosition(2) + header->sectionSize(2),
                     gpus->viewport()->width());
            for (int c : {1, 2})
                for (int r = 0; r < gpus->rowCount(); ++r)
                    QVERIFY(gpus->fontMetrics().horizontalAdvance(gpus->item(r, c)->text()) <
                            header->sectionSize(c));
        }
        // The parts are named in a wrapping legend, not Qt's (which cut every name).
        QVERIFY(!mem->chart()->chart()->legend()->isVisible());
        for (const MemorySegment& part : mem->chart()->segments())
            if (part.bytes > 0 || part.referenceBytes > 0)
                QVERIFY2(mem->chart()->legendText().contains(part.name), qPrintable(part.name));
        QVERIFY(mem->totalText().contains(QStringLiteral("Total")));
        QVERIFY(!mem->chart()->segments().empty());
        QCOMPARE(mem->chart()->unitName(), QStringLiteral("GiB")); // 8B parameters
        QVERIFY(!mem->setConfig(QStringLiteral("/nonexistent/config.json")));

        // The sample under the Plan tab's plan costs what the planner says.
        QSignalSpy done(win.w.sweepController(), &SweepController::finished);
        win.w.setCurrentTab(QStringLiteral("plan"));
        QVERIFY(done.wait(kTimeoutMs));
        mem->setCheckpoint(win.w.sweepController()->checkpoint());
        QCOMPARE(mem->context(), 8192); // chosen: it stands, and the notes say it is too long
        QTRY_VERIFY_WITH_TIMEOUT(mem->notesText().contains(QStringLiteral(
                                     "past the model's max_position_embeddings of 512")),
                                 kTimeoutMs);
        mem->setWeightsAs(MemoryTab::WeightsAs::Plan);
        const std::uint64_t want = win.w.planTab()->solution()->modelBytes;
        QTRY_VERIFY_WITH_TIMEOUT(
            mem->estimate() && mem->estimate()->weightsBytes == want && !mem->isBusy(), kTimeoutMs);
        QCOMPARE(mem->chart()->unitName(), QStringLiteral("MiB")); // the 260K-parameter sample
    }
};

QTEST_MAIN(TestModelTabs)
#include "test_model_tabs.moc"
