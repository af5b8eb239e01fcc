#pragma once
// The main window: composes the Checkpoint, Scheme and Metrics docks, the Tensor tab and the
// status bar, and wires them to the AnalysisController. It holds no analysis logic of its own.
// GUI thread only.

#include "analysis/tensor_analysis.h"
#include "io/checkpoint.h"

#include <QByteArray>
#include <QMainWindow>

#include <optional>

#include <memory>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QStackedWidget;
class QTabWidget;

namespace qs {

class ActivityIndicator;
class BackendSelector;
class AnalysisController;
class CompareTab;
class ExportDialog;
class LessonView;
class MemoryTab;
class MethodsTab;
class MetricsPanel;
class ModelTab;
class PlanTab;
class SchemePanel;
class SweepController;
class TensorBrowserPanel;
class TensorTab;
struct AnalysisPlots;
struct SweepPlot;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    // With persistSettings false (tests, screenshots) neither layout nor recent files are read or
    // written.
    explicit MainWindow(bool persistSettings = true, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens `path` in the background; then selects `tensor` (default: preferredTensor()).
    void openCheckpoint(const QString& path, const QString& tensor = {});
    void setScheme(const Scheme& scheme);

    AnalysisController* controller() const { return m_controller; }
    BackendSelector* backendSelector() const { return m_backend; }
    TensorBrowserPanel* browser() const { return m_browser; }
    SchemePanel* schemePanel() const { return m_scheme; }
    MetricsPanel* metricsPanel() const { return m_metrics; }
    TensorTab* tensorTab() const { return m_tensorTab; }
    CompareTab* compareTab() const { return m_compareTab; }
    ModelTab* modelTab() const { return m_modelTab; }
    PlanTab* planTab() const { return m_planTab; }
    MemoryTab* memoryTab() const { return m_memoryTab; }
    MethodsTab* methodsTab() const { return m_methodsTab; }
    SweepController* sweepController() const { return m_sweeps; }
    // Shows the centre tab named `name` ("tensor", "compare", "model", "plan", "memory"); false
    // if there is none.
    bool setCurrentTab(const QString& name);
    QString currentTabName() const;
    static QStringList tabNames();
    // Export and projects (File menu): the dialog is modeless and returned for tests; nullptr
    // when no checkpoint is open. Saving/opening a project returns false and shows why.
    ExportDialog* showExportDialog();
    bool saveProject(const QString& path);
    bool openProject(const QString& path);
    QString planPath() const { return m_planPath; }
    void setPlanPath(const QString& path) { m_planPath = path; }
    QString statusMessage() const;
    QString statusFileText() const;
    // Learn mode: the centre shows lesson `id` (false for an unknown id); the docks stay.
    bool showLesson(const QString& id);
    void leaveLearnMode();
    bool isLearnMode() const;
    LessonView* lessonView() const { return m_lessonView; }

Q_SIGNALS:
    // Everything requested has been computed and shown (analysis, Compare tab, tree columns).
    void idle();
    void errorShown(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    static constexpr int kLearnLeftDockWidth = 160; // lessons need the width more than the tree
    QDockWidget* addDock(const QString& title, const QString& name, QWidget* content,
                         Qt::DockWidgetArea area);
    void buildMenus();
    void buildStatusBar();
    void setupLearnMode();
    // The Methods tab and the whole-model tabs (Model, Plan, Memory): main_window_model.cpp.
    void setupModelTabs();
    void modelTabsCheckpointOpened(const std::shared_ptr<const Checkpoint>& checkpoint);
    // The Model tab's activations (or importance matrix) to the detail views, the tree and Compare:
    // schemes that need them (q4_k:imatrix) run with them there too.
    void shareActivations();
    void maybeStartSweep();
    bool modelTabsBusy() const;
    void shutdownModelTabs();
    void maybeRunMethods();
    void openFromMap(const QString& tensor, const QString& spec);
    void connectController();
    void restoreSettings();
    void applyDefaultDockSizes();
    void saveSettings() const;

    void chooseFile();
    void chooseFolder();
    void chooseProjectToOpen(); // defined in main_window_files.cpp with the Export/project code
    void chooseProjectToSave();
    void emitIdleWhenAllDone();
    void rebuildRecentMenu();
    void resetLayout();
    void showAbout();

    void onCheckpointOpened(const std::shared_ptr<const Checkpoint>& checkpoint);
    void onOpenFailed(const QString& path, const QString& message);
    void onTensorSelected(const QString& name);
    void onSchemeChanged(const Scheme& scheme);
    void onAnalysisReady(const QString& tensor,
                         const std::shared_ptr<const TensorAnalysis>& analysis,
                         const std::shared_ptr<const AnalysisPlots>& plots);
    void onSweepReady(const QString& tensor, const std::shared_ptr<const SweepPlot>& sweep);
    void onAnalysisFailed(const QString& message);
    void onNotApplicable(const QString& tensor, const QString& message);
    void updateCaption();
    // What llama.cpp stores `tensor` as where `scheme` (a ggml block type) does not apply.
    std::optional<Scheme> fallbackFor(const QString& tensor, const Scheme& scheme) const;
    void showError(const QString& message);
    void showNote(const QString& message);

    bool m_persist;
    AnalysisController* m_controller;
    BackendSelector* m_backend = nullptr;
    TensorBrowserPanel* m_browser;
    SchemePanel* m_scheme;
    MetricsPanel* m_metrics;
    TensorTab* m_tensorTab;
    CompareTab* m_compareTab;
    QTabWidget* m_tabs = nullptr;
    SweepController* m_sweeps = nullptr;
    ModelTab* m_modelTab = nullptr;
    PlanTab* m_planTab = nullptr;
    MemoryTab* m_memoryTab = nullptr;
    MethodsTab* m_methodsTab = nullptr;
    QStackedWidget* m_centre;
    LessonView* m_lessonView = nullptr;
    int m_exploreIndex = 0; // the centre page Learn mode returns to
    QDockWidget* m_checkpointDock = nullptr;
    QDockWidget* m_schemeDock = nullptr;
    QDockWidget* m_metricsDock = nullptr;
    QMenu* m_recentMenu = nullptr;
    QAction* m_logScaleAction = nullptr;
    QLabel* m_fileLabel = nullptr;
    QLabel* m_tensorLabel = nullptr;
    QLabel* m_messageLabel = nullptr;
    ActivityIndicator* m_activity = nullptr;
    QByteArray m_defaultState;
    QString m_pendingTensor;
    QString m_currentTensor;
    QString m_planPath; // the plan the Export dialog last used (saved in projects)
};

} // namespace qs
