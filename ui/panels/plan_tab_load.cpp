// PlanTab: showing a saved plan again (plan_tab.h).

#include "panels/plan_tab.h"

#include "plan/plan_edit.h"
#include "plan/plan_file.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QSignalBlocker>

#include <map>
#include <set>

namespace qs {

namespace {

// The schemes a plan needs measured: its candidates (their fallbacks come with them) and its
// keep rules' specs; for a plan without candidates, the schemes its tensors use.
QStringList schemesOf(const Plan& plan) {
    std::vector<std::string> specs = plan.candidates;
    if (specs.empty())
        for (const auto& [name, spec] : plan.tensors)
            specs.push_back(spec);
    for (const PlanKeepRule& k : plan.keep)
        specs.push_back(k.spec);
    QStringList out;
    for (const std::string& s : specs) {
        const auto parsed = Scheme::parse(s); // loadPlan checked every spec
        const QString spec = QString::fromStdString(parsed ? parsed->toString() : s);
        if (!out.contains(spec))
            out << spec;
    }
    return out;
}

// What a hand edit names to get `spec` on tensor `t`: the candidate whose fallback it is where
// it stands in for one (q5_0 for q4_k on rows 256 does not divide), else `spec` itself.
std::string candidateFor(const TensorMeasurement& t, const std::string& spec) {
    for (const PlanOption& o : t.options)
        if (o.scheme.toString() == spec)
            return o.fallbackFor.empty() ? spec : o.fallbackFor;
    return spec;
}

} // namespace

void PlanTab::chooseLoadFile() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Load plan"), QString(),
                                                      tr("Plans (*.json);;All files (*)"));
    if (!path.isEmpty())
        loadPlanFrom(path);
}

bool PlanTab::loadPlanFrom(const QString& path) {
    auto plan = loadPlan(path.toStdString());
    if (!plan) {
        m_summary->setText(QStringLiteral("<span style='color:#C0392B'>%1</span>")
                               .arg(QString::fromStdString(plan.message()).toHtmlEscaped()));
        return false;
    }
    m_pendingPlan = std::move(plan).value();
    m_pendingPath = path;
    QStringList missing;
    for (const QString& spec : schemesOf(*m_pendingPlan)) {
        const bool measured =
            m_measured &&
            std::any_of(m_measured->candidates.begin(), m_measured->candidates.end(),
                        [&](const Scheme& s) { return s.toString() == spec.toStdString(); });
        if (!measured)
            missing << spec;
    }
    if (!missing.isEmpty()) {
        m_loadNote = tr("Loading %1: measuring %2 first…")
                         .arg(QFileInfo(path).fileName(), missing.join(QStringLiteral(", ")));
        m_summary->setText(m_loadNote);
        Q_EMIT schemesNeeded(missing);
        return true;
    }
    return applyPendingPlan();
}

bool PlanTab::applyPendingPlan() {
    if (!m_pendingPlan || !m_measured)
        return false;
    const QStringList needed = schemesOf(*m_pendingPlan);
    std::set<std::string> measured;
    for (const Scheme& s : m_measured->candidates)
        measured.insert(s.toString());
    for (const QString& spec : needed)
        if (!measured.count(spec.toStdString()))
            return false; // another sweep is on its way
    const Plan plan = *std::exchange(m_pendingPlan, std::nullopt);
    const QString file = QFileInfo(m_pendingPath).fileName();
    std::map<std::string, const TensorMeasurement*> byName;
    for (const TensorMeasurement& t : m_measured->tensors)
        byName.emplace(t.name, &t);
    int foreign = 0;
    for (const auto& [name, spec] : plan.tensors)
        foreign += byName.count(name) ? 0 : 1;
    if (foreign > 0) {
        m_loadNote.clear();
        m_summary->setText(QStringLiteral("<span style='color:#C0392B'>%1</span>")
                               .arg(tr("%1 is a plan for another checkpoint: %2 of its %3 "
                                       "tensors are not in this one")
                                        .arg(file)
                                        .arg(foreign)
                                        .arg(plan.tensors.size())
                                        .toHtmlEscaped()));
        return false;
    }
    {
        const QSignalBlocker block(m_candidates);
        for (int i = 0; i < m_candidates->count(); ++i)
            m_candidates->item(i)->setCheckState(
                needed.contains(m_candidates->item(i)->text()) ? Qt::Checked : Qt::Unchecked);
    }
    // Keep rules: one tensor's exact name is a hand edit (as the table made it), others go in the
    // rules box.
    m_hand.clear();
    std::map<std::string, std::string> exactNames; // a tensor's exact-name pattern -> its name
    for (const TensorMeasurement& t : m_measured->tensors)
        exactNames.emplace(exactNameRule(t.name, std::string()).pattern, t.name);
    QStringList lines;
    for (const PlanKeepRule& k : plan.keep) {
        if (const auto it = exactNames.find(k.pattern); it != exactNames.end())
            m_hand[it->second] = k.spec;
        else
            lines << QString::fromStdString(k.pattern + "=" + k.spec);
    }
    {
        const QSignalBlocker block(m_rules);
        m_rules->setPlainText(lines.join(QLatin1Char('\n')));
    }
    m_loadNote.clear();
    m_applyingPlan = true;
    {
        const QSignalBlocker block(m_objective); // rebuilt just below
        setObjective(plan.objective == kOutputErrorObjective ? PlanObjective::OutputError
                                                             : PlanObjective::WeightError);
    }
    rebuild();
    setBudget(plan.budgetBpw > 0 ? plan.budgetBpw : plan.bitsPerWeight);
    // Where the solver here chooses otherwise (other measurements, a plan edited elsewhere), the
    // plan's own choice, by hand. Pinning those may move others (the budget): then every tensor
    // is pinned, so that what shows is the file's plan; pins that cost more than the budget make
    // the budget their size.
    auto pinWhere = [&](bool all) {
        std::map<std::string, std::string> now;
        if (m_solution)
            now.insert(m_solution->plan.tensors.begin(), m_solution->plan.tensors.end());
        int n = 0;
        for (const auto& [name, spec] : plan.tensors)
            if (all || now[name] != spec) {
                m_hand[name] = candidateFor(*byName.at(name), spec);
                ++n;
            }
        if (n > 0) {
            rebuild();
            if (!m_solution)
                setBudget(m_maxBpw);
        }
        return n;
    };
    // (In any order: a plan written by hand need not list its tensors as the checkpoint does.)
    const std::map<std::string, std::string> wanted(plan.tensors.begin(), plan.tensors.end());
    auto matches = [&] {
        return m_solution &&
               std::map<std::string, std::string>(m_solution->plan.tensors.begin(),
                                                  m_solution->plan.tensors.end()) == wanted;
    };
    int pinned = pinWhere(false);
    if (pinned > 0 && !matches())
        pinned = pinWhere(true);
    m_loadNote = pinned ? tr("Loaded %1; %n tensor(s) set by hand to its choice, where the solver "
                             "here chose otherwise.",
                             nullptr, pinned)
                              .arg(file)
                        : tr("Loaded %1.").arg(file);
    if (plan.objective == kOutputErrorObjective && objective() != PlanObjective::OutputError)
        m_loadNote += QLatin1Char(' ') +
                      tr("It minimised the output error: choose Activations in the Model tab to "
                         "measure it here.");
    if (m_solution)
        updateSummary();
    m_applyingPlan = false;
    return true;
}

QString PlanTab::loadedPlanNote() const {
    return m_loadNote;
}

} // namespace qs
