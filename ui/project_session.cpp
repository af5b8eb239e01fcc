#include "project_session.h"

#include "charts/weight_histogram_chart.h"
#include "main_window.h"
#include "panels/compare_tab.h"
#include "panels/model_tab.h"
#include "panels/scheme_panel.h"
#include "panels/tensor_browser_panel.h"
#include "panels/tensor_tab.h"
#include "workers/analysis_controller.h"

#include <QByteArray>
#include <QStringList>

namespace qs {

Project captureProject(const MainWindow& w) {
    Project p;
    if (const auto ckpt = w.controller()->checkpoint())
        p.paths.push_back(ckpt->path());
    p.tensor = w.browser()->currentTensor().toStdString();
    p.scheme = w.schemePanel()->scheme().toString();
    for (const Scheme& s : w.compareTab()->schemes())
        p.compareSchemes.push_back(s.toString());
    p.planPath = w.planPath().toStdString();
    if (auto schemes = w.modelTab()->schemes())
        for (const Scheme& s : *schemes)
            p.sweepSchemes.push_back(s.toString());
    const ActivationFile activations = w.modelTab()->activationsChoice();
    p.activations = activations.path.toStdString();
    p.activationsTensor = activations.tensor.toStdString();
    p.activeTab = w.currentTabName().toStdString();
    p.logHistogram = w.tensorTab()->weightChart()->isLogScale();
    p.windowState = w.saveState().toBase64().toStdString();
    p.windowGeometry = w.saveGeometry().toBase64().toStdString();
    return p;
}

QString restoreProject(MainWindow& w, const Project& p) {
    QStringList notes;
    if (!p.windowGeometry.empty())
        w.restoreGeometry(QByteArray::fromBase64(QByteArray::fromStdString(p.windowGeometry)));
    if (!p.windowState.empty() &&
        !w.restoreState(QByteArray::fromBase64(QByteArray::fromStdString(p.windowState))))
        notes << QObject::tr("the dock layout");
    if (!p.scheme.empty()) {
        if (auto s = Scheme::parse(p.scheme))
            w.setScheme(*s);
        else
            notes << QObject::tr("the scheme %1").arg(QString::fromStdString(p.scheme));
    }
    for (std::size_t i = 0; i < p.compareSchemes.size(); ++i)
        if (!w.compareTab()->setSlotSpec(static_cast<int>(i),
                                         QString::fromStdString(p.compareSchemes[i])))
            notes << QObject::tr("compare slot %1").arg(i + 1);
    w.setPlanPath(QString::fromStdString(p.planPath));
    // The sweep's schemes and activations before the checkpoint opens, so its sweep uses them.
    if (!p.sweepSchemes.empty()) {
        QStringList specs;
        for (const auto& s : p.sweepSchemes)
            specs << QString::fromStdString(s);
        w.modelTab()->setSchemesText(specs.join(QStringLiteral(", ")));
    }
    const ActivationFile activations{QString::fromStdString(p.activations),
                                     QString::fromStdString(p.activationsTensor)};
    if (const ActivationFile now = w.modelTab()->activationsChoice();
        (now.path != activations.path || now.tensor != activations.tensor) &&
        !w.modelTab()->setActivations(activations.path, activations.tensor))
        notes << QObject::tr("the activations %1").arg(activations.path);
    w.tensorTab()->weightChart()->setLogScale(p.logHistogram);
    if (!p.activeTab.empty() && !w.setCurrentTab(QString::fromStdString(p.activeTab)))
        notes << QObject::tr("the tab %1").arg(QString::fromStdString(p.activeTab));
    if (!p.paths.empty())
        w.openCheckpoint(QString::fromStdString(p.paths.front()), QString::fromStdString(p.tensor));
    if (p.paths.size() > 1)
        notes
            << QObject::tr("%1 more checkpoints (one is shown at a time)").arg(p.paths.size() - 1);
    if (notes.isEmpty())
        return {};
    return QObject::tr("Could not restore %1").arg(notes.join(QStringLiteral(", ")));
}

} // namespace qs
