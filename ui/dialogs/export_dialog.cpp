#include "dialogs/export_dialog.h"
#include "workers/work_pool.h"

#include "dialogs/export_preview.h"
#include "export/exporter.h"
#include "methods/activation_source.h"
#include "plan/plan_file.h"
#include "widgets/progress_value.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>

namespace qs {
namespace {

constexpr int kCoalesceMs = 40;
constexpr int kProgressPollMs = 50;

QString firstLine(const QString& s) {
    return s.section(QLatin1Char('\n'), 0, 0);
}

bool isCommandTarget(ExportTarget t) {
    return t == ExportTarget::LlamaCpp || t == ExportTarget::AutoRound || t == ExportTarget::Mlx ||
           t == ExportTarget::OpenVino || t == ExportTarget::OrtGenAi;
}

} // namespace

ExportDialog::ExportDialog(std::shared_ptr<const Checkpoint> checkpoint, const Scheme& scheme,
                           const QString& planPath, QWidget* parent)
    : QDialog(parent), m_checkpoint(std::move(checkpoint)) {
    setWindowTitle(tr("Export"));
    setObjectName(QStringLiteral("exportDialog"));
    auto* splitter = new QSplitter(Qt::Horizontal);
    splitter->addWidget(buildChoices());
    splitter->addWidget(buildPreview());
    splitter->setStretchFactor(1, 1);
    splitter->setChildrenCollapsible(false);

    m_error = new QLabel;
    m_error->setObjectName(QStringLiteral("exportError"));
    m_error->setStyleSheet(QStringLiteral("color: #C0392B;"));
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_progress->setMaximumWidth(220);
    m_progress->hide();
    m_buttons = new QDialogButtonBox;
    m_exportButton = m_buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
    m_exportButton->setDefault(true);
    m_cancelButton = m_buttons->addButton(QDialogButtonBox::Close);
    connect(m_exportButton, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_cancelButton, &QPushButton::clicked, this, &ExportDialog::reject);

    auto* bottom = new QHBoxLayout;
    bottom->addWidget(m_error, 1);
    bottom->addWidget(m_progress);
    bottom->addWidget(m_buttons);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter, 1);
    layout->addLayout(bottom);

    m_scheme->setText(QString::fromStdString(scheme.toString()));
    if (!planPath.isEmpty())
        m_plan->setText(planPath);
    m_previewTimer.setSingleShot(true);
    m_previewTimer.setInterval(kCoalesceMs);
    connect(&m_previewTimer, &QTimer::timeout, this, &ExportDialog::refreshPreview);
    m_progressTimer.setInterval(kProgressPollMs);
    connect(&m_progressTimer, &QTimer::timeout, this, [this] {
        const int v = m_permille ? m_permille->load() : -1;
        m_progress->setRange(0, v < 0 ? 0 : 1000);
        if (v >= 0)
            setProgressValue(m_progress, v);
    });
    connect(&m_watcher, &QFutureWatcher<RunResult>::finished, this, &ExportDialog::onFinished);
    updateOptionRows();
    updateDefaultOutput();
    refreshPreview();
    resize(1100, 680);
}

ExportDialog::~ExportDialog() {
    cancelExport();
    m_watcher.waitForFinished();
}

void ExportDialog::setTarget(ExportTarget target) {
    m_target->setCurrentIndex(m_target->findData(static_cast<int>(target)));
}

ExportTarget ExportDialog::target() const {
    return static_cast<ExportTarget>(m_target->currentData().toInt());
}

void ExportDialog::setSchemeSpec(const QString& spec) {
    m_scheme->setText(spec);
    m_useScheme->setChecked(true);
}

void ExportDialog::setPlanPath(const QString& path) {
    m_plan->setText(path);
    m_usePlan->setChecked(true);
}

QString ExportDialog::planPath() const {
    return m_plan->text();
}

bool ExportDialog::usesPlan() const {
    return m_usePlan->isChecked();
}

void ExportDialog::setOutputPath(const QString& path) {
    m_outputEdited = true;
    m_output->setText(path);
}

QString ExportDialog::outputPath() const {
    return m_output->text();
}

QString ExportDialog::previewText() const {
    return m_preview->toPlainText();
}

QStringList ExportDialog::warnings() const {
    QStringList out;
    for (int i = 0; i < m_warnings->count(); ++i)
        out << m_warnings->item(i)->text();
    return out;
}

QString ExportDialog::errorText() const {
    return m_error->text();
}

bool ExportDialog::isExporting() const {
    return m_watcher.isRunning();
}

void ExportDialog::schedulePreview() {
    m_previewTimer.start();
}

void ExportDialog::updateOptionRows() {
    const ExportTarget t = target();
    const bool command = isCommandTarget(t) || t == ExportTarget::Torchao;
    m_optionsForm->setRowVisible(m_model, command);
    m_optionsForm->setRowVisible(m_outputDir, command);
    m_optionsForm->setRowVisible(m_computeDtype, t == ExportTarget::HfConfig);
    m_optionsForm->setRowVisible(m_alignment, t == ExportTarget::Gguf);
    m_optionsForm->setRowVisible(m_ggufName, t == ExportTarget::Gguf);
}

void ExportDialog::updateDefaultOutput() {
    if (m_outputEdited)
        return;
    const QString input = QString::fromStdString(m_checkpoint->path());
    const QFileInfo info(input);
    const QString dir = info.isDir() ? info.absolutePath() : info.absoluteDir().path();
    const QString tag = usesPlan() ? QStringLiteral("plan") : m_scheme->text().trimmed();
    const QString name = defaultExportFileName(target(), input, tag, usesPlan());
    m_output->setText(QDir(dir).filePath(name));
}

void ExportDialog::browseOutput() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export to"), m_output->text(), QString(), nullptr,
                                     QFileDialog::DontConfirmOverwrite);
    if (!path.isEmpty())
        setOutputPath(path);
}

void ExportDialog::browsePlan() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Plan file"), m_plan->text(),
                                                      tr("Plans (*.json);;All files (*)"));
    if (!path.isEmpty())
        setPlanPath(path);
}

std::optional<ExportSelection> ExportDialog::makeSelection(QString* error) {
    m_loadedPlan.reset();
    Result<ExportSelection> sel = makeError("no selection");
    if (usesPlan()) {
        if (m_plan->text().isEmpty()) {
            *error = tr("Choose a plan file, or export a scheme");
            return std::nullopt;
        }
        auto plan = loadPlan(m_plan->text().toStdString());
        if (!plan) {
            *error = QString::fromStdString(plan.message());
            return std::nullopt;
        }
        m_loadedPlan = std::move(plan).value();
        sel = selectForExport(*m_checkpoint, *m_loadedPlan);
    } else {
        auto scheme = Scheme::parse(m_scheme->text().trimmed().toStdString());
        if (!scheme) {
            *error = QString::fromStdString(scheme.message());
            return std::nullopt;
        }
        sel = selectForExport(*m_checkpoint, *scheme);
    }
    if (!sel) {
        *error = QString::fromStdString(sel.message());
        return std::nullopt;
    }
    return std::move(sel).value();
}

ExportOptions ExportDialog::options() const {
    ExportOptions o;
    o.config.modelPath = m_model->text().trimmed().toStdString();
    o.config.outPath = m_output->text().trimmed().toStdString();
    o.config.outputDir = m_outputDir->text().trimmed().toStdString();
    o.config.computeDtype = m_computeDtype->currentData().toString().toStdString();
    o.ggufAlignment = static_cast<std::uint32_t>(m_alignment->value());
    o.modelName = m_ggufName->text().trimmed().toStdString();
    if (const ImatrixFile* f = m_importance ? m_importance->imatrix() : nullptr) {
        o.imatrix = f;
        o.config.imatrixPath = f->path;
    }
    return o;
}

void ExportDialog::setImportance(std::shared_ptr<const ActivationSource> source) {
    m_importance = source && source->imatrix() ? std::move(source) : nullptr;
    refreshPreview();
}

void ExportDialog::refreshPreview() {
    m_previewTimer.stop();
    if (isExporting())
        return;
    QString error;
    const auto sel = makeSelection(&error);
    m_warnings->clear();
    ExportPreview p;
    if (sel) {
        const ExportTarget t = target();
        if (exportWritesWeights(t))
            p = describeWeightExport(t, *sel, m_output->text().trimmed());
        else
            p = describeConfigExport(t, *sel, options().config, &error);
    }
    if (!error.isEmpty()) {
        m_summary->setText(tr("Nothing to export"));
        m_preview->setPlainText(error);
    } else {
        m_summary->setText(p.summary);
        m_preview->setPlainText(p.text);
        m_warnings->addItems(p.warnings);
    }
    if (m_warnings->count() == 0)
        m_warnings->addItem(tr("nothing: the target expresses the choice exactly"));
    showError(error);
    m_exportButton->setEnabled(error.isEmpty() && !m_output->text().trimmed().isEmpty());
}

void ExportDialog::showError(const QString& message) {
    m_error->setStyleSheet(QStringLiteral("color: #C0392B;"));
    m_error->setText(firstLine(message));
    m_error->setToolTip(message);
}

void ExportDialog::startExport() {
    if (isExporting())
        return;
    refreshPreview();
    QString error;
    auto sel = makeSelection(&error);
    const QString out = m_output->text().trimmed();
    if (!sel || out.isEmpty()) {
        showError(error.isEmpty() ? tr("Choose where to write the export") : error);
        return;
    }
    std::vector<std::string> inputs{m_checkpoint->path()};
    const QFileInfo input(QString::fromStdString(m_checkpoint->path()));
    const QString config = (input.isDir() ? QDir(input.filePath()) : input.dir())
                               .filePath(QStringLiteral("config.json"));
    if (QFileInfo::exists(config))
        inputs.push_back(config.toStdString()); // an hf-config export must not replace it
    if (usesPlan())
        inputs.push_back(m_plan->text().toStdString());
    if (m_importance)
        inputs.push_back(m_importance->imatrix()->path);
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_permille = std::make_shared<std::atomic<int>>(-1);
    ExportOptions opts = options();
    opts.progress = [cancel = m_cancel, permille = m_permille](double f) {
        permille->store(static_cast<int>(std::clamp(f, 0.0, 1.0) * 1000.0));
        return !cancel->load();
    };
    const ExportTarget t = target();
    // The checkpoint and the selection's tensor pointers stay alive in the task's captures.
    auto task = [t, sel = std::move(*sel), ckpt = m_checkpoint, out = out.toStdString(),
                 inputs = std::move(inputs), opts = std::move(opts),
                 importance = m_importance]() -> RunResult { // opts.imatrix lives in importance
        RunResult r;
        try {
            auto done = runExport(t, sel, out, inputs, opts);
            if (!done) {
                r.message = QString::fromStdString(done.message());
                return r;
            }
            r.ok = true;
            r.message = QString::fromStdString(done->summary);
            for (const auto& w : done->warnings)
                r.warnings << QString::fromStdString(w);
            for (const auto& f : done->files)
                r.files << QString::fromStdString(f);
        } catch (const std::exception& e) {
            r.message = QString::fromUtf8(e.what());
        }
        return r;
    };
    showError({});
    setRunning(true);
    m_watcher.setFuture(QtConcurrent::run(workPool(), std::move(task)));
}

void ExportDialog::cancelExport() {
    if (m_cancel)
        m_cancel->store(true);
}

void ExportDialog::setRunning(bool running) {
    m_progress->setVisible(running);
    m_progress->setRange(0, 0);
    m_exportButton->setEnabled(!running);
    m_cancelButton->setText(running ? tr("Cancel") : tr("Close"));
    for (QWidget* w : {static_cast<QWidget*>(m_target), static_cast<QWidget*>(m_scheme),
                       static_cast<QWidget*>(m_plan), static_cast<QWidget*>(m_output)})
        w->setEnabled(!running);
    if (running)
        m_progressTimer.start();
    else
        m_progressTimer.stop();
}

void ExportDialog::onFinished() {
    setRunning(false);
    const RunResult r = m_watcher.result();
    if (!r.ok) {
        const bool cancelled = m_cancel && m_cancel->load();
        showError(cancelled ? tr("Export cancelled; nothing was written") : r.message);
        Q_EMIT exportFinished(false, m_error->text());
        return;
    }
    m_summary->setText(tr("Wrote %1").arg(r.message));
    m_preview->appendPlainText(QStringLiteral("\n") + tr("Written:"));
    for (const QString& f : r.files)
        m_preview->appendPlainText(QStringLiteral("  ") + f);
    m_warnings->clear();
    m_warnings->addItems(r.warnings);
    if (r.warnings.isEmpty())
        m_warnings->addItem(tr("nothing: the target expresses the choice exactly"));
    m_error->setText(tr("Exported %1").arg(QFileInfo(r.files.value(0)).fileName()));
    m_error->setStyleSheet(QStringLiteral("color: #1E7B34;"));
    Q_EMIT exportFinished(true, r.message);
}

void ExportDialog::reject() {
    if (isExporting()) {
        cancelExport(); // the Cancel button: stop writing, keep the dialog
        return;
    }
    QDialog::reject();
}

} // namespace qs
