#include "workers/compare_controller.h"
#include "workers/work_pool.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace qs {

CompareController::CompareController(QObject* parent) : BackgroundController(kCoalesceMs, parent) {
    connect(&m_coalesce, &QTimer::timeout, this, &CompareController::start);
}

CompareController::~CompareController() {
    shutdown();
}

void CompareController::setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint) {
    m_checkpoint = std::move(checkpoint);
    m_tensor.clear();
    m_cachedTensor.clear();
    m_cachedValues.reset();
    invalidate();
}

void CompareController::setTensor(const QString& name) {
    if (name == m_tensor)
        return;
    m_tensor = name;
    invalidate();
}

void CompareController::setActivations(std::shared_ptr<const ActivationSource> activations) {
    if (activations == m_activations)
        return;
    m_activations = std::move(activations);
    invalidate();
}

void CompareController::setSchemes(const std::vector<Scheme>& schemes) {
    if (schemes == m_schemes)
        return;
    m_schemes = schemes;
    invalidate();
}

void CompareController::setActive(bool active) {
    m_active = active;
    if (active && !m_upToDate)
        invalidate();
}

void CompareController::cancel() {
    if (hasJobs() || m_coalesce.isActive())
        m_upToDate = false;
    m_coalesce.stop();
    ++m_generation;
    cancelAllJobs();
    updateBusy();
}

void CompareController::shutdown() {
    shutdownJobs();
}

void CompareController::invalidate() {
    if (isShutDown())
        return;
    cancel();
    m_upToDate = false;
    if (m_active && m_checkpoint && !m_tensor.isEmpty() && !m_schemes.empty())
        m_coalesce.start();
    updateBusy();
}

void CompareController::start() {
    const TensorInfo* info = m_checkpoint ? m_checkpoint->find(m_tensor.toStdString()) : nullptr;
    if (isShutDown() || !info) {
        updateBusy();
        return;
    }
    CompareRequest request{m_checkpoint, *info, m_schemes, nullptr, m_activations};
    if (m_cachedValues && m_cachedTensor == m_tensor)
        request.values = m_cachedValues;
    m_upToDate = true;
    const quint64 generation = m_generation;
    auto cancelFlag = std::make_shared<std::atomic<bool>>(false);
    auto* watcher = new QFutureWatcher<CompareUpdate>(this);
    watcher->setObjectName(QStringLiteral("compareWatcher")); // named in event logs
    connect(watcher, &QFutureWatcherBase::resultReadyAt, this,
            [this, watcher, generation](int index) {
                if (!isShutDown() && generation == m_generation)
                    handleUpdate(watcher->resultAt(index));
            });
    track(0, generation, watcher, cancelFlag);
    std::shared_ptr<const std::atomic<bool>> flag = cancelFlag;
    watcher->setFuture(
        QtConcurrent::run(workPool(), [request, flag](QPromise<CompareUpdate>& promise) {
            runCompareJob(promise, request, flag);
        }));
}

void CompareController::handleUpdate(const CompareUpdate& update) {
    switch (update.stage) {
    case CompareUpdate::Stage::Values:
        m_cachedTensor = update.tensor;
        m_cachedValues = update.values;
        Q_EMIT weightsReady(update.tensor, update.weights);
        break;
    case CompareUpdate::Stage::Scheme:
        Q_EMIT resultReady(update.tensor, update.slot, update.result);
        break;
    case CompareUpdate::Stage::Failed:
        if (!update.cancelled)
            Q_EMIT failed(update.error);
        else
            m_upToDate = false; // abandoned half way: recompute when asked again
        break;
    }
}

} // namespace qs
