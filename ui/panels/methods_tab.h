#pragma once
// The "Methods" tab: beyond round-to-nearest on the selected layer. Tick methods (RTN, HQQ,
// SINQ, GPTQ, AWQ, AutoRound, SmoothQuant) at one bit width and group size; each runs on this
// one linear layer [out, in] with input activations [tokens, in] — synthetic (Gaussian with a
// chosen number of outlier channels and their scale) or loaded from a file (Activations…) — and
// a table and bar charts show weight error, output error (||XW^T - XW^^T|| / ||XW^T||), time
// taken and bits per weight. Runs in the background, method by method, with progress and
// cancel. GUI thread only.

#include "io/checkpoint.h"
#include "methods/calibration.h"
#include "panels/method_insights.h"
#include "quant/scheme.h"

#include <QFutureWatcher>
#include <QString>
#include <QWidget>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QSplitter;
class QTableWidget;
class QToolButton;

namespace qs {

class ActivationReader;
class ActivationSource;

class MethodsChart;
class ProfileChart;

struct MethodResult {
    QString spec;
    QString error; // empty when it ran
    double relRmse = 0, sqnrDb = 0, outRelErr = -1, bitsPerWeight = 0, millis = 0;
};

struct MethodsUpdate {
    std::optional<MethodResult> result;
    std::shared_ptr<const MethodInsights> insights;
};

class MethodsTab : public QWidget {
    Q_OBJECT
public:
    static QStringList methodNames(); // rtn, hqq, sinq, gptq, awq, autoround, smoothquant

    explicit MethodsTab(QWidget* parent = nullptr);
    ~MethodsTab() override;

    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    void setTensor(const QString& name);
    // The scheme each ticked method runs at the chosen bits and group size.
    std::vector<Scheme> schemes() const;
    void setMethodChecked(const QString& method, bool on);
    void setBits(int bits);
    void setGroupSize(int group);
    void setSynthetic(const SyntheticCalibration& spec);
    // Loads [tokens, in_features] activations from a file (its only 2-D tensor, or the one named
    // `tensor`), read on the work pool: activationsLoaded() says when they are in use, or that
    // they cannot be (the reason shown); false at once where there is no such file.
    bool loadActivations(const QString& path, const QString& tensor = {});
    bool run();
    void cancel();
    void shutdown();
    bool isBusy() const { return m_watcher != nullptr; }
    QString ranTensor() const { return m_ranTensor; } // the tensor of the last run

    const std::vector<MethodResult>& results() const { return m_results; }
    const MethodInsights* insights() const { return m_insights.get(); }
    void showInsights(bool on); // the "Inside SINQ and AWQ" page instead of the error charts
    QString statusText() const;
    QTableWidget* table() const { return m_table; }
    MethodsChart* errorChart() const { return m_errors; }

Q_SIGNALS:
    void finished();                 // every ticked method has a result (or the run was cancelled)
    void activationsLoaded(bool ok); // a file given to loadActivations() was read, or refused

protected:
    // The body's split follows its height (fitBody) until the user drags it: its height is known
    // only once the rows above it, which wrap, are laid out, so on its own resize.
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void fitBody(); // a row per method under the charts, at most two fifths of the height
    void onResult(int index);
    void onDone();
    void showResults();
    void showInsightCharts();
    QString activationsText() const;

    std::shared_ptr<const Checkpoint> m_checkpoint;
    QString m_tensor;
    QString m_ranTensor;
    std::uint64_t m_syntheticSeed = 0;                // setSynthetic()'s (the controls show none)
    std::shared_ptr<const ActivationSource> m_loaded; // activations from a file
    ActivationReader* m_reader = nullptr;             // files of activations, off the GUI thread
    QString m_loadedSource;                           // its file's name
    std::vector<MethodResult> m_results;
    std::shared_ptr<const MethodInsights> m_insights;
    QFutureWatcher<MethodsUpdate>* m_watcher = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;

    QLabel* m_caption;
    std::vector<QCheckBox*> m_methods;
    QSpinBox* m_bits;
    QComboBox* m_group;
    QComboBox* m_source;
    QSpinBox* m_tokens;
    QSpinBox* m_outliers;
    QDoubleSpinBox* m_outlierScale;
    QPushButton* m_load;
    QPushButton* m_run;
    QToolButton* m_cancelButton;
    QProgressBar* m_progress;
    QTableWidget* m_table;
    MethodsChart* m_errors;
    MethodsChart* m_times;
    ProfileChart* m_sinqRows;
    ProfileChart* m_sinqCols;
    ProfileChart* m_awq;
    QLabel* m_insightText;
    QSplitter* m_body = nullptr; // charts above, the table below
    bool m_bodyMoved = false;    // the user dragged the splitter: leave it
    QTabWidget* m_pages;
    QLabel* m_status;
};

} // namespace qs
