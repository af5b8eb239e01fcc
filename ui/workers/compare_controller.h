#pragma once
// Runs the Compare tab's work (compare_job.h) on the global thread pool: the selected tensor under
// up to three schemes. Work happens only while the tab is active (setActive), and only when the
// (tensor, schemes) request differs from what was last delivered. A newer request supersedes an
// older one (cancel flag + generation counter); bursts are coalesced by a short timer; the
// current tensor's values are cached. GUI thread only; none of it blocks except shutdown().

#include "workers/compare_job.h"

#include <QObject>
#include <QString>
#include <QTimer>

#include <atomic>
#include <memory>
#include <vector>

class QFutureWatcherBase;

namespace qs {

class CompareController : public QObject {
    Q_OBJECT
public:
    static constexpr int kCoalesceMs = 40;

    explicit CompareController(QObject* parent = nullptr);
    ~CompareController() override;

    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    void setTensor(const QString& name);
    void setSchemes(const std::vector<Scheme>& schemes);
    void setActive(bool active);
    void cancel();
    void shutdown();

    bool isBusy() const { return m_busy; }
    const std::vector<Scheme>& schemes() const { return m_schemes; }

Q_SIGNALS:
    void weightsReady(const QString& tensor, std::shared_ptr<const qs::HistogramPlot> weights);
    void resultReady(const QString& tensor, int slot,
                     std::shared_ptr<const qs::CompareResult> result);
    void failed(const QString& message);
    void busyChanged(bool busy);
    void idle();

private:
    struct Job {
        quint64 generation;
        QFutureWatcherBase* watcher;
        std::shared_ptr<std::atomic<bool>> cancel;
    };

    void invalidate();
    void start();
    void handleUpdate(const CompareUpdate& update);
    void jobFinished(QFutureWatcherBase* watcher);
    void updateBusy();

    QTimer m_coalesce;
    quint64 m_generation = 0;
    std::vector<Job> m_jobs;
    bool m_active = false;
    bool m_upToDate = false;
    bool m_busy = false;
    bool m_shutDown = false;

    std::shared_ptr<const Checkpoint> m_checkpoint;
    QString m_tensor;
    std::vector<Scheme> m_schemes;
    QString m_cachedTensor;
    std::shared_ptr<const std::vector<float>> m_cachedValues;
};

} // namespace qs
