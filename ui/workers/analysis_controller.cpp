#include "workers/analysis_controller.h"
#include "workers/work_pool.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <exception>

namespace qs {
namespace {

struct OpenOutput {
    std::shared_ptr<const Checkpoint> checkpoint;
    QString error;
};

OpenOutput openInBackground(const QString& path, const std::atomic<bool>& cancel) {
    OpenOutput out;
    try {
        // Opening a folder of many shards stops at the next shard once cancelled.
        auto opened =
            Checkpoint::open(path.toStdString(), [&cancel](double) { return !cancel.load(); });
        if (opened)
            out.checkpoint = std::make_shared<const Checkpoint>(std::move(opened.value()));
        else
            out.error = QString::fromStdString(opened.message());
    } catch (const std::exception& e) {
        out.error = QStringLiteral("cannot open %1: %2").arg(path, QString::fromUtf8(e.what()));
    } catch (...) {
        out.error = QStringLiteral("cannot open %1: unknown error").arg(path);
    }
    return out;
}

} // namespace

AnalysisController::AnalysisController(QObject* parent)
    : BackgroundController(kCoalesceMs, parent) {
    connect(&m_coalesce, &QTimer::timeout, this, &AnalysisController::startAnalysis);
}

AnalysisController::~AnalysisController() {
    shutdown();
}

void AnalysisController::openCheckpoint(const QString& path) {
    if (isShutDown())
        return;
    // The current checkpoint stays analysable until the new one has opened.
    const quint64 generation = ++m_openGeneration;
    auto cancelFlag = std::make_shared<std::atomic<bool>>(false);
    auto* watcher = new QFutureWatcher<OpenOutput>(this);
    watcher->setObjectName(QStringLiteral("openWatcher")); // named in event logs
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation, path] {
        if (!isShutDown() && isCurrent(JobKind::Open, generation)) {
            const OpenOutput out = watcher->result();
            if (out.checkpoint) {
                supersedeAnalysis();
                m_checkpoint = out.checkpoint;
                m_tensor.clear();
                m_cachedTensor.clear();
                m_cachedValues.reset();
                Q_EMIT checkpointOpened(m_checkpoint);
            } else {
                Q_EMIT openFailed(path, out.error);
            }
        }
    });
    track(static_cast<int>(JobKind::Open), generation, watcher, cancelFlag);
    std::shared_ptr<const std::atomic<bool>> flag = cancelFlag;
    watcher->setFuture(
        QtConcurrent::run(workPool(), [path, flag] { return openInBackground(path, *flag); }));
    Q_EMIT progressChanged(-1.0);
}

void AnalysisController::setTensor(const QString& name) {
    if (isShutDown())
        return;
    m_tensor = name;
    if (!m_checkpoint)
        return;
    if (!m_checkpoint->find(name.toStdString())) {
        supersedeAnalysis();
        updateBusy();
        Q_EMIT analysisFailed(QStringLiteral("no tensor named '%1' in %2")
                                  .arg(name, QString::fromStdString(m_checkpoint->path())));
        if (!isBusy())
            Q_EMIT idle();
        return;
    }
    scheduleAnalysis();
}

void AnalysisController::setScheme(const Scheme& scheme) {
    if (isShutDown() || (m_hasScheme && scheme == m_scheme))
        return;
    m_scheme = scheme;
    m_hasScheme = true;
    scheduleAnalysis();
}

void AnalysisController::setActivations(std::shared_ptr<const ActivationSource> activations) {
    if (isShutDown() || activations == m_activations)
        return;
    // An importance matrix gives every scheme its output error: a change to or from one counts.
    const bool importance =
        (m_activations && m_activations->imatrix()) || (activations && activations->imatrix());
    m_activations = std::move(activations);
    if (m_hasScheme && (needsActivations(m_scheme) || importance))
        scheduleAnalysis();
}

void AnalysisController::rerun() {
    scheduleAnalysis();
}

void AnalysisController::cancel() {
    if (!m_coalesce.isActive() && !hasCurrentJob())
        return;
    // Abandon, then let the workers notice: their late results belong to an old generation.
    supersedeAnalysis();
    ++m_openGeneration;
    cancelAllJobs();
    updateBusy();
    Q_EMIT cancelled();
    if (!isBusy())
        Q_EMIT idle();
}

void AnalysisController::shutdown() {
    shutdownJobs();
}

void AnalysisController::scheduleAnalysis() {
    if (isShutDown() || !m_checkpoint || m_tensor.isEmpty() || !m_hasScheme)
        return;
    supersedeAnalysis();
    m_coalesce.start();
    updateBusy();
}

void AnalysisController::supersedeAnalysis() {
    m_coalesce.stop();
    ++m_analysisGeneration;
    cancelJobs([](const Job& job) { return job.kind == static_cast<int>(JobKind::Tensor); });
}

void AnalysisController::startAnalysis() {
    const TensorInfo* info = m_checkpoint ? m_checkpoint->find(m_tensor.toStdString()) : nullptr;
    if (isShutDown() || !info) {
        updateBusy();
        return;
    }
    TensorRequest request{m_checkpoint, *info, m_scheme, nullptr, m_activations};
    if (m_cachedValues && m_cachedTensor == m_tensor) {
        request.values = m_cachedValues;
        Q_EMIT statsReady(m_tensor, m_cachedStats);
    }
    const quint64 generation = m_analysisGeneration;
    auto cancelFlag = std::make_shared<std::atomic<bool>>(false);
    auto* watcher = new QFutureWatcher<TensorUpdate>(this);
    watcher->setObjectName(QStringLiteral("tensorAnalysisWatcher")); // named in event logs
    connect(watcher, &QFutureWatcherBase::resultReadyAt, this,
            [this, watcher, generation](int index) {
                if (!isShutDown() && isCurrent(JobKind::Tensor, generation))
                    handleUpdate(watcher->resultAt(index));
            });
    connect(watcher, &QFutureWatcherBase::progressValueChanged, this,
            [this, generation](int value) {
                if (!isShutDown() && isCurrent(JobKind::Tensor, generation))
                    Q_EMIT progressChanged(static_cast<double>(value) / kJobProgressRange);
            });
    track(static_cast<int>(JobKind::Tensor), generation, watcher, cancelFlag);
    std::shared_ptr<const std::atomic<bool>> readOnlyFlag = cancelFlag;
    watcher->setFuture(
        QtConcurrent::run(workPool(), [request, readOnlyFlag](QPromise<TensorUpdate>& promise) {
            runTensorJob(promise, request, readOnlyFlag);
        }));
    Q_EMIT progressChanged(0.0);
}

bool AnalysisController::isCurrent(JobKind kind, quint64 generation) const {
    return kind == JobKind::Open ? generation == m_openGeneration
                                 : generation == m_analysisGeneration;
}

bool AnalysisController::isCurrent(const Job& job) const {
    return isCurrent(static_cast<JobKind>(job.kind), job.generation);
}

void AnalysisController::handleUpdate(const TensorUpdate& update) {
    switch (update.stage) {
    case TensorUpdate::Stage::Values:
        m_cachedTensor = update.tensor;
        m_cachedValues = update.values;
        m_cachedStats = update.stats;
        Q_EMIT statsReady(update.tensor, update.stats);
        break;
    case TensorUpdate::Stage::Analysis:
        Q_EMIT analysisReady(update.tensor, update.analysis, update.plots);
        break;
    case TensorUpdate::Stage::Sweep:
        Q_EMIT sweepReady(update.tensor, update.sweep);
        break;
    case TensorUpdate::Stage::Failed:
        // A cancelled job was superseded or abandoned; cancel() already said so.
        if (update.notApplicable)
            Q_EMIT analysisNotApplicable(update.tensor, update.error);
        else if (!update.cancelled)
            Q_EMIT analysisFailed(update.error);
        break;
    }
}

} // namespace qs
