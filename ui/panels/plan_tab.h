#pragma once
// The "Plan" tab: mixed-precision plans over the schemes the Model tab swept. The Pareto chart
// shows the error of the best plan at every size and of each uniform candidate; the budget slider
// (bits per weight) re-solves the plan live, minimising the weights' error or, once the Model tab
// swept with activations, the output's (Minimise), without touching the weights again; candidates
// can be left out, keep rules (REGEX=SPEC, one per line) pin tensors, and the table lets the user
// set any tensor's scheme by hand. Plans save as JSON for `export --plan` and the memory planner,
// and load back.
// GUI thread only; a solve takes a fraction of a millisecond, so it runs inline; the Pareto
// curve (dozens of solves) is computed on the work pool.

#include "plan/planner.h"

#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <map>
#include <memory>
#include <optional>
#include <vector>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSlider;
class QStackedWidget;
class QTableView;

namespace qs {

class ParetoChart;
class PlanTableModel;

class PlanTab : public QWidget {
    Q_OBJECT
public:
    static constexpr int kBudgetSteps = 100; // slider steps per bit
    static constexpr int kRulesDelayMs = 400;
    static constexpr int kCurvePoints = 32; // budgets spread evenly, plus each candidate's size

    explicit PlanTab(QWidget* parent = nullptr);

    void clear();
    void setMeasurements(std::shared_ptr<const PlanMeasurements> m);
    void setBudget(double bitsPerWeight);
    double budget() const;
    // What the solver minimises; OutputError applies only while the measurements have output
    // errors (the Minimise choice shows then, and starts at the output error).
    void setObjective(PlanObjective objective);
    PlanObjective objective() const;
    void setCandidateEnabled(const QString& spec, bool enabled);
    void setRulesText(const QString& text);                         // applied at once
    void setHandScheme(const QString& tensor, const QString& spec); // empty spec: auto
    bool savePlanTo(const QString& path);
    // Shows a saved plan: its candidates ticked, its keep rules and hand edits, its budget, and
    // any tensor the solver would now choose otherwise pinned to the plan's scheme, so the table
    // is the file's plan. Schemes not measured yet are asked for (schemesNeeded) and the plan
    // applies when they arrive. False, with the reason in the summary, for a file that does not
    // parse or a plan for tensors this checkpoint does not have.
    bool loadPlanFrom(const QString& path);
    QString loadedPlanNote() const; // what the last load did, for the summary and tests

    const std::optional<PlanSolution>& solution() const { return m_solution; }
    QString summaryText() const;
    QString rulesError() const;
    ParetoChart* chart() const { return m_chart; }
    PlanTableModel* tableModel() const { return m_table; }
    QTableView* tableView() const { return m_tableView; }
    bool isBusy() const { return m_curvePending; } // the Pareto curve is being computed
    QSlider* budgetSlider() const { return m_slider; }

Q_SIGNALS:
    void sweepRequested();
    void planChanged(); // solution() holds the new plan (or nothing)
    void planSaved(const QString& path);
    void schemesNeeded(const QStringList& specs); // a loaded plan's, not measured yet
    void curveDrawn(); // the chart shows the curve of the current measurements and rules

private:
    void rebuild();
    void requestCurve(); // the Pareto curve of m_current, computed on the work pool
    void resolve();
    void updateSummary();
    void chooseSaveFile();
    void chooseLoadFile();
    // Once the measurements hold every scheme it uses: true when the plan is shown.
    bool applyPendingPlan();
    std::vector<Scheme> checkedCandidates() const;

    std::shared_ptr<const PlanMeasurements> m_measured;
    PlanMeasurements m_current; // candidates selected, rules applied
    std::vector<ParetoPoint> m_uniform;
    std::optional<PlanSolution> m_solution;
    std::map<std::string, std::string> m_hand; // tensor -> spec
    double m_minBpw = 0, m_maxBpw = 0;
    quint64 m_curveGeneration = 0; // the curve request whose result is drawn
    bool m_curvePending = false;
    bool m_resizeColumns = false;      // fit the table's columns after the next solve
    std::optional<Plan> m_pendingPlan; // loaded, waiting for its schemes to be measured
    QString m_pendingPath, m_loadNote;
    bool m_applyingPlan = false; // applyPendingPlan() is solving: keep m_loadNote

    QStackedWidget* m_pages;
    QListWidget* m_candidates;
    QPlainTextEdit* m_rules;
    QLabel* m_rulesError;
    QSlider* m_slider;
    QDoubleSpinBox* m_budget;
    QWidget* m_objectiveRow;
    QComboBox* m_objective;
    bool m_hadOutputError = false; // the last measurements had output errors
    QLabel* m_summary;
    QPushButton* m_save;
    QPushButton* m_load;
    ParetoChart* m_chart;
    PlanTableModel* m_table;
    QTableView* m_tableView;
    QTimer m_rulesTimer;
};

} // namespace qs
