#include "panels/plan_tab.h"

#include "charts/pareto_chart.h"
#include "metrics/error_metrics.h"
#include "models/plan_table_model.h"
#include "number_format.h"
#include "plan/plan_edit.h"
#include "plan/plan_file.h"
#include "widgets/table_columns.h"
#include "workers/work_pool.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QSplitter>
#include <QStackedWidget>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>
#include <set>
#include <utility>

namespace qs {

namespace {

// A combo box of "auto" and the measured specs for the Scheme column.
class SchemeChoiceDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem&,
                          const QModelIndex& index) const override {
        auto* box = new QComboBox(parent);
        box->addItems(static_cast<const PlanTableModel*>(index.model())->editorChoices());
        return box;
    }
    void setEditorData(QWidget* editor, const QModelIndex& index) const override {
        auto* box = static_cast<QComboBox*>(editor);
        box->setCurrentText(index.data(Qt::EditRole).toString());
    }
    void setModelData(QWidget* editor, QAbstractItemModel* model,
                      const QModelIndex& index) const override {
        model->setData(index, static_cast<QComboBox*>(editor)->currentText());
    }
};

// The names' column may narrow to this: at 1280 x 800, with the output error's column shown,
// the Why column then fits and the sample's names stay whole.
constexpr int kNameColumnWidth = 140;

} // namespace

PlanTab::PlanTab(QWidget* parent)
    : QWidget(parent), m_pages(new QStackedWidget), m_candidates(new QListWidget),
      m_rules(new QPlainTextEdit), m_rulesError(new QLabel), m_slider(new QSlider(Qt::Horizontal)),
      m_budget(new QDoubleSpinBox), m_objectiveRow(new QWidget), m_objective(new QComboBox),
      m_summary(new QLabel), m_save(new QPushButton(tr("Save Plan…"))),
      m_load(new QPushButton(tr("Load Plan…"))), m_chart(new ParetoChart),
      m_table(new PlanTableModel(this)), m_tableView(new QTableView) {
    // Page 0: nothing measured yet.
    auto* empty = new QWidget;
    auto* emptyLayout = new QVBoxLayout(empty);
    auto* hint = new QLabel(tr("A plan chooses a scheme per tensor under a size budget from "
                               "measured candidates.\nSweep the model first (Model tab)."));
    hint->setAlignment(Qt::AlignCenter);
    hint->setWordWrap(true); // or the page asks for 723 pixels
    hint->setStyleSheet(QStringLiteral("color: #888; font-size: 13pt;"));
    auto* sweep = new QPushButton(tr("Sweep the Model tab's schemes"));
    sweep->setObjectName(QStringLiteral("planSweepButton"));
    connect(sweep, &QPushButton::clicked, this, &PlanTab::sweepRequested);
    emptyLayout->addStretch(1);
    emptyLayout->addWidget(hint);
    emptyLayout->addWidget(sweep, 0, Qt::AlignHCenter);
    emptyLayout->addStretch(1);

    // Page 1: controls | chart over table.
    m_slider->setToolTip(tr("Bits per weight over the quantized tensors, scales included"));
    m_budget->setDecimals(2);
    m_budget->setSingleStep(0.05);
    m_budget->setSuffix(tr(" bpw"));
    connect(m_slider, &QSlider::valueChanged, this,
            [this](int v) { setBudget(static_cast<double>(v) / kBudgetSteps); });
    connect(m_budget, &QDoubleSpinBox::valueChanged, this, &PlanTab::setBudget);
    auto* budgetRow = new QHBoxLayout;
    budgetRow->addWidget(m_slider, 1);
    budgetRow->addWidget(m_budget);
    m_objective->addItem(tr("weight error"), int(PlanObjective::WeightError));
    m_objective->addItem(tr("output error"), int(PlanObjective::OutputError));
    m_objective->setObjectName(QStringLiteral("planObjective"));
    m_objective->setToolTip(
        tr("What the plan minimises: the weights' squared error, or the squared output error "
           "||XW^T - XŴ^T||² with the Model tab's activations (the weight error for tensors "
           "with no activations of their width)"));
    connect(m_objective, &QComboBox::currentIndexChanged, this, &PlanTab::rebuild);
    auto* objectiveRow = new QHBoxLayout(m_objectiveRow);
    objectiveRow->setContentsMargins(0, 0, 0, 0);
    objectiveRow->addWidget(new QLabel(tr("Minimise")));
    objectiveRow->addWidget(m_objective, 1);
    m_objectiveRow->hide();

    m_candidates->setToolTip(tr("Schemes the plan may use (all measured by the sweep)"));
    m_candidates->setMaximumHeight(150);
    connect(m_candidates, &QListWidget::itemChanged, this, &PlanTab::rebuild);
    m_rules->setPlaceholderText(tr("keep rules, one per line, e.g.\n.*embed_tokens.*=q8_0\n"
                                   "lm_head.weight=q8_0"));
    m_rules->setToolTip(tr("REGEX=SPEC: tensors whose whole name matches keep SPEC (a measured "
                           "scheme); the first matching rule wins"));
    m_rules->setMaximumHeight(90);
    m_rulesTimer.setSingleShot(true);
    m_rulesTimer.setInterval(kRulesDelayMs);
    connect(m_rules, &QPlainTextEdit::textChanged, &m_rulesTimer, qOverload<>(&QTimer::start));
    connect(&m_rulesTimer, &QTimer::timeout, this, &PlanTab::rebuild);
    m_rulesError->setStyleSheet(QStringLiteral("color: #C0392B;"));
    m_rulesError->setWordWrap(true);
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setObjectName(QStringLiteral("planSummary"));
    m_save->setToolTip(tr("Save the plan as JSON (for export --plan, memory --plan and the "
                          "Export dialog)"));
    connect(m_save, &QPushButton::clicked, this, &PlanTab::chooseSaveFile);
    m_load->setToolTip(tr("Show a saved plan (its schemes are swept first where they are not "
                          "measured yet)"));
    connect(m_load, &QPushButton::clicked, this, &PlanTab::chooseLoadFile);

    auto* controls = new QWidget;
    auto* form = new QVBoxLayout(controls);
    form->addWidget(new QLabel(tr("<b>Budget</b>")));
    form->addLayout(budgetRow);
    form->addWidget(m_objectiveRow);
    form->addWidget(new QLabel(tr("<b>Candidates</b>")));
    form->addWidget(m_candidates);
    form->addWidget(new QLabel(tr("<b>Keep rules</b>")));
    form->addWidget(m_rules);
    form->addWidget(m_rulesError);
    form->addWidget(m_summary);
    form->addStretch(1);
    auto* files = new QHBoxLayout;
    files->addWidget(m_load);
    files->addWidget(m_save);
    form->addLayout(files);
    controls->setMinimumWidth(300);
    controls->setMaximumWidth(380);

    m_tableView->setModel(m_table);
    shortenNames(m_tableView, int(PlanColumn::Tensor));
    m_tableView->setItemDelegateForColumn(int(PlanColumn::Scheme),
                                          new SchemeChoiceDelegate(m_tableView));
    m_tableView->setEditTriggers(QAbstractItemView::DoubleClicked |
                                 QAbstractItemView::SelectedClicked);
    m_tableView->verticalHeader()->hide();
    m_tableView->setWordWrap(false);
    m_tableView->verticalHeader()->setDefaultSectionSize(22);
    m_tableView->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_tableView->horizontalHeader()->setStretchLastSection(true);
    connect(m_table, &PlanTableModel::schemeEdited, this, &PlanTab::setHandScheme);

    // The controls beside the chart, the table under both at the page's full width: under the
    // chart alone it kept 260 pixels at 1280 and showed only the names and shapes.
    auto* top = new QWidget;
    auto* topLayout = new QHBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(controls);
    topLayout->addWidget(m_chart, 1);
    auto* page = new QSplitter(Qt::Vertical);
    page->addWidget(top);
    page->addWidget(m_tableView);
    page->setStretchFactor(0, 3);
    page->setStretchFactor(1, 2);
    page->setChildrenCollapsible(false);

    m_pages->addWidget(empty);
    m_pages->addWidget(page);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_pages);
}

void PlanTab::clear() {
    ++m_curveGeneration; // a curve still being computed is for the old checkpoint
    m_curvePending = false;
    m_measured.reset();
    m_current = {};
    m_solution.reset();
    m_hand.clear();
    m_pendingPlan.reset();
    m_loadNote.clear();
    m_hadOutputError = false;
    m_chart->clear();
    m_table->clear();
    m_pages->setCurrentIndex(0);
    Q_EMIT planChanged();
}

void PlanTab::setMeasurements(std::shared_ptr<const PlanMeasurements> m) {
    m_measured = std::move(m);
    {
        const QSignalBlocker block(m_candidates);
        m_candidates->clear();
        for (const Scheme& s : m_measured->candidates) {
            auto* item = new QListWidgetItem(QString::fromStdString(s.toString()), m_candidates);
            item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
            item->setCheckState(Qt::Checked);
        }
    }
    // The output error is what activations were chosen for: offered, and first, once it exists.
    const bool output = hasOutputError(*m_measured);
    m_objectiveRow->setVisible(output);
    m_tableView->setColumnHidden(int(PlanColumn::OutErr), !output);
    if (output && !m_hadOutputError) {
        const QSignalBlocker block(m_objective);
        m_objective->setCurrentIndex(m_objective->findData(int(PlanObjective::OutputError)));
    }
    m_hadOutputError = output;
    m_pages->setCurrentIndex(1);
    rebuild();
    applyPendingPlan();
}

std::vector<Scheme> PlanTab::checkedCandidates() const {
    std::vector<Scheme> out;
    for (int i = 0; i < m_candidates->count(); ++i)
        if (m_candidates->item(i)->checkState() == Qt::Checked)
            out.push_back(m_measured->candidates.at(static_cast<size_t>(i)));
    return out;
}

void PlanTab::rebuild() {
    m_rulesTimer.stop();
    if (!m_applyingPlan)
        m_loadNote.clear(); // the loaded plan, edited: this plan is no longer the file's
    if (!m_measured)
        return;
    const auto candidates = checkedCandidates();
    if (candidates.empty()) {
        m_rulesError->setText(tr("Tick at least one candidate"));
        return;
    }
    PlanMeasurements base = selectCandidates(*m_measured, candidates);
    base.objective = objective();
    m_chart->setObjective(base.objective);
    std::vector<PlanKeepRule> rules;
    for (const auto& [tensor, spec] : m_hand)
        rules.push_back(exactNameRule(tensor, spec));
    QStringList problems;
    const QStringList lines = m_rules->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (const QString& raw : lines) {
        const QString line = raw.trimmed();
        const int eq = line.lastIndexOf(QLatin1Char('='));
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')))
            continue;
        if (eq <= 0) {
            problems << tr("'%1' is not REGEX=SPEC").arg(line);
            continue;
        }
        rules.push_back(
            {line.left(eq).trimmed().toStdString(), line.mid(eq + 1).trimmed().toStdString()});
    }
    auto pinned = pinTensors(base, rules);
    if (!pinned) {
        problems << QString::fromStdString(pinned.message());
        m_current = std::move(base);
    } else {
        m_current = std::move(pinned).value();
    }
    m_rulesError->setText(problems.join(QLatin1Char('\n')));
    m_rulesError->setVisible(!problems.isEmpty());

    const auto [lo, hi] = planBitsRange(m_current);
    const double n = static_cast<double>(std::max<std::uint64_t>(1, m_current.elements));
    m_minBpw = static_cast<double>(lo) / n;
    m_maxBpw = static_cast<double>(hi) / n;
    m_uniform = uniformPoints(m_current);
    requestCurve();
    m_resizeColumns = true; // once the table has rows again
    const double wanted = budget() > 0 ? budget() : 4.5;
    {
        const QSignalBlocker b1(m_slider), b2(m_budget);
        m_slider->setRange(static_cast<int>(std::ceil(m_minBpw * kBudgetSteps)),
                           static_cast<int>(std::floor(m_maxBpw * kBudgetSteps)));
        m_budget->setRange(std::ceil(m_minBpw * kBudgetSteps) / kBudgetSteps,
                           std::floor(m_maxBpw * kBudgetSteps) / kBudgetSteps);
        m_budget->setValue(wanted);
        m_slider->setValue(static_cast<int>(std::lround(m_budget->value() * kBudgetSteps)));
    }
    resolve();
}

void PlanTab::requestCurve() {
    // The curve solves the plan at 36 budgets (8 ms for a 1B model's 113 tensors x 4 schemes):
    // on the work pool, so the GUI thread is not held that long; a newer request or clear()
    // makes an older result stale.
    const quint64 generation = ++m_curveGeneration;
    m_curvePending = true;
    auto* watcher = new QFutureWatcher<std::vector<ParetoPoint>>(this);
    watcher->setObjectName(QStringLiteral("paretoCurveWatcher")); // named in event logs
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != m_curveGeneration)
            return;
        m_chart->setCurve(watcher->result(), m_uniform);
        m_curvePending = false;
        Q_EMIT curveDrawn();
    });
    watcher->setFuture(
        QtConcurrent::run(workPool(), [m = m_current] { return paretoCurve(m, kCurvePoints); }));
}

void PlanTab::setBudget(double bitsPerWeight) {
    if (!m_applyingPlan)
        m_loadNote.clear();
    {
        const QSignalBlocker b1(m_slider), b2(m_budget);
        m_budget->setValue(bitsPerWeight);
        m_slider->setValue(static_cast<int>(std::lround(bitsPerWeight * kBudgetSteps)));
    }
    resolve();
}

void PlanTab::setObjective(PlanObjective objective) {
    m_objective->setCurrentIndex(m_objective->findData(int(objective))); // rebuilds
}

PlanObjective PlanTab::objective() const {
    if (!m_measured || !hasOutputError(*m_measured))
        return PlanObjective::WeightError;
    return static_cast<PlanObjective>(m_objective->currentData().toInt());
}

double PlanTab::budget() const {
    return m_measured ? m_budget->value() : 0;
}

void PlanTab::resolve() {
    if (!m_measured || m_current.tensors.empty())
        return;
    PlanBudget b;
    b.bitsPerWeight = m_budget->value() + 1e-9;
    auto sol = solvePlan(m_current, b);
    if (!sol) {
        m_solution.reset();
        m_table->clear();
        m_chart->setCurrent(m_budget->value(), nullptr);
        m_summary->setText(QStringLiteral("<span style='color:#C0392B'>%1</span>")
                               .arg(QString::fromStdString(sol.message()).toHtmlEscaped()));
        Q_EMIT planChanged();
        return;
    }
    m_solution = std::move(sol).value();
    m_solution->plan.budgetBpw = m_budget->value();
    std::set<std::string> hand;
    for (const auto& [t, s] : m_hand)
        hand.insert(t);
    QStringList specs;
    for (const Scheme& s : checkedCandidates())
        specs << QString::fromStdString(s.toString());
    m_table->setPlan(m_current, *m_solution, hand, specs);
    if (std::exchange(m_resizeColumns, false)) // in an event of its own, as the Model tab's
        QTimer::singleShot(0, m_tableView, [view = m_tableView] {
            fitColumnsToView(view, int(PlanColumn::Tensor), kNameColumnWidth);
        });
    ParetoPoint p;
    p.bitsPerWeight = m_solution->bitsPerWeight;
    if (m_current.objective == PlanObjective::OutputError) {
        p.relRmse = m_solution->outRelErr;
        p.sqnrDb = -20 * std::log10(m_solution->outRelErr);
    } else {
        p.relRmse = m_solution->relRmse;
        p.sqnrDb = sqnrDbFromSums(m_current.sumSqRef, m_solution->sqErr);
    }
    m_chart->setCurrent(m_budget->value(), &p);
    updateSummary();
    Q_EMIT planChanged();
}

void PlanTab::updateSummary() {
    const PlanSolution& s = *m_solution;
    std::set<std::string> used;
    for (const auto& [t, spec] : s.plan.tensors)
        used.insert(spec);
    QString text =
        tr("<b>This plan</b>: %1 bpw · %2 (1-D tensors as stored included) · SQNR %3 · "
           "relative RMSE %4 · %n scheme(s)",
           nullptr, static_cast<int>(used.size()))
            .arg(s.bitsPerWeight, 0, 'f', 3)
            .arg(formatBytes(s.modelBytes), formatDb(sqnrDbFromSums(m_current.sumSqRef, s.sqErr)),
                 formatPercent(s.relRmse));
    if (std::isfinite(s.outRelErr))
        text += tr(" · output error %1").arg(formatPercent(s.outRelErr));
    // The uniform points are measured as the objective measures (ParetoPoint::relRmse).
    const bool output = m_current.objective == PlanObjective::OutputError;
    const double planErr = output ? s.outRelErr : s.relRmse;
    const ParetoPoint* best = nullptr;
    for (const auto& u : m_uniform)
        if (u.bitsPerWeight <= m_budget->value() + 1e-9 && (!best || u.relRmse < best->relRmse))
            best = &u;
    if (best && best->relRmse > 0)
        text += (output ? tr("<br>Best single scheme within the budget: <b>%1</b> (%2 bpw, "
                             "output error %3); the plan's output error is %4 lower.")
                        : tr("<br>Best single scheme within the budget: <b>%1</b> (%2 bpw, "
                             "relative RMSE %3); the plan's error is %4 lower."))
                    .arg(QString::fromStdString(uniformPointName(*best)))
                    .arg(best->bitsPerWeight, 0, 'f', 3)
                    .arg(formatPercent(best->relRmse), formatPercent(1 - planErr / best->relRmse));
    else
        text += tr("<br>No single candidate fits this budget.");
    if (!m_loadNote.isEmpty())
        text += QStringLiteral("<br><i>%1</i>").arg(m_loadNote.toHtmlEscaped());
    m_summary->setText(text);
}

QString PlanTab::summaryText() const {
    return m_summary->text();
}

QString PlanTab::rulesError() const {
    return m_rulesError->text();
}

void PlanTab::setCandidateEnabled(const QString& spec, bool enabled) {
    for (int i = 0; i < m_candidates->count(); ++i)
        if (m_candidates->item(i)->text() == spec)
            m_candidates->item(i)->setCheckState(enabled ? Qt::Checked : Qt::Unchecked);
}

void PlanTab::setRulesText(const QString& text) {
    m_rules->setPlainText(text);
    rebuild();
}

void PlanTab::setHandScheme(const QString& tensor, const QString& spec) {
    if (spec.isEmpty())
        m_hand.erase(tensor.toStdString());
    else
        m_hand[tensor.toStdString()] = spec.toStdString();
    rebuild();
}

bool PlanTab::savePlanTo(const QString& path) {
    if (!m_solution)
        return false;
    if (auto ok = savePlan(path.toStdString(), m_solution->plan); !ok) {
        m_summary->setText(QStringLiteral("<span style='color:#C0392B'>%1</span>")
                               .arg(QString::fromStdString(ok.message()).toHtmlEscaped()));
        return false;
    }
    Q_EMIT planSaved(path);
    return true;
}

void PlanTab::chooseSaveFile() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save plan"), tr("plan.json"), tr("Plans (*.json)"));
    if (!path.isEmpty())
        savePlanTo(path);
}

} // namespace qs
