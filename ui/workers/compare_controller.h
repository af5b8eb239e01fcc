#pragma once
// Runs the Compare tab's work (compare_job.h) on the global thread pool: the selected tensor under
// up to three schemes. Work happens only while the tab is active (setActive), and only when the
// (tensor, schemes) request differs from what was last delivered. A newer request supersedes an
// older one (cancel flag + generation counter); bursts are coalesced by a short timer; the
// current tensor's values are cached. GUI thread only; none of it blocks except shutdown().

#include "workers/background_controller.h"
#include "workers/compare_job.h"

#include <QString>

#include <memory>
#include <vector>

namespace qs {

class CompareController : public BackgroundController {
    Q_OBJECT
public:
    static constexpr int kCoalesceMs = 40;

    explicit CompareController(QObject* parent = nullptr);
    ~CompareController() override;

    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    void setTensor(const QString& name);
    void setSchemes(const std::vector<Scheme>& schemes);
    // The Model tab's activations (or importance matrix), for schemes that need them and the
    // output error; null: none.
    void setActivations(std::shared_ptr<const ActivationSource> activations);
    void setActive(bool active);
    void cancel();
    void shutdown();

    const std::vector<Scheme>& schemes() const { return m_schemes; }

Q_SIGNALS:
    void weightsReady(const QString& tensor, std::shared_ptr<const qs::HistogramPlot> weights);
    void resultReady(const QString& tensor, int slot,
                     std::shared_ptr<const qs::CompareResult> result);
    void failed(const QString& message);

private:
    void invalidate();
    void start();
    void handleUpdate(const CompareUpdate& update);
    bool isCurrent(const Job& job) const override { return job.generation == m_generation; }

    quint64 m_generation = 0;
    bool m_active = false;
    bool m_upToDate = false;

    std::shared_ptr<const Checkpoint> m_checkpoint;
    QString m_tensor;
    std::vector<Scheme> m_schemes;
    std::shared_ptr<const ActivationSource> m_activations;
    QString m_cachedTensor;
    std::shared_ptr<const std::vector<float>> m_cachedValues;
};

} // namespace qs
