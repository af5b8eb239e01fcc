#include "widgets/backend_selector.h"

#include "workers/work_pool.h"

#include <QComboBox>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSignalBlocker>
#include <QtConcurrent/QtConcurrentRun>

namespace qs {
namespace {

const QString kSettingsKey = QStringLiteral("compute/backend");

} // namespace

BackendSelector::BackendSelector(QWidget* parent)
    : QWidget(parent), m_combo(new QComboBox(this)), m_device(new QLabel(this)) {
    setObjectName(QStringLiteral("backendSelector"));
    m_combo->setObjectName(QStringLiteral("backendCombo"));
    m_combo->addItem(tr("Auto"), QStringLiteral("auto"));
    m_combo->addItem(tr("CPU"), QStringLiteral("cpu"));
    m_combo->addItem(tr("CUDA"), QStringLiteral("cuda"));
    m_combo->setToolTip(tr("Where analyses run: Auto takes the GPU when there is one"));
    m_device->setObjectName(QStringLiteral("backendDevice"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 0, 4, 0);
    layout->setSpacing(6);
    layout->addWidget(new QLabel(tr("Compute:"), this));
    layout->addWidget(m_combo);
    layout->addWidget(m_device);
    connect(m_combo, &QComboBox::currentIndexChanged, this, [this] {
        QSettings().setValue(kSettingsKey, m_combo->currentData());
        select(current(), true);
    });
}

Backend BackendSelector::current() const {
    return parseBackend(m_combo->currentData().toString().toStdString()).value_or(Backend::Auto);
}

void BackendSelector::select(Backend choice, bool announce) {
    const int generation = ++m_generation;
    auto finish = [this, choice, announce] {
        const BackendStatus st = selectBackend(choice);
        show(st, choice);
        if (announce)
            Q_EMIT backendChanged(choice == Backend::Cuda ? QString::fromStdString(st.note)
                                                          : QString());
    };
    if (choice == Backend::Cpu) {
        finish();
        return;
    }
    // Opening CUDA (its context) takes a moment: off the GUI thread, then select at once.
    m_device->setText(tr("looking for a GPU…"));
    auto* watcher = new QFutureWatcher<void>(this);
    connect(watcher, &QFutureWatcher<void>::finished, this, [this, watcher, generation, finish] {
        watcher->deleteLater();
        if (generation == m_generation) // else a later choice stands
            finish();
    });
    watcher->setFuture(QtConcurrent::run(workPool(), [] { prepareDeviceEngine(); }));
}

Backend BackendSelector::remembered() {
    const QString v = QSettings().value(kSettingsKey, QStringLiteral("auto")).toString();
    return parseBackend(v.toStdString()).value_or(Backend::Auto);
}

void BackendSelector::apply(Backend choice) {
    {
        const QSignalBlocker block(m_combo);
        m_combo->setCurrentIndex(m_combo->findData(QString::fromUtf8(backendName(choice).data())));
    }
    select(choice, false);
}

void BackendSelector::show(const BackendStatus& st, Backend requested) {
    const bool cuda = st.active == Backend::Cuda;
    QString text = (cuda ? tr("CUDA · %1") : tr("CPU · %1")).arg(QString::fromStdString(st.device));
    // Only a CUDA the user asked for by name and did not get is worth the warning colour.
    const bool missed = requested == Backend::Cuda && !st.note.empty();
    if (missed)
        text += tr(" — CUDA unavailable");
    m_device->setText(text);
    m_device->setStyleSheet(missed ? QStringLiteral("QLabel { color: #B45309; }")
                                   : QStringLiteral("QLabel { color: #505050; }"));
    QString tip = cuda ? tr("Analyses the GPU has kernels for run on %1; the others on the CPU.")
                             .arg(QString::fromStdString(st.device))
                       : tr("Analyses run on the CPU (%1).").arg(QString::fromStdString(st.device));
    if (!st.note.empty())
        tip += QStringLiteral("\n") + QString::fromStdString(st.note);
    else if (!deviceEngineBuilt())
        tip += tr("\nThis build has no CUDA backend.");
    m_device->setToolTip(tip);
}

} // namespace qs
