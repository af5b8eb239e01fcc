// MainWindow's File-menu actions beyond opening checkpoints: File → Export… and project files.
// Kept apart from main_window.cpp so that file stays about composing the window.

#include "dialogs/export_dialog.h"
#include "main_window.h"
#include "panels/scheme_panel.h"
#include "project_session.h"
#include "workers/analysis_controller.h"
#include "workers/sweep_controller.h"

#include <QFileDialog>
#include <QFileInfo>

namespace qs {

ExportDialog* MainWindow::showExportDialog() {
    const auto checkpoint = m_controller->checkpoint();
    if (!checkpoint) {
        showError(tr("Open a checkpoint before exporting"));
        return nullptr;
    }
    auto* dialog = new ExportDialog(checkpoint, m_scheme->scheme(), m_planPath, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setImportance(m_sweeps->activations());
    connect(dialog, &ExportDialog::exportFinished, this,
            [this, dialog](bool ok, const QString& message) {
                if (dialog->usesPlan())
                    m_planPath = dialog->planPath();
                if (ok)
                    showNote(tr("Exported: %1").arg(message));
            });
    dialog->show();
    return dialog;
}

bool MainWindow::saveProject(const QString& path) {
    const Status st = qs::saveProject(path.toStdString(), captureProject(*this));
    if (!st) {
        showError(QString::fromStdString(st.message()));
        return false;
    }
    showNote(tr("Saved the project %1").arg(QFileInfo(path).fileName()));
    return true;
}

bool MainWindow::openProject(const QString& path) {
    auto project = loadProject(path.toStdString());
    if (!project) {
        showError(QString::fromStdString(project.message()));
        return false;
    }
    const QString note = restoreProject(*this, *project);
    if (!note.isEmpty())
        showError(note);
    return true;
}

void MainWindow::chooseProjectToOpen() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), QString(),
                                                      tr("Quantscope projects (*.qsproj *.json)"));
    if (!path.isEmpty())
        openProject(path);
}

void MainWindow::chooseProjectToSave() {
    QString path = QFileDialog::getSaveFileName(this, tr("Save project"), QString(),
                                                tr("Quantscope projects (*.qsproj)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".qsproj");
    saveProject(path);
}

} // namespace qs
