#pragma once
// File → Export…: choose a target (every ExportTarget), a scheme or a plan file, the output path
// and the target's options; a live preview shows exactly what a config target will write (or,
// for weights and reports, which files and which tensor gets which type) and what the target
// approximates or drops. Writing runs on a worker (QtConcurrent) with progress and Cancel;
// errors show as one line in the dialog. Closing while writing cancels and waits.
// GUI thread only.

#include "export/export_plan.h"
#include "export/exporter.h"
#include "quant/scheme.h"

#include <QDialog>
#include <QFutureWatcher>
#include <QTimer>

#include <atomic>
#include <memory>
#include <optional>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QFormLayout;

namespace qs {

class ActivationSource;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(std::shared_ptr<const Checkpoint> checkpoint, const Scheme& scheme,
                 const QString& planPath = {}, QWidget* parent = nullptr);
    ~ExportDialog() override;

    void setTarget(ExportTarget target);
    ExportTarget target() const;
    void setSchemeSpec(const QString& spec); // and use the scheme, not the plan
    void setPlanPath(const QString& path);   // and use the plan
    QString planPath() const;
    bool usesPlan() const;
    void setOutputPath(const QString& path);
    QString outputPath() const;
    // The Model tab's inputs: where they are a llama.cpp importance matrix, GGUF export quantizes
    // the imatrix option (q4_k:imatrix) with it and the llama-quantize command passes it.
    void setImportance(std::shared_ptr<const ActivationSource> source);

    // Recomputes the preview now (it also follows every change after a short delay).
    void refreshPreview();
    QString previewText() const;
    QStringList warnings() const;
    QString errorText() const; // the one-line error, "" when none

    void startExport();
    void cancelExport();
    bool isExporting() const;

Q_SIGNALS:
    void exportFinished(bool ok, const QString& message);

protected:
    void reject() override;

private:
    struct RunResult {
        bool ok = false;
        QString message; // the summary, or the error
        QStringList warnings;
        QStringList files;
    };

    QWidget* buildChoices();
    QWidget* buildPreview();
    void schedulePreview();
    void updateOptionRows();
    void updateDefaultOutput();
    void browseOutput();
    void browsePlan();
    std::optional<ExportSelection> makeSelection(QString* error);
    ExportOptions options() const;
    void showError(const QString& message);
    void onFinished();
    void setRunning(bool running);

    std::shared_ptr<const Checkpoint> m_checkpoint;
    std::shared_ptr<const ActivationSource> m_importance; // holds an ImatrixFile, or null
    std::optional<Plan> m_loadedPlan; // kept alive: a plan selection refers to it
    QComboBox* m_target;
    QRadioButton* m_useScheme;
    QRadioButton* m_usePlan;
    QLineEdit* m_scheme;
    QLineEdit* m_plan;
    QPushButton* m_planBrowse;
    QLineEdit* m_output;
    QFormLayout* m_optionsForm;
    QLineEdit* m_model;
    QLineEdit* m_outputDir;
    QComboBox* m_computeDtype;
    QSpinBox* m_alignment;
    QLineEdit* m_ggufName;
    QLabel* m_summary;
    QPlainTextEdit* m_preview;
    QListWidget* m_warnings;
    QLabel* m_error;
    QProgressBar* m_progress;
    QPushButton* m_exportButton;
    QPushButton* m_cancelButton;
    QDialogButtonBox* m_buttons;
    QTimer m_previewTimer;
    QTimer m_progressTimer;
    bool m_outputEdited = false;
    QFutureWatcher<RunResult> m_watcher;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::shared_ptr<std::atomic<int>> m_permille;
};

} // namespace qs
