#include "workers/background_controller.h"

#include <QFutureWatcherBase>

#include <algorithm>

namespace qs {

BackgroundController::BackgroundController(int coalesceMs, QObject* parent) : QObject(parent) {
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(coalesceMs);
}

void BackgroundController::track(int kind, quint64 generation, QFutureWatcherBase* watcher,
                                 std::shared_ptr<std::atomic<bool>> cancel) {
    connect(watcher, &QFutureWatcherBase::finished, this,
            [this, watcher] { jobFinished(watcher); });
    m_jobs.push_back({kind, generation, watcher, std::move(cancel)});
    updateBusy();
}

void BackgroundController::cancelJobs(const std::function<bool(const Job&)>& which) {
    for (const Job& job : m_jobs)
        if (which(job))
            job.cancel->store(true);
}

bool BackgroundController::hasCurrentJob() const {
    return std::any_of(m_jobs.begin(), m_jobs.end(), [this](const Job& j) { return isCurrent(j); });
}

void BackgroundController::shutdownJobs() {
    if (m_shutDown)
        return;
    m_shutDown = true;
    m_coalesce.stop();
    cancelAllJobs();
    for (const Job& job : m_jobs)
        job.watcher->waitForFinished();
}

void BackgroundController::updateBusy() {
    bool busy = m_coalesce.isActive();
    for (const Job& job : m_jobs)
        busy = busy || (isCurrent(job) && !job.cancel->load());
    if (busy == m_busy)
        return;
    m_busy = busy;
    Q_EMIT busyChanged(busy);
}

void BackgroundController::settle() {
    updateBusy();
    if (!m_busy)
        Q_EMIT idle();
}

void BackgroundController::jobFinished(QFutureWatcherBase* watcher) {
    const auto it = std::find_if(m_jobs.begin(), m_jobs.end(),
                                 [watcher](const Job& j) { return j.watcher == watcher; });
    if (it != m_jobs.end())
        m_jobs.erase(it);
    watcher->deleteLater();
    if (!m_shutDown)
        settle();
}

} // namespace qs
