#pragma once
// Runs the whole-model sweep behind the Model and Plan tabs: every quantizable tensor of the
// open checkpoint under each requested scheme (core's measurePlanCandidates, in parallel), with
// progress, cancel and each tensor handed out as soon as it is measured. Results are cached per
// (tensor, scheme) while the file stays open: a later sweep measures only the schemes not yet
// measured and merges them in. GUI thread only; none of it blocks except shutdown().

#include "methods/activation_source.h"
#include "plan/planner.h"
#include "workers/background_controller.h"

#include <QString>

#include <memory>
#include <vector>

namespace qs {

class SweepController : public BackgroundController {
    Q_OBJECT
public:
    explicit SweepController(QObject* parent = nullptr);
    ~SweepController() override;

    // A new checkpoint drops the cache and cancels a sweep in flight.
    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    // The layers' input activations, for each option's output error (null: none). A change
    // drops the cache and cancels a sweep in flight, as a new checkpoint does: the next sweep
    // measures every scheme again. Synthetic ones are generated for each width in the sweep's
    // worker, not here.
    void setActivations(std::shared_ptr<const ActivationSource> activations);
    std::shared_ptr<const ActivationSource> activations() const { return m_activations; }
    std::shared_ptr<const Checkpoint> checkpoint() const { return m_checkpoint; }
    // Measures what the cache lacks of `schemes`, then delivers them all (finished()).
    void sweep(const std::vector<Scheme>& schemes);
    void cancel();
    void shutdown();

    // Everything measured so far (all schemes ever swept on this file); null before any sweep.
    std::shared_ptr<const PlanMeasurements> cache() const { return m_cache; }
    const std::vector<Scheme>& requested() const { return m_requested; }

Q_SIGNALS:
    void started(const std::vector<qs::Scheme>& schemes);
    // One tensor under the schemes being measured (partial results, completion order).
    void tensorMeasured(const qs::TensorMeasurement& tensor);
    void progressChanged(double fraction);
    // The requested schemes on every tensor (cached and new, in request order).
    void finished(std::shared_ptr<const qs::PlanMeasurements> measurements);
    void failed(const QString& message);
    void cancelled();

private:
    struct Update;
    void start();
    void handle(const Update& update);
    bool isCurrent(const Job& job) const override { return job.generation == m_generation; }
    void deliver();

    quint64 m_generation = 0;
    std::shared_ptr<const Checkpoint> m_checkpoint;
    std::shared_ptr<const ActivationSource> m_activations;
    std::shared_ptr<const PlanMeasurements> m_cache;
    std::vector<Scheme> m_requested;
};

} // namespace qs
