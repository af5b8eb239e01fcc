// The Plan tab minimises the output error once the Model tab has activations: the Minimise
// choice appears set to it, the plan equals solvePlan's under PlanObjective::OutputError, the
// chart and the table speak of the output, a saved plan says so and loads back under it; without
// activations the choice is hidden and the plan minimises the weights' error.

#include "charts/pareto_chart.h"
#include "main_window.h"
#include "models/plan_table_model.h"
#include "panels/methods_tab.h"
#include "panels/model_tab.h"
#include "panels/plan_tab.h"
#include "plan/plan_file.h"
#include "test_support.h"
#include "workers/sweep_controller.h"

#include <QComboBox>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QValueAxis>

#include <cmath>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 60000;

// The plan the core solves for the tab's measurements under `objective` at the tab's budget.
PlanSolution coreSolution(const PlanTab& tab, const PlanMeasurements& measured,
                          PlanObjective objective) {
    PlanMeasurements m = measured;
    m.objective = objective;
    PlanBudget b;
    b.bitsPerWeight = tab.budget() + 1e-9;
    return solvePlan(m, b).value();
}

} // namespace

class TestPlanObjectiveUi : public QObject {
    Q_OBJECT

private slots:
    void activationsMakeThePlanMinimiseTheOutputError() {
        MainWindow w(false);
        w.resize(1600, 1000);
        w.openCheckpoint(QString::fromStdString(test::samplePath()));
        QSignalSpy swept(w.sweepController(), &SweepController::finished);
        w.setCurrentTab(QStringLiteral("plan"));
        QVERIFY(swept.count() > 0 || swept.wait(kTimeoutMs));
        PlanTab* plan = w.planTab();
        auto* choice = plan->findChild<QComboBox*>(QStringLiteral("planObjective"));
        QVERIFY(choice);
        QVERIFY(!choice->isVisibleTo(plan));
        QCOMPARE(plan->objective(), PlanObjective::WeightError);
        QVERIFY(plan->tableView()->isColumnHidden(int(PlanColumn::OutErr)));
        QVERIFY(std::isnan(plan->solution()->outRelErr));
        plan->setBudget(4.0);
        const auto weightPlan = plan->solution()->plan.tensors;

        // Synthetic activations with outlier channels: swept again, the output error chosen.
        swept.clear();
        QVERIFY(w.modelTab()->setActivations(QStringLiteral("synthetic:256:4:20")));
        QVERIFY(swept.wait(kTimeoutMs));
        auto measured = w.sweepController()->cache();
        QVERIFY(measured && hasOutputError(*measured));
        QVERIFY(choice->isVisibleTo(plan));
        QCOMPARE(plan->objective(), PlanObjective::OutputError);
        QVERIFY(!plan->tableView()->isColumnHidden(int(PlanColumn::OutErr)));
        QCOMPARE(plan->budget(), 4.0);
        const PlanSolution expected = coreSolution(*plan, *measured, PlanObjective::OutputError);
        QCOMPARE(plan->solution()->plan.tensors, expected.plan.tensors);
        QVERIFY(plan->solution()->plan.tensors != weightPlan); // outliers change the choice
        QCOMPARE(plan->solution()->outRelErr, expected.outRelErr);
        QCOMPARE(plan->chart()->objective(), PlanObjective::OutputError);
        QCOMPARE(plan->chart()->chart()->axes(Qt::Vertical).value(0)->titleText(),
                 QStringLiteral("output SNR (dB)"));
        QVERIFY(plan->chart()->csvData().startsWith(
            QStringLiteral("kind,label,bits_per_weight,out_rel_err,")));
        QVERIFY2(plan->summaryText().contains(QStringLiteral("the plan's output error is")),
                 qPrintable(plan->summaryText()));
        // The table's output error is each tensor's option's.
        const PlanTableModel* table = plan->tableModel();
        for (int row = 0; row < table->rowCount(); ++row) {
            const QModelIndex cell = table->index(row, int(PlanColumn::OutErr));
            const auto& t = measured->tensors[size_t(row)];
            const size_t k = plan->solution()->choice[size_t(row)];
            QCOMPARE(cell.data(Qt::UserRole).toDouble(), t.options[k].outRelErr);
        }

        // Saved, it says what it minimised; the weight error chosen, the plan changes back.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("plan.json"));
        QVERIFY(plan->savePlanTo(path));
        auto saved = loadPlan(path.toStdString());
        QVERIFY(saved.ok());
        QCOMPARE(saved->objective, std::string(kOutputErrorObjective));
        QCOMPARE(saved->outRelErr, expected.outRelErr);
        const auto outputPlan = saved->tensors;
        plan->setObjective(PlanObjective::WeightError);
        QCOMPARE(plan->solution()->plan.tensors,
                 coreSolution(*plan, *measured, PlanObjective::WeightError).plan.tensors);
        QCOMPARE(plan->chart()->chart()->axes(Qt::Vertical).value(0)->titleText(),
                 QStringLiteral("SQNR over the quantized tensors (dB)"));
        // Loading the saved plan brings its objective back, and its plan with no hand edits.
        QVERIFY(plan->loadPlanFrom(path));
        QCOMPARE(plan->objective(), PlanObjective::OutputError);
        QCOMPARE(plan->solution()->plan.tensors, outputPlan);
        QCOMPARE(plan->loadedPlanNote(), QStringLiteral("Loaded plan.json."));

        // Without activations again: the choice hides and the weights' error is minimised.
        swept.clear();
        QVERIFY(w.modelTab()->setActivations(QString()));
        QVERIFY(swept.wait(kTimeoutMs));
        QVERIFY(!choice->isVisibleTo(plan));
        QCOMPARE(plan->objective(), PlanObjective::WeightError);
        QVERIFY(plan->loadPlanFrom(path));
        QVERIFY2(plan->loadedPlanNote().contains(QStringLiteral("minimised the output error")),
                 qPrintable(plan->loadedPlanNote()));
    }

    // Calibrated schemes sweep with activations and enter plans; a click on such a cell opens
    // the Methods tab on that layer with the same activations, bits and group size, and its
    // output error there is the cell's.
    void calibratedSchemesSweepAndOpenInTheMethodsTab() {
        MainWindow w(false);
        w.resize(1600, 1000);
        w.openCheckpoint(QString::fromStdString(test::samplePath()));
        w.modelTab()->setSchemesText(QStringLiteral("int4:g64, gptq4:g64"));
        QVERIFY(w.modelTab()->setActivations(QStringLiteral("synthetic:64:2:10:7")));
        QSignalSpy swept(w.sweepController(), &SweepController::finished);
        w.setCurrentTab(QStringLiteral("model"));
        QVERIFY(swept.count() > 0 || swept.wait(kTimeoutMs));
        auto measured = w.sweepController()->cache();
        QVERIFY(measured);
        const std::string name = "model.layers.0.self_attn.q_proj.weight";
        double cell = -1;
        for (const TensorMeasurement& t : measured->tensors)
            if (t.name == name)
                for (const PlanOption& o : t.options)
                    if (o.scheme.toString() == "gptq4:g64")
                        cell = o.outRelErr;
        QVERIFY(cell > 0);
        QVERIFY(w.planTab()->solution().has_value()); // the plan takes it as a candidate

        QSignalSpy ran(w.methodsTab(), &MethodsTab::finished);
        Q_EMIT w.modelTab()->openRequested(QString::fromStdString(name),
                                           QStringLiteral("gptq4:g64"));
        QCOMPARE(w.currentTabName(), QStringLiteral("methods"));
        if (ran.count() == 0 && !ran.wait(2000)) // run at once for small layers; else ask
            QVERIFY(w.methodsTab()->run());
        QVERIFY(ran.count() > 0 || ran.wait(kTimeoutMs));
        double there = -1;
        for (const MethodResult& r : w.methodsTab()->results())
            if (r.spec == QLatin1String("gptq4:g64"))
                there = r.outRelErr;
        QCOMPARE(there, cell);
    }
};

QTEST_MAIN(TestPlanObjectiveUi)
#include "test_plan_objective_ui.moc"
