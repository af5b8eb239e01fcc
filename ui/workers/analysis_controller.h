#pragma once
// Runs everything that takes time for the window: opening a checkpoint, and for the selected
// (tensor, scheme) the decode, statistics, analysis and bit sweep (see tensor_job.h), on the
// global thread pool. Results come back as signals on the GUI thread.
//
// A newer request supersedes an older one: the older job's cancel flag is set and whatever it
// still delivers is ignored (a generation counter tells them apart). Bursts of scheme or tensor
// changes are coalesced by a short single-shot timer. The current tensor's float values are
// cached. All member functions are for the GUI thread; none blocks except shutdown().

#include "workers/background_controller.h"
#include "workers/tensor_job.h"

#include <QString>

#include <memory>

namespace qs {

class AnalysisController : public BackgroundController {
    Q_OBJECT
public:
    static constexpr int kCoalesceMs = 40;

    explicit AnalysisController(QObject* parent = nullptr);
    ~AnalysisController() override;

    void openCheckpoint(const QString& path);
    // Analyses `name` of the open checkpoint under the current scheme (coalesced).
    void setTensor(const QString& name);
    void setScheme(const Scheme& scheme);
    // The input activations schemes that need them use (the Model tab's); null: none. Analyses
    // again when the scheme needs them, or when an importance matrix comes or goes (it gives
    // every scheme an output error).
    void setActivations(std::shared_ptr<const ActivationSource> activations);
    void rerun();
    // Sets the cancel flag of the current work; it stops at its next progress check.
    void cancel();
    // Cancels all work and waits for it; afterwards nothing is emitted. Idempotent.
    void shutdown();

    std::shared_ptr<const Checkpoint> checkpoint() const { return m_checkpoint; }
    const QString& tensor() const { return m_tensor; }
    const Scheme& scheme() const { return m_scheme; }

Q_SIGNALS:
    void checkpointOpened(std::shared_ptr<const qs::Checkpoint> checkpoint);
    void openFailed(const QString& path, const QString& message);
    void statsReady(const QString& tensor, const qs::DistributionStats& stats);
    void analysisReady(const QString& tensor, std::shared_ptr<const qs::TensorAnalysis> analysis,
                       std::shared_ptr<const qs::AnalysisPlots> plots);
    void sweepReady(const QString& tensor, std::shared_ptr<const qs::SweepPlot> sweep);
    void analysisFailed(const QString& message);
    // The scheme does not apply to this tensor (its shape does not fit the format's blocks).
    void analysisNotApplicable(const QString& tensor, const QString& message);
    void cancelled();
    void progressChanged(double fraction); // in [0, 1]; negative: indeterminate

private:
    enum class JobKind { Open, Tensor };

    void scheduleAnalysis();
    void startAnalysis();
    void supersedeAnalysis();
    bool isCurrent(JobKind kind, quint64 generation) const;
    bool isCurrent(const Job& job) const override;
    void handleUpdate(const TensorUpdate& update);

    quint64 m_openGeneration = 0;
    quint64 m_analysisGeneration = 0;

    std::shared_ptr<const Checkpoint> m_checkpoint;
    QString m_tensor;
    Scheme m_scheme;
    bool m_hasScheme = false;
    std::shared_ptr<const ActivationSource> m_activations;

    QString m_cachedTensor;
    std::shared_ptr<const std::vector<float>> m_cachedValues;
    DistributionStats m_cachedStats;
};

} // namespace qs
