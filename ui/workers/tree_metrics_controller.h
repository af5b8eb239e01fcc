#pragma once
// Fills the tensor tree's bpw and SQNR columns: every quantizable tensor of the open checkpoint
// analysed under the current scheme, one after another on a private low-priority thread (so the
// selected tensor's analysis never waits behind it). Results are cached per (tensor, canonical
// spec) while the checkpoint stays open, so switching back to a scheme is instant.
//
// A new scheme or checkpoint supersedes the running pass: its cancel flag is set and what it still
// delivers is ignored (generation counter). GUI thread only; shutdown() waits for the worker.

#include "io/checkpoint.h"
#include "models/tensor_metric.h"
#include "quant/scheme.h"
#include "workers/background_controller.h"

#include <QHash>
#include <QString>
#include <QThreadPool>

#include <QSet>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace qs {

class ActivationSource;

class TreeMetricsController : public BackgroundController {
    Q_OBJECT
public:
    static constexpr int kCoalesceMs = 120;

    explicit TreeMetricsController(QObject* parent = nullptr);
    ~TreeMetricsController() override;

    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    void setScheme(const Scheme& scheme);
    // The Model tab's activations, for schemes that need them (null: none chosen).
    void setActivations(std::shared_ptr<const ActivationSource> activations);
    // A result computed elsewhere (the selected tensor's full analysis) for the cache; a running
    // job skips that tensor if it has not reached it yet.
    void store(const QString& tensor, const Scheme& scheme, const TensorMetric& metric);
    // The tensor the detail view is analysing: measured last, and only after waiting a while
    // (kFocusWaitMs) for the detail view's own result through store(), so the same analysis is
    // not run twice at once (a file of one tensor would otherwise be analysed twice per edit).
    void setFocus(const QString& tensor) { m_focus = tensor; }
    static constexpr int kFocusWaitMs = 10000;
    void cancel();
    void shutdown();

    int cachedCount() const { return static_cast<int>(m_cache.size()); }

Q_SIGNALS:
    // The columns now belong to a new scheme or checkpoint: clear them.
    void metricsReset();
    void metricReady(const QString& tensor, const qs::TensorMetric& metric);

private:
    void restart();
    void start();
    bool isCurrent(const Job& job) const override { return job.generation == m_generation; }
    static QString key(const QString& tensor, const QString& spec);

    QThreadPool m_pool;
    std::shared_ptr<const Checkpoint> m_checkpoint;
    Scheme m_scheme;
    bool m_hasScheme = false;
    std::shared_ptr<const ActivationSource> m_activations;
    QString m_spec;
    QHash<QString, TensorMetric> m_cache; // key(tensor, spec)
    QString m_focus;
    // Tensors stored() while the current job runs (its spec), for the job to skip.
    struct Stored {
        std::mutex mutex;
        std::condition_variable changed;
        QSet<QString> names;
        bool contains(const QString& name) {
            std::lock_guard lock(mutex);
            return names.contains(name);
        }
        // Waits until `name` is stored, `cancel` is set (seen within 50 ms) or `ms` pass.
        bool waitFor(const QString& name, const std::atomic<bool>& cancel, int ms);
    };
    std::shared_ptr<Stored> m_stored;
    quint64 m_generation = 0;
    quint64 m_checkpointEpoch = 0; // results of an older checkpoint are not cached
};

} // namespace qs
