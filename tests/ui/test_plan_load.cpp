// A saved plan loads back into the Plan tab: the same tensors under the same schemes, its rules
// and hand edits where they were; schemes not measured yet are swept first; a plan for another
// checkpoint or a file that is no plan is refused with the reason.

#include "main_window.h"
#include "models/plan_table_model.h"
#include "panels/model_tab.h"
#include "panels/plan_tab.h"
#include "plan/plan_file.h"
#include "test_support.h"
#include "workers/sweep_controller.h"

#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 60000;

struct Window {
    Window() : w(false) {
        w.resize(1600, 1000);
        w.openCheckpoint(QString::fromStdString(test::samplePath()));
    }
    PlanTab* planned() { // the Plan tab, swept
        QSignalSpy done(w.sweepController(), &SweepController::finished);
        w.setCurrentTab(QStringLiteral("plan"));
        return done.count() > 0 || done.wait(kTimeoutMs) ? w.planTab() : nullptr;
    }
    MainWindow w;
};

using Tensors = std::vector<std::pair<std::string, std::string>>;

} // namespace

class TestPlanLoad : public QObject {
    Q_OBJECT

private slots:
    void aSavedPlanComesBackAsItWas() {
        Window win;
        PlanTab* plan = win.planned();
        QVERIFY(plan);
        const QString hand = QStringLiteral("model.layers.3.self_attn.v_proj.weight");
        plan->setBudget(4.2);
        plan->setRulesText(QStringLiteral(".*embed_tokens.*=q8_0"));
        plan->setHandScheme(hand, QStringLiteral("q8_0"));
        plan->setCandidateEnabled(QStringLiteral("int3:g64"), false);
        const Tensors saved = plan->solution()->plan.tensors;
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("plan.json"));
        QVERIFY(plan->savePlanTo(path));

        // Everything changed, then the file loaded: the same plan, rules and edits back.
        plan->setBudget(6.0);
        plan->setRulesText(QString());
        plan->setHandScheme(hand, QString());
        plan->setCandidateEnabled(QStringLiteral("int3:g64"), true);
        QVERIFY(plan->solution()->plan.tensors != saved);
        QVERIFY(plan->loadPlanFrom(path));
        QCOMPARE(plan->solution()->plan.tensors, saved);
        QCOMPARE(plan->budget(), loadPlan(path.toStdString())->budgetBpw);
        QCOMPARE(plan->findChild<QPlainTextEdit*>()->toPlainText(),
                 QStringLiteral(".*embed_tokens.*=q8_0"));
        QCOMPARE(*plan->solution()->plan.specFor(hand.toStdString()), std::string("q8_0"));
        QVERIFY2(plan->loadedPlanNote().startsWith(QStringLiteral("Loaded plan.json.")),
                 qPrintable(plan->loadedPlanNote()));
        QVERIFY(plan->summaryText().contains(QStringLiteral("Loaded plan.json")));
        // The same plan with its tensors listed in another order: the same, nothing by hand.
        auto reversed = loadPlan(path.toStdString());
        QVERIFY(reversed.ok());
        std::reverse(reversed->tensors.begin(), reversed->tensors.end());
        const QString backwards = dir.filePath(QStringLiteral("backwards.json"));
        QVERIFY(savePlan(backwards.toStdString(), *reversed).ok());
        QVERIFY(plan->loadPlanFrom(backwards));
        QCOMPARE(plan->solution()->plan.tensors, saved);
        QVERIFY2(plan->loadedPlanNote().startsWith(QStringLiteral("Loaded backwards.json.")),
                 qPrintable(plan->loadedPlanNote()));
        // Editing it: no longer the file's plan, and the summary stops saying so.
        plan->setBudget(4.5);
        QVERIFY(plan->loadedPlanNote().isEmpty());
        QVERIFY(!plan->summaryText().contains(QStringLiteral("Loaded")));

        // A choice the solver here would not make (a plan edited elsewhere): set by hand, and
        // the rest with it where pinning it moves them (nf4:g64 costs more than int4:g128).
        auto edited = loadPlan(path.toStdString());
        QVERIFY(edited.ok());
        const std::string up = "model.layers.0.mlp.up_proj.weight";
        for (auto& [name, spec] : edited->tensors)
            if (name == up)
                spec = spec == "nf4:g64" ? "int4:g128" : "nf4:g64";
        const QString other = dir.filePath(QStringLiteral("other.json"));
        QVERIFY(savePlan(other.toStdString(), *edited).ok());
        QVERIFY(plan->loadPlanFrom(other));
        for (size_t i = 0; i < edited->tensors.size(); ++i)
            QVERIFY2(plan->solution()->plan.tensors[i] == edited->tensors[i],
                     (edited->tensors[i].first + ": " + plan->solution()->plan.tensors[i].second +
                      " for " + edited->tensors[i].second + "; " + plan->rulesError().toStdString())
                         .c_str());
        QVERIFY2(plan->loadedPlanNote().contains(QStringLiteral("set by hand")),
                 qPrintable(plan->loadedPlanNote()));
    }

    void schemesNotMeasuredAreSweptFirst() {
        Window win;
        PlanTab* plan = win.planned();
        QVERIFY(plan);
        // A plan whose candidates include int5:g64, which the sweep did not measure.
        Plan p = plan->solution()->plan;
        p.candidates.push_back("int5:g64");
        for (auto& [name, spec] : p.tensors)
            if (name == "model.layers.1.self_attn.q_proj.weight")
                spec = "int5:g64";
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("int5.json"));
        QVERIFY(savePlan(path.toStdString(), p).ok());
        QSignalSpy needed(plan, &PlanTab::schemesNeeded);
        QSignalSpy done(win.w.sweepController(), &SweepController::finished);
        QVERIFY(plan->loadPlanFrom(path));
        QCOMPARE(needed.count(), 1);
        QCOMPARE(needed.at(0).at(0).toStringList(), QStringList{QStringLiteral("int5:g64")});
        QVERIFY(plan->summaryText().contains(QStringLiteral("measuring int5:g64")));
        QVERIFY(win.w.modelTab()->schemes()->size() == 6); // added to the Model tab's list
        QVERIFY(done.wait(kTimeoutMs));
        QTRY_VERIFY_WITH_TIMEOUT(plan->loadedPlanNote().startsWith(QStringLiteral("Loaded")),
                                 kTimeoutMs);
        for (size_t i = 0; i < p.tensors.size(); ++i)
            QVERIFY2(plan->solution()->plan.tensors[i] == p.tensors[i],
                     (p.tensors[i].first + ": " + plan->solution()->plan.tensors[i].second +
                      " for " + p.tensors[i].second + "; " + plan->rulesError().toStdString())
                         .c_str());
        QCOMPARE(plan->budget(), 4.5);
    }

    void plansThatDoNotFitAreRefused() {
        Window win;
        PlanTab* plan = win.planned();
        QVERIFY(plan);
        const Tensors before = plan->solution()->plan.tensors;
        QTemporaryDir dir;
        Plan p = plan->solution()->plan;
        p.tensors.push_back({"model.layers.99.mlp.up_proj.weight", "q8_0"});
        const QString foreign = dir.filePath(QStringLiteral("foreign.json"));
        QVERIFY(savePlan(foreign.toStdString(), p).ok());
        QVERIFY(!plan->loadPlanFrom(foreign));
        QVERIFY2(plan->summaryText().contains(QStringLiteral("1 of its 37 tensors")),
                 qPrintable(plan->summaryText()));
        QCOMPARE(plan->solution()->plan.tensors, before); // nothing changed
        const QString junk = dir.filePath(QStringLiteral("junk.json"));
        test::writeBytes(junk.toStdString(), {'{', 'x'});
        QVERIFY(!plan->loadPlanFrom(junk));
        QVERIFY(!plan->summaryText().isEmpty());
        QCOMPARE(plan->solution()->plan.tensors, before);
    }
};

QTEST_MAIN(TestPlanLoad)
#include "test_plan_load.moc"
