#pragma once
// What every background controller of the window shares: the jobs in flight (watcher, cancel
// flag, generation, kind), a single-shot timer that coalesces bursts of requests, and the
// busy/idle book-keeping. A subclass says which jobs are still wanted (isCurrent) and starts
// them with track(); superseding means bumping its generation and cancelling the old flags.
// GUI thread only; shutdownJobs() cancels everything and waits for it.

#include <QObject>
#include <QTimer>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

class QFutureWatcherBase;

namespace qs {

class BackgroundController : public QObject {
    Q_OBJECT
public:
    bool isBusy() const { return m_busy; }

Q_SIGNALS:
    void busyChanged(bool busy);
    // Everything requested so far has finished (or failed) and been delivered.
    void idle();

protected:
    struct Job {
        int kind;
        quint64 generation;
        QFutureWatcherBase* watcher;
        std::shared_ptr<std::atomic<bool>> cancel;
    };

    BackgroundController(int coalesceMs, QObject* parent);

    // A job nobody has superseded: its results are still wanted.
    virtual bool isCurrent(const Job& job) const = 0;

    // Registers a started job; when its watcher finishes the job is dropped and busy/idle
    // re-evaluated. Returns the flag the worker must poll.
    void track(int kind, quint64 generation, QFutureWatcherBase* watcher,
               std::shared_ptr<std::atomic<bool>> cancel);
    void cancelJobs(const std::function<bool(const Job&)>& which);
    void cancelAllJobs() {
        cancelJobs([](const Job&) { return true; });
    }
    bool hasCurrentJob() const;
    bool hasJobs() const { return !m_jobs.empty(); }
    // Cancels every job and waits for them; afterwards isShutDown() is true. Idempotent.
    void shutdownJobs();
    bool isShutDown() const { return m_shutDown; }
    // Recomputes busy (a pending coalesce or a current job still running) and says so.
    void updateBusy();
    // updateBusy(), then idle() if nothing is left.
    void settle();

    QTimer m_coalesce;

private:
    void jobFinished(QFutureWatcherBase* watcher);

    std::vector<Job> m_jobs;
    bool m_busy = false;
    bool m_shutDown = false;
};

} // namespace qs
