#include "workers/analysis_controller.h"

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

OpenOutput openInBackground(const QString& path) {
    OpenOutput out;
    try {
        auto opened = Checkpoint::open(path.toStdString());
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

AnalysisController::AnalysisController(QObject* parent) : QObject(parent) {
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(kCoalesceMs);
    connect(&m_coalesce, &QTimer::timeout, this, &AnalysisController::startAnalysis);
}

AnalysisController::~AnalysisController() {
    shutdown();
}

void AnalysisController::openCheckpoint(const QString& path) {
    if (m_shutDown)
        return;
    // The current checkpoint stays analysable until the new one has opened.
    const quint64 generation = ++m_openGeneration;
    auto cancelFlag = std::make_shared<std::atomic<bool>>(false);
    auto* watcher = new QFutureWatcher<OpenOutput>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation, path] {
        if (!m_shutDown && isCurrent(JobKind::Open, generation)) {
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
        jobFinished(watcher);
    });
    m_jobs.push_back({JobKind::Open, generation, watcher, cancelFlag});
    watcher->setFuture(QtConcurrent::run([path] { return openInBackground(path); }));
    updateBusy();
    Q_EMIT progressChanged(-1.0);
}

void AnalysisController::setTensor(const QString& name) {
    if (m_shutDown)
        return;
    m_tensor = name;
    if (!m_checkpoint)
        return;
    if (!m_checkpoint->find(name.toStdString())) {
        supersedeAnalysis();
        updateBusy();
        Q_EMIT analysisFailed(QStringLiteral("no tensor named '%1' in %2")
                                  .arg(name, QString::fromStdString(m_checkpoint->path())));
        if (!m_busy)
            Q_EMIT idle();
        return;
    }
    scheduleAnalysis();
}

void AnalysisController::setScheme(const Scheme& scheme) {
    if (m_shutDown || (m_hasScheme && scheme == m_scheme))
        return;
    m_scheme = scheme;
    m_hasScheme = true;
    scheduleAnalysis();
}

void AnalysisController::rerun() {
    scheduleAnalysis();
}

void AnalysisController::cancel() {
    bool any = m_coalesce.isActive();
    for (const Job& job : m_jobs)
        any = any || isCurrent(job.kind, job.generation);
    if (!any)
        return;
    // Abandon, then let the workers notice: their late results belong to an old generation.
    supersedeAnalysis();
    ++m_openGeneration;
    for (const Job& job : m_jobs)
        job.cancel->store(true);
    updateBusy();
    Q_EMIT cancelled();
    if (!m_busy)
        Q_EMIT idle();
}

void AnalysisController::shutdown() {
    if (m_shutDown)
        return;
    m_shutDown = true;
    m_coalesce.stop();
    for (const Job& job : m_jobs)
        job.cancel->store(true);
    for (const Job& job : m_jobs)
        job.watcher->waitForFinished();
}

void AnalysisController::scheduleAnalysis() {
    if (m_shutDown || !m_checkpoint || m_tensor.isEmpty() || !m_hasScheme)
        return;
    supersedeAnalysis();
    m_coalesce.start();
    updateBusy();
}

void AnalysisController::supersedeAnalysis() {
    m_coalesce.stop();
    ++m_analysisGeneration;
    for (const Job& job : m_jobs)
        if (job.kind == JobKind::Tensor)
            job.cancel->store(true);
}

void AnalysisController::startAnalysis() {
    const TensorInfo* info = m_checkpoint ? m_checkpoint->find(m_tensor.toStdString()) : nullptr;
    if (m_shutDown || !info) {
        updateBusy();
        return;
    }
    TensorRequest request{m_checkpoint, *info, m_scheme, nullptr};
    if (m_cachedValues && m_cachedTensor == m_tensor) {
        request.values = m_cachedValues;
        Q_EMIT statsReady(m_tensor, m_cachedStats);
    }
    const quint64 generation = m_analysisGeneration;
    auto cancelFlag = std::make_shared<std::atomic<bool>>(false);
    auto* watcher = new QFutureWatcher<TensorUpdate>(this);
    connect(watcher, &QFutureWatcherBase::resultReadyAt, this,
            [this, watcher, generation](int index) {
                if (!m_shutDown && isCurrent(JobKind::Tensor, generation))
                    handleUpdate(watcher->resultAt(index));
            });
    connect(watcher, &QFutureWatcherBase::progressValueChanged, this,
            [this, generation](int value) {
                if (!m_shutDown && isCurrent(JobKind::Tensor, generation))
                    Q_EMIT progressChanged(static_cast<double>(value) / kJobProgressRange);
            });
    connect(watcher, &QFutureWatcherBase::finished, this,
            [this, watcher] { jobFinished(watcher); });
    m_jobs.push_back({JobKind::Tensor, generation, watcher, cancelFlag});
    std::shared_ptr<const std::atomic<bool>> readOnlyFlag = cancelFlag;
    watcher->setFuture(QtConcurrent::run([request, readOnlyFlag](QPromise<TensorUpdate>& promise) {
        runTensorJob(promise, request, readOnlyFlag);
    }));
    updateBusy();
    Q_EMIT progressChanged(0.0);
}

bool AnalysisController::isCurrent(JobKind kind, quint64 generation) const {
    return kind == JobKind::Open ? generation == m_openGeneration
                                 : generation == m_analysisGeneration;
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

void AnalysisController::jobFinished(QFutureWatcherBase* watcher) {
    const auto it = std::find_if(m_jobs.begin(), m_jobs.end(),
                                 [watcher](const Job& j) { return j.watcher == watcher; });
    if (it != m_jobs.end())
        m_jobs.erase(it);
    watcher->deleteLater();
    if (m_shutDown)
        return;
    updateBusy();
    if (!m_busy)
        Q_EMIT idle();
}

void AnalysisController::updateBusy() {
    bool busy = m_coalesce.isActive();
    for (const Job& job : m_jobs)
        busy = busy || (isCurrent(job.kind, job.generation) && !job.cancel->load());
    if (busy == m_busy)
        return;
    m_busy = busy;
    Q_EMIT busyChanged(busy);
}

} // namespace qs
