// MainWindow's whole-model tabs: Model (sweep and sensitivity map), Plan (mixed-precision plans)
// and Memory (the memory planner), and how they talk to each other and to the rest of the window.
// Kept apart from main_window.cpp so that file stays about composing the window.

#include "main_window.h"
#include "methods/calibration.h"
#include "panels/compare_tab.h"
#include "panels/memory_tab.h"
#include "panels/methods_tab.h"
#include "panels/model_tab.h"
#include "panels/plan_tab.h"
#include "panels/scheme_panel.h"
#include "panels/tensor_browser_panel.h"
#include "quant/registry.h"
#include "workers/analysis_controller.h"
#include "workers/sweep_controller.h"

#include <QTabWidget>
#include <QTimer>

namespace qs {

namespace {
// Opening the Model or Plan tab sweeps a checkpoint of up to this many parameters at once;
// larger ones wait for the Sweep button.
constexpr std::int64_t kAutoSweepParameters = 2'000'000'000;
} // namespace

QStringList MainWindow::tabNames() {
    return {QStringLiteral("tensor"),         QStringLiteral("compare"),
            QStringLiteral("compare-error"),  QStringLiteral("methods"),
            QStringLiteral("methods-inside"), QStringLiteral("model"),
            QStringLiteral("plan"),           QStringLiteral("memory")};
}

void MainWindow::setupModelTabs() {
    m_sweeps = new SweepController(this);
    m_modelTab = new ModelTab(m_sweeps);
    m_planTab = new PlanTab;
    m_memoryTab = new MemoryTab;
    m_methodsTab = new MethodsTab;
    m_tabs->addTab(m_methodsTab, tr("Methods"));
    m_tabs->setTabToolTip(m_tabs->indexOf(m_methodsTab),
                          tr("RTN, HQQ, SINQ, GPTQ, AWQ, AutoRound side by side on this layer"));
    connect(m_methodsTab, &MethodsTab::finished, this, &MainWindow::emitIdleWhenAllDone);
    m_tabs->addTab(m_modelTab, tr("Model"));
    m_tabs->addTab(m_planTab, tr("Plan"));
    m_tabs->addTab(m_memoryTab, tr("Memory"));
    m_tabs->setTabToolTip(m_tabs->indexOf(m_modelTab),
                          tr("Every tensor under several schemes: which layers are sensitive"));
    m_tabs->setTabToolTip(m_tabs->indexOf(m_planTab),
                          tr("A scheme per tensor under a size budget"));
    m_tabs->setTabToolTip(
        m_tabs->indexOf(m_memoryTab),
        tr("What it takes to serve or fine-tune the model, and which GPUs hold it"));

    // A tab just chosen is laid out and painted for the first time in the events that follow:
    // the sweep starts after them, not beside them (16 worker threads starting to read the file
    // held up the Model tab's first layout for 28-50 ms on a 16-core machine).
    connect(m_tabs, &QTabWidget::currentChanged, this,
            [this] { QTimer::singleShot(0, this, &MainWindow::maybeStartSweep); });
    connect(m_tabs, &QTabWidget::currentChanged, this, &MainWindow::maybeRunMethods);
    connect(m_modelTab, &ModelTab::openRequested, this, &MainWindow::openFromMap);
    connect(m_sweeps, &SweepController::finished, m_planTab, &PlanTab::setMeasurements);
    connect(m_sweeps, &SweepController::idle, this, &MainWindow::emitIdleWhenAllDone);
    // A file of activations read (or refused) with nothing else to do: idle now.
    // The detail views run schemes that need activations (q4_k:imatrix) with the same ones.
    connect(m_modelTab, &ModelTab::activationsChanged, this, [this] {
        shareActivations();
        QTimer::singleShot(0, this, &MainWindow::emitIdleWhenAllDone);
    });
    connect(m_sweeps, &SweepController::failed, this, &MainWindow::showError);
    connect(m_planTab, &PlanTab::sweepRequested, this, [this] {
        setCurrentTab(QStringLiteral("model"));
        m_modelTab->runSweep();
    });
    // A loaded plan's schemes not measured yet: added to the sweep, measured from the Plan tab.
    connect(m_planTab, &PlanTab::schemesNeeded, this, [this](const QStringList& specs) {
        m_modelTab->addSchemes(specs);
        m_modelTab->runSweep();
    });
    connect(m_planTab, &PlanTab::planChanged, this, [this] {
        const auto& s = m_planTab->solution();
        m_memoryTab->setPlan(s ? std::optional<Plan>(s->plan) : std::nullopt);
    });
    connect(m_planTab, &PlanTab::planSaved, this, [this](const QString& path) {
        m_planPath = path;
        showNote(tr("Plan saved: %1").arg(path));
    });
    connect(m_memoryTab, &MemoryTab::updated, this, &MainWindow::emitIdleWhenAllDone);
    connect(m_planTab, &PlanTab::curveDrawn, this, &MainWindow::emitIdleWhenAllDone);
}

bool MainWindow::modelTabsBusy() const {
    return m_sweeps->isBusy() || m_planTab->isBusy() || m_memoryTab->isBusy() ||
           m_methodsTab->isBusy() || m_modelTab->readingActivations();
}

void MainWindow::shutdownModelTabs() {
    m_sweeps->shutdown();
    m_methodsTab->shutdown();
}

void MainWindow::maybeRunMethods() {
    // Small layers run as soon as the tab shows them; larger ones wait for Run (AutoRound's
    // 200 steps over a large layer take a while).
    constexpr std::int64_t kAutoRunElements = 1 << 20;
    const auto checkpoint = m_sweeps->checkpoint();
    const TensorInfo* t = checkpoint ? checkpoint->find(m_currentTensor.toStdString()) : nullptr;
    if (m_tabs->currentWidget() == m_methodsTab && t && t->shape.size() >= 2 &&
        t->numel() <= kAutoRunElements && m_methodsTab->ranTensor() != m_currentTensor)
        m_methodsTab->run();
}

void MainWindow::modelTabsCheckpointOpened(const std::shared_ptr<const Checkpoint>& checkpoint) {
    m_sweeps->setCheckpoint(checkpoint);
    m_modelTab->checkpointChanged();
    m_planTab->clear();
    m_memoryTab->setPanelScheme(m_scheme->scheme());
    m_memoryTab->setCheckpoint(checkpoint);
    m_methodsTab->setCheckpoint(checkpoint);
    maybeStartSweep();
}

void MainWindow::shareActivations() {
    if (!m_sweeps)
        return;
    const auto a = m_sweeps->activations();
    m_controller->setActivations(a);
    m_browser->setActivations(a);
    m_compareTab->setActivations(a);
}

void MainWindow::maybeStartSweep() {
    QWidget* tab = m_tabs->currentWidget();
    const auto checkpoint = m_sweeps->checkpoint();
    if ((tab != m_modelTab && tab != m_planTab) || !checkpoint || m_sweeps->cache() ||
        m_sweeps->isBusy() || checkpoint->totalParameters() > kAutoSweepParameters)
        return;
    m_modelTab->runSweep();
}

void MainWindow::openFromMap(const QString& tensor, const QString& spec) {
    const auto s = Scheme::parse(spec.toStdString());
    if (s && findFamily(s->family) && findFamily(s->family)->needsActivations()) {
        // A calibrated scheme (gptq, awq, ...) needs the activations the map used: the Methods
        // tab runs it on this layer with them, at its bits and group size.
        const ActivationFile a = m_modelTab->activationsChoice();
        if (a.path.startsWith(QLatin1String(kSyntheticCalibrationPrefix.data()))) {
            if (auto synthetic = parseSyntheticCalibration(a.path.toStdString()))
                m_methodsTab->setSynthetic(*synthetic);
        } else if (!a.path.isEmpty()) {
            m_methodsTab->loadActivations(a.path, a.tensor);
        }
        m_methodsTab->setBits(s->bits);
        m_methodsTab->setGroupSize(s->granularity == Granularity::Group ? s->groupSize : 0);
        m_methodsTab->setMethodChecked(QString::fromStdString(s->family), true);
        m_browser->selectTensor(tensor);
        setCurrentTab(QStringLiteral("methods"));
        return;
    }
    if (s)
        m_scheme->setScheme(*s);
    m_browser->selectTensor(tensor);
    setCurrentTab(QStringLiteral("tensor"));
}

} // namespace qs
