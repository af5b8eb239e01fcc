#pragma once
// The "Model" tab: the whole checkpoint at a glance. A sweep quantizes every tensor with two or
// more dimensions under each listed scheme in the background (progress, cancel, rows appearing as
// tensors finish; results cached per tensor and scheme while the file is open). The sensitivity
// map shows SQNR, relative RMSE or (with activations, synthetic or loaded) the output error per
// tensor and scheme with the kurtosis, outlier and imbalance bars that explain it; the table beside
// it sorts by any column, and both filter by role (attention, MLP, embeddings, norms, output).
// Clicking a cell opens that tensor under that scheme. GUI thread only.

#include "plan/planner.h"
#include "plan/tensor_roles.h"
#include "widgets/activation_picker.h"

#include <QWidget>

#include <map>
#include <memory>
#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QSplitter;
class QTableView;
class QToolButton;

namespace qs {

class ActivationReader;
class ActivationSource;
class ScaleLegend;
class SensitivityHeatmap;
class SensitivityModel;
class SweepController;

class ModelTab : public QWidget {
    Q_OBJECT
public:
    static QString defaultSchemes();
    // The table sits beside the map when both fit (the map as wide as its cells and bars, the
    // table at least kMinTableWidth), else below it, so the bars that explain a row stay in view.
    static constexpr int kMinTableWidth = 260;

    explicit ModelTab(SweepController* sweeps, QWidget* parent = nullptr);

    // Clears the map (the controller's cache is dropped by its owner).
    void checkpointChanged();
    // The schemes in the edit box, parsed; an error message otherwise.
    Result<std::vector<Scheme>> schemes() const;
    void setSchemesText(const QString& text);
    void addSchemes(const QStringList& specs); // to the list, those it does not have
    // Starts a sweep of the listed schemes; false (and the reason shown) when they do not parse.
    bool runSweep();
    void setMetric(int metric); // SensitivityMetric
    // The sweep's activations, for the output error: "" none, "synthetic:TOKENS:OUTLIERS:SCALE"
    // generated for each tensor's width, or a file's [tokens, in_features] tensor, `tensor` or
    // its only one (for the tensors of its width), read on the work pool. The map then shows the
    // output error, swept again; activationsChanged() says when they apply, or that the file
    // could not be used (why, in the status line). False at once for a bad spec or no file.
    bool setActivations(const QString& source, const QString& tensor = {});
    bool readingActivations() const; // a file chosen is still being read
    // The activations in use, as setActivations() takes them: {"", ""} for none, {spec, ""} for
    // synthetic ones, {path, tensor} for a file's.
    ActivationFile activationsChoice() const { return m_activationsChoice; }
    // 128 tokens: each tensor is multiplied by them twice per scheme (`analyze` of a 2048 x 8192
    // layer under int4:g128 on two cores: 0.04 s without, 0.3 s with 128 tokens, 1.1-1.3 s with
    // 512).
    static QString defaultSyntheticActivations() { return QStringLiteral("synthetic:128:4:20"); }
    void setRoleShown(TensorRole role, bool shown);

    SensitivityModel* model() const { return m_model; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    SensitivityHeatmap* heatmap() const { return m_heatmap; }
    QTableView* table() const { return m_table; }
    QString statusText() const;

Q_SIGNALS:
    void openRequested(const QString& tensor, const QString& spec);
    void activationsChanged(bool applied);

private:
    void applyActivations(std::shared_ptr<const ActivationSource> activations, int index);
    void onStarted(const std::vector<Scheme>& schemes);
    void onTensor(const TensorMeasurement& t);
    void onFinished(const std::shared_ptr<const PlanMeasurements>& m);
    void onFailed(const QString& message);
    void updateScale();
    void setRunning(bool running);
    void fitSplit(); // beside or below, the map as wide as its columns (kMinTableWidth)
    void resizeEvent(QResizeEvent* event) override;

    SweepController* m_sweeps;
    SensitivityModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QLineEdit* m_schemeEdit;
    QPushButton* m_sweepButton;
    QToolButton* m_cancelButton;
    QProgressBar* m_progress;
    QComboBox* m_metric;
    QComboBox* m_activations;
    int m_activationsIndex = 0;         // the item in use (a file dialog cancelled goes back to it)
    ActivationFile m_activationsChoice; // what is in use
    std::map<TensorRole, QToolButton*> m_roleButtons;
    ScaleLegend* m_legend;
    SensitivityHeatmap* m_heatmap;
    ActivationReader* m_reader; // files of activations, off the GUI thread
    QTableView* m_table;
    QLabel* m_status;
    QSplitter* m_splitter = nullptr;
    bool m_userSized = false; // the user dragged the splitter: leave it
    qint64 m_startedMs = 0;
};

} // namespace qs
