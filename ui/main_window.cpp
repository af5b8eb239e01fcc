#include "main_window.h"

#include "charts/weight_histogram_chart.h"
#include "learn/learn_menu.h"
#include "learn/lesson_plots.h"
#include "learn/lesson_view.h"
#include "models/tensor_tree_model.h"
#include "number_format.h"
#include "panels/compare_tab.h"
#include "panels/memory_tab.h"
#include "panels/metadata_pane.h"
#include "panels/methods_tab.h"
#include "panels/metrics_panel.h"
#include "panels/scheme_panel.h"
#include "panels/tensor_browser_panel.h"
#include "panels/tensor_tab.h"
#include "plan/scheme_cost.h"
#include "recent_files.h"
#include "widgets/activity_indicator.h"
#include "widgets/backend_selector.h"
#include "workers/analysis_controller.h"
#include "workers/sweep_controller.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>

namespace qs {
namespace {

constexpr int kLeftDockWidth = 460;
constexpr int kRightDockWidth = 300;
constexpr int kSchemeDockHeight = 420;
constexpr int kMetricsDockHeight = 480;
constexpr int kMessageWidth = 520;

// The pages of a stack other than the one shown are left out of its size (a stack is otherwise
// as large as the largest of its pages).
void sizeByCurrentPage(QStackedWidget* stack) {
    for (int i = 0; i < stack->count(); ++i) {
        const auto policy = stack->widget(i) == stack->currentWidget() ? QSizePolicy::Preferred
                                                                       : QSizePolicy::Ignored;
        stack->widget(i)->setSizePolicy(policy, policy);
    }
    stack->updateGeometry();
}

QString firstLine(const QString& s) {
    return s.section(QLatin1Char('\n'), 0, 0);
}

} // namespace

MainWindow::MainWindow(bool persistSettings, QWidget* parent)
    : QMainWindow(parent), m_persist(persistSettings), m_controller(new AnalysisController(this)),
      m_browser(new TensorBrowserPanel), m_scheme(new SchemePanel), m_metrics(new MetricsPanel),
      m_tensorTab(new TensorTab), m_compareTab(new CompareTab), m_centre(new QStackedWidget(this)) {
    setWindowTitle(tr("Quantscope"));
    setAcceptDrops(true);
    setDockOptions(AnimatedDocks | AllowTabbedDocks);

    auto* empty = new QLabel(
        tr("Open a checkpoint (File → Open, File → Open Folder, or drop a file or folder)"),
        m_centre);
    empty->setObjectName(QStringLiteral("emptyState"));
    empty->setAlignment(Qt::AlignCenter);
    empty->setStyleSheet(QStringLiteral("color: #888; font-size: 15pt;"));
    m_tabs = new QTabWidget(m_centre);
    m_tabs->setObjectName(QStringLiteral("centreTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_tensorTab, tr("Tensor"));
    m_tabs->addTab(m_compareTab, tr("Compare"));
    connect(m_tabs, &QTabWidget::currentChanged, this,
            [this] { m_compareTab->setActive(m_tabs->currentWidget() == m_compareTab); });
    setupModelTabs();
    m_centre->addWidget(empty);
    m_centre->addWidget(m_tabs);
    setupLearnMode();
    // Only the page shown counts towards a stack's size: the largest page (the lesson view, the
    // Methods tab) made the centre's minimum width squeeze the tensor tree's dock.
    auto* tabPages =
        m_tabs->findChild<QStackedWidget*>(QStringLiteral("qt_tabwidget_stackedwidget"));
    for (QStackedWidget* stack : {m_centre, tabPages})
        if (stack) {
            sizeByCurrentPage(stack);
            connect(stack, &QStackedWidget::currentChanged, this,
                    [stack] { sizeByCurrentPage(stack); });
        }
    setCentralWidget(m_centre);

    m_checkpointDock = addDock(tr("Checkpoint"), QStringLiteral("checkpointDock"), m_browser,
                               Qt::LeftDockWidgetArea);
    m_schemeDock =
        addDock(tr("Scheme"), QStringLiteral("schemeDock"), m_scheme, Qt::RightDockWidgetArea);
    m_metricsDock =
        addDock(tr("Metrics"), QStringLiteral("metricsDock"), m_metrics, Qt::RightDockWidgetArea);
    applyDefaultDockSizes();

    buildMenus();
    buildStatusBar();
    connectController();
    m_defaultState = saveState();
    if (m_persist)
        restoreSettings();
    m_controller->setScheme(m_scheme->scheme());
    m_compareTab->setPanelScheme(m_scheme->scheme());
    m_browser->setScheme(m_scheme->scheme());
    updateCaption();
}

MainWindow::~MainWindow() {
    shutdownModelTabs();
    m_controller->shutdown();
    m_compareTab->shutdown();
    m_browser->shutdown();
}

bool MainWindow::setCurrentTab(const QString& name) {
    if (name.compare(QStringLiteral("methods-inside"), Qt::CaseInsensitive) == 0) {
        m_methodsTab->showInsights(true);
        return setCurrentTab(QStringLiteral("methods"));
    }
    if (name.compare(QStringLiteral("compare-error"), Qt::CaseInsensitive) == 0) {
        m_compareTab->showErrorView(true);
        return setCurrentTab(QStringLiteral("compare"));
    }
    for (int i = 0; i < m_tabs->count(); ++i) {
        if (m_tabs->tabText(i).compare(name, Qt::CaseInsensitive) == 0) {
            m_tabs->setCurrentIndex(i);
            return true;
        }
    }
    return false;
}

QString MainWindow::currentTabName() const {
    return m_tabs->tabText(m_tabs->currentIndex()).remove(QLatin1Char('&')).toLower();
}

void MainWindow::emitIdleWhenAllDone() {
    if (!m_controller->isBusy() && !m_compareTab->isBusy() && !m_browser->isBusy() &&
        !modelTabsBusy() && !(isLearnMode() && m_lessonView->isBusy()))
        Q_EMIT idle();
}

QDockWidget* MainWindow::addDock(const QString& title, const QString& name, QWidget* content,
                                 Qt::DockWidgetArea area) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(name);
    dock->setWidget(content);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                      QDockWidget::DockWidgetClosable);
    addDockWidget(area, dock);
    return dock;
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open…"), QKeySequence::Open, this, &MainWindow::chooseFile);
    file->addAction(tr("Open &Folder…"), QKeySequence(tr("Ctrl+Shift+O")), this,
                    &MainWindow::chooseFolder)
        ->setToolTip(tr("A model directory, e.g. a Hugging Face download with sharded "
                        "safetensors and config.json"));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    m_recentMenu->setEnabled(m_persist);
    file->addSeparator();
    file->addAction(tr("Open &Project…"), this, &MainWindow::chooseProjectToOpen);
    file->addAction(tr("&Save Project…"), QKeySequence::Save, this,
                    &MainWindow::chooseProjectToSave);
    file->addAction(tr("&Export…"), QKeySequence(tr("Ctrl+E")), this,
                    [this] { showExportDialog(); });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    m_logScaleAction = view->addAction(tr("&Log-Scale Histogram"));
    m_logScaleAction->setObjectName(QStringLiteral("logScaleAction"));
    m_logScaleAction->setCheckable(true);
    m_logScaleAction->setShortcut(QKeySequence(tr("Ctrl+L")));
    WeightHistogramChart* weights = m_tensorTab->weightChart();
    connect(m_logScaleAction, &QAction::toggled, weights, &WeightHistogramChart::setLogScale);
    connect(weights, &WeightHistogramChart::logScaleChanged, m_logScaleAction,
            &QAction::setChecked);
    view->addSeparator();
    for (QDockWidget* dock : {m_checkpointDock, m_schemeDock, m_metricsDock})
        view->addAction(dock->toggleViewAction());
    view->addSeparator();
    view->addAction(tr("&Reset Layout"), this, &MainWindow::resetLayout);

    QMenu* analyze = menuBar()->addMenu(tr("&Analyze"));
    analyze->addAction(tr("&Re-run Analysis"), QKeySequence::Refresh, m_controller,
                       &AnalysisController::rerun);
    analyze->addAction(tr("&Cancel"), QKeySequence::Cancel, m_controller,
                       &AnalysisController::cancel);

    populateLearnMenu(
        menuBar()->addMenu(tr("&Learn")), [this](const QString& id) { showLesson(id); },
        [this] { leaveLearnMode(); });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Quantscope"), this, &MainWindow::showAbout);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::buildStatusBar() {
    m_fileLabel = new QLabel(tr("No checkpoint"), this);
    m_tensorLabel = new QLabel(this);
    m_tensorLabel->setStyleSheet(
        QStringLiteral("QLabel { border-left: 1px solid #C8C8C8; padding-left: 8px; }"));
    m_messageLabel = new QLabel(this);
    m_messageLabel->setObjectName(QStringLiteral("statusMessage"));
    m_messageLabel->setMaximumWidth(kMessageWidth);
    m_activity = new ActivityIndicator(this);
    statusBar()->addWidget(m_fileLabel);
    statusBar()->addWidget(m_tensorLabel);
    statusBar()->addWidget(m_messageLabel, 1);
    statusBar()->addPermanentWidget(m_activity);
    m_backend = new BackendSelector(this);
    statusBar()->addPermanentWidget(m_backend);
    connect(m_backend, &BackendSelector::backendChanged, this, [this](const QString& note) {
        if (!note.isEmpty())
            m_messageLabel->setText(note);
        m_controller->rerun();
    });
    connect(m_activity, &ActivityIndicator::cancelRequested, m_controller,
            &AnalysisController::cancel);
}

void MainWindow::connectController() {
    AnalysisController* c = m_controller;
    connect(c, &AnalysisController::checkpointOpened, this, &MainWindow::onCheckpointOpened);
    connect(c, &AnalysisController::openFailed, this, &MainWindow::onOpenFailed);
    connect(c, &AnalysisController::statsReady, this,
            [this](const QString& tensor, const DistributionStats& s) {
                if (tensor == m_currentTensor)
                    m_browser->metadataPane()->setStats(s);
            });
    connect(c, &AnalysisController::analysisReady, this, &MainWindow::onAnalysisReady);
    connect(c, &AnalysisController::sweepReady, this, &MainWindow::onSweepReady);
    connect(c, &AnalysisController::analysisFailed, this, &MainWindow::onAnalysisFailed);
    connect(c, &AnalysisController::analysisNotApplicable, this, &MainWindow::onNotApplicable);
    connect(c, &AnalysisController::cancelled, this, [this] {
        showNote(tr("Cancelled"));
        m_metrics->setStale(false);
    });
    connect(c, &AnalysisController::busyChanged, m_activity, &ActivityIndicator::setBusy);
    connect(c, &AnalysisController::progressChanged, m_activity, &ActivityIndicator::setProgress);
    connect(c, &AnalysisController::idle, this, &MainWindow::emitIdleWhenAllDone);
    connect(m_compareTab, &CompareTab::idle, this, &MainWindow::emitIdleWhenAllDone);
    connect(m_browser, &TensorBrowserPanel::idle, this, &MainWindow::emitIdleWhenAllDone);
    connect(m_browser, &TensorBrowserPanel::tensorSelected, this, &MainWindow::onTensorSelected);
    connect(m_scheme, &SchemePanel::schemeChanged, this, &MainWindow::onSchemeChanged);
    connect(m_tensorTab, &TensorTab::alternativeRequested, this, [this](const QString& spec) {
        if (auto s = Scheme::parse(spec.toStdString()))
            m_scheme->setScheme(*s);
    });
}

void MainWindow::restoreSettings() {
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    m_logScaleAction->setChecked(
        settings.value(QStringLiteral("charts/logHistogram"), false).toBool());
}

void MainWindow::saveSettings() const {
    if (!m_persist)
        return;
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("charts/logHistogram"), m_logScaleAction->isChecked());
}

void MainWindow::openCheckpoint(const QString& path, const QString& tensor) {
    m_pendingTensor = tensor;
    showNote(tr("Opening %1…").arg(QFileInfo(path).fileName()));
    m_controller->openCheckpoint(path);
}

void MainWindow::setScheme(const Scheme& scheme) {
    m_scheme->setScheme(scheme);
}

QString MainWindow::statusMessage() const {
    return m_messageLabel->text();
}

QString MainWindow::statusFileText() const {
    return m_fileLabel->text();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    shutdownModelTabs();
    m_controller->shutdown();
    m_compareTab->shutdown();
    m_browser->shutdown();
    saveSettings();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    const QMimeData* mime = event->mimeData();
    if (mime->hasUrls() && !mime->urls().isEmpty() && mime->urls().front().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.front().isLocalFile())
        return;
    event->acceptProposedAction();
    openCheckpoint(urls.front().toLocalFile());
}

void MainWindow::chooseFile() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open checkpoint"), QString(),
        tr("Checkpoints (*.safetensors *.safetensors.index.json *.npy *.npz *.pt *.pth *.bin "
           "*.ckpt *.h5 *.hdf5 *.keras *.onnx);;All files (*)"));
    if (!path.isEmpty())
        openCheckpoint(path);
}

void MainWindow::chooseFolder() {
    const QString path = QFileDialog::getExistingDirectory(this, tr("Open model folder"));
    if (!path.isEmpty())
        openCheckpoint(path);
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    RecentFiles recent;
    const QStringList files = recent.files();
    for (const QString& f : files)
        m_recentMenu->addAction(QFileInfo(f).fileName(), this, [this, f] { openCheckpoint(f); })
            ->setToolTip(f);
    if (files.isEmpty())
        m_recentMenu->addAction(tr("No recent files"))->setEnabled(false);
    m_recentMenu->addSeparator();
    m_recentMenu->addAction(tr("Clear Menu"), this, [] { RecentFiles().clear(); })
        ->setEnabled(!files.isEmpty());
}

void MainWindow::resetLayout() {
    restoreState(m_defaultState);
    for (QDockWidget* dock : {m_checkpointDock, m_schemeDock, m_metricsDock})
        dock->show();
    applyDefaultDockSizes();
}

void MainWindow::applyDefaultDockSizes() {
    // Lessons need the width more than the tensor list does.
    resizeDocks({m_checkpointDock, m_schemeDock},
                {isLearnMode() ? kLearnLeftDockWidth : kLeftDockWidth, kRightDockWidth},
                Qt::Horizontal);
    resizeDocks({m_schemeDock, m_metricsDock}, {kSchemeDockHeight, kMetricsDockHeight},
                Qt::Vertical);
}

void MainWindow::showAbout() {
    QMessageBox::about(
        this, tr("About Quantscope"),
        tr("<h3>Quantscope %1</h3><p>An explorer for the quantization of neural-network "
           "weights: pick a scheme and see what it does to real weights.</p>")
            .arg(QApplication::applicationVersion()));
}

void MainWindow::onCheckpointOpened(const std::shared_ptr<const Checkpoint>& checkpoint) {
    const QString path = QString::fromStdString(checkpoint->path());
    const QString fileName = QFileInfo(path).fileName();
    setWindowTitle(tr("Quantscope — %1").arg(fileName));
    m_fileLabel->setText(tr("%1 · %2 · %3 tensors · %4 parameters")
                             .arg(fileName, QString::fromStdString(checkpoint->format()))
                             .arg(checkpoint->tensors().size())
                             .arg(formatCount(checkpoint->totalParameters())));
    m_fileLabel->setToolTip(path);
    if (m_persist)
        RecentFiles().add(path);
    m_currentTensor.clear();
    m_tensorTab->clear();
    m_metrics->clear();
    showNote({});
    if (isLearnMode())
        m_exploreIndex = 1;
    else
        m_centre->setCurrentIndex(1);
    m_browser->setCheckpoint(checkpoint);
    m_compareTab->setCheckpoint(checkpoint);
    modelTabsCheckpointOpened(checkpoint);

    QString wanted = m_pendingTensor;
    m_pendingTensor.clear();
    if (!wanted.isEmpty() && !checkpoint->find(wanted.toStdString())) {
        showError(tr("no tensor named '%1' in %2").arg(wanted, fileName));
        wanted.clear();
    }
    if (wanted.isEmpty())
        wanted = preferredTensor(*checkpoint);
    if (wanted.isEmpty())
        showNote(tr("The checkpoint holds no tensors"));
    else
        m_browser->selectTensor(wanted);
}

void MainWindow::onOpenFailed(const QString&, const QString& message) {
    showError(message);
}

void MainWindow::onTensorSelected(const QString& name) {
    m_currentTensor = name;
    m_tensorLabel->setText(name);
    if (!isLearnMode()) // a lesson's metrics stay valid
        m_metrics->setStale(true);
    updateCaption();
    m_controller->setTensor(name);
    m_compareTab->setTensor(name);
    m_lessonView->setTensor(m_controller->checkpoint(), name);
    m_methodsTab->setTensor(name);
    maybeRunMethods();
}

void MainWindow::onSchemeChanged(const Scheme& scheme) {
    if (!isLearnMode()) // a lesson sets the scheme, then its own metrics
        m_metrics->setStale(true);
    shareActivations();
    m_controller->setScheme(scheme);
    m_compareTab->setPanelScheme(scheme);
    m_browser->setScheme(scheme);
    m_memoryTab->setPanelScheme(scheme);
    updateCaption();
}

void MainWindow::onAnalysisReady(const QString& tensor,
                                 const std::shared_ptr<const TensorAnalysis>& analysis,
                                 const std::shared_ptr<const AnalysisPlots>& plots) {
    const auto checkpoint = m_controller->checkpoint();
    const TensorInfo* info = checkpoint ? checkpoint->find(tensor.toStdString()) : nullptr;
    if (!info || tensor != m_currentTensor)
        return;
    // In a lesson the Metrics dock follows the lesson's data, not the selected tensor.
    const bool metricsFree = !isLearnMode();
    if (metricsFree)
        m_metrics->setAnalysis(*info, *analysis);
    if (plots->isPreview()) { // shown at once, replaced by the exact result; never stored
        const QString note = tr("Preview from %1 of %2 rows; the exact result follows")
                                 .arg(plots->previewRows)
                                 .arg(plots->totalRows);
        if (metricsFree)
            m_metrics->setPreview(note);
        showNote(note);
    } else {
        showNote({});
        TensorMetric metric;
        metric.error = analysis->error;
        metric.cost = analysis->cost;
        m_browser->storeMetric(tensor, analysis->scheme, metric);
    }
    m_tensorTab->setAnalysis(*plots, QString::fromStdString(analysis->scheme.family));
}

void MainWindow::onSweepReady(const QString& tensor,
                              const std::shared_ptr<const SweepPlot>& sweep) {
    if (tensor == m_currentTensor)
        m_tensorTab->setSweep(*sweep);
}

void MainWindow::onAnalysisFailed(const QString& message) {
    if (!isLearnMode()) // a lesson's metrics stay
        m_metrics->clear(message);
    m_tensorTab->clear();
    showError(message);
}

void MainWindow::onNotApplicable(const QString& tensor, const QString& message) {
    if (tensor != m_currentTensor)
        return;
    const Scheme& scheme = m_controller->scheme();
    const QString spec = QString::fromStdString(scheme.toString());
    TensorMetric metric;
    metric.status = TensorMetric::Status::NotApplicable;
    metric.message = message;
    m_browser->storeMetric(tensor, scheme, metric);
    if (!isLearnMode()) // a lesson's metrics stay
        m_metrics->setNotApplicable(scheme, message);
    QString detail = message, alternative;
    if (const auto fallback = fallbackFor(tensor, scheme)) {
        alternative = QString::fromStdString(fallback->toString());
        detail +=
            QLatin1Char('\n') + tr("llama.cpp stores such a tensor as %1 (its fallback for %2).")
                                    .arg(alternative, spec);
    } else if (const FamilyInfo* f = findFamily(scheme.family);
               f && f->kind == FamilyKind::GgmlBlock) {
        detail += QLatin1Char('\n') + tr("llama.cpp has no fallback for %1: llama-quantize stops "
                                         "on such a tensor (Unsupported tensor size).")
                                          .arg(spec);
    }
    m_tensorTab->showMessage(tr("%1 does not apply to this tensor").arg(spec), detail, alternative);
    showNote(tr("%1 is not applicable to %2").arg(spec, tensor));
}

std::optional<Scheme> MainWindow::fallbackFor(const QString& tensor, const Scheme& scheme) const {
    const auto checkpoint = m_controller->checkpoint();
    const TensorInfo* info = checkpoint ? checkpoint->find(tensor.toStdString()) : nullptr;
    if (!info || info->shape.empty() || info->shape.back() <= 0)
        return std::nullopt;
    const std::int64_t cols = info->shape.back();
    const std::int64_t rows = info->numel() / cols;
    auto resolved = resolvedStorageCost(scheme, rows, cols); // a probe of a row or two
    if (!resolved || resolved->scheme == scheme)
        return std::nullopt;
    return resolved->scheme;
}

void MainWindow::updateCaption() {
    const auto checkpoint = m_controller->checkpoint();
    m_tensorTab->setSubject(checkpoint ? checkpoint->find(m_currentTensor.toStdString()) : nullptr,
                            m_scheme->scheme());
}

void MainWindow::showError(const QString& message) {
    const QString line = firstLine(message);
    m_messageLabel->setStyleSheet(QStringLiteral("color: #C0392B;"));
    m_messageLabel->setText(
        m_messageLabel->fontMetrics().elidedText(line, Qt::ElideMiddle, kMessageWidth));
    m_messageLabel->setToolTip(message);
    Q_EMIT errorShown(line);
}

void MainWindow::showNote(const QString& message) {
    m_messageLabel->setStyleSheet(QStringLiteral("color: #666;"));
    m_messageLabel->setText(message);
    m_messageLabel->setToolTip(QString());
}

} // namespace qs
