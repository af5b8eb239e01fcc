#include "workers/sweep_controller.h"
#include "workers/work_pool.h"

#include "analysis/tensor_analysis.h"
#include "plan/plan_edit.h"

#include <QFutureWatcher>
#include <QMetaType>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace qs {

struct SweepController::Update {
    enum class Stage { Tensor, Progress, Done, Failed };
    Stage stage = Stage::Failed;
    std::shared_ptr<const TensorMeasurement> tensor;
    double fraction = 0;
    std::shared_ptr<const PlanMeasurements> measurements;
    QString error;
    bool cancelled = false;
};

SweepController::SweepController(QObject* parent) : BackgroundController(0, parent) {
    qRegisterMetaType<qs::TensorMeasurement>();
    qRegisterMetaType<std::shared_ptr<const qs::PlanMeasurements>>();
    qRegisterMetaType<std::vector<qs::Scheme>>();
}

SweepController::~SweepController() {
    shutdown();
}

void SweepController::setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint) {
    cancel();
    m_checkpoint = std::move(checkpoint);
    m_cache.reset();
    m_requested.clear();
}

void SweepController::setActivations(std::shared_ptr<const ActivationSource> activations) {
    cancel();
    m_activations = std::move(activations);
    m_cache.reset();
}

void SweepController::cancel() {
    const bool running = hasCurrentJob();
    ++m_generation;
    cancelAllJobs();
    updateBusy();
    if (running)
        Q_EMIT cancelled();
}

void SweepController::shutdown() {
    shutdownJobs();
}

void SweepController::sweep(const std::vector<Scheme>& schemes) {
    if (isShutDown() || !m_checkpoint || schemes.empty())
        return;
    if (hasCurrentJob()) { // superseded quietly: the new request covers it
        ++m_generation;
        cancelAllJobs();
    }
    m_requested = schemes;
    Q_EMIT started(schemes);
    start();
}

void SweepController::start() {
    std::vector<Scheme> missing;
    for (const Scheme& s : m_requested) {
        const bool known =
            m_cache && std::any_of(m_cache->candidates.begin(), m_cache->candidates.end(),
                                   [&](const Scheme& c) { return c == s; });
        if (!known && std::find(missing.begin(), missing.end(), s) == missing.end())
            missing.push_back(s);
    }
    if (missing.empty()) {
        deliver();
        settle();
        return;
    }
    const quint64 generation = ++m_generation;
    auto cancelFlag = std::make_shared<std::atomic<bool>>(false);
    auto* watcher = new QFutureWatcher<Update>(this);
    watcher->setObjectName(QStringLiteral("sweepWatcher")); // named in event logs
    connect(watcher, &QFutureWatcherBase::resultReadyAt, this,
            [this, watcher, generation](int index) {
                if (!isShutDown() && generation == m_generation)
                    handle(watcher->resultAt(index));
            });
    track(0, generation, watcher, cancelFlag);
    std::shared_ptr<const std::atomic<bool>> flag = cancelFlag;
    auto checkpoint = m_checkpoint;
    auto activations = m_activations;
    watcher->setFuture(QtConcurrent::run(workPool(), [checkpoint, activations, missing,
                                                      flag](QPromise<Update>& promise) {
        PlanRequest request;
        request.candidates = missing;
        request.cancel = flag.get();
        // Synthetic activations are generated here, for this sweep's widths only (a loaded
        // matrix is shared as it is: reading it is thread-safe).
        std::optional<ActivationSource> generated;
        const ActivationSource* source = activations.get();
        if (activations && activations->syntheticSpec()) {
            generated =
                ActivationSource::synthetic(*activations->syntheticSpec(), activations->label());
            std::vector<const TensorInfo*> quantized;
            for (const TensorInfo& t : checkpoint->tensors())
                if (isQuantizable(t))
                    quantized.push_back(&t);
            generated->prepareFor(quantized);
            source = &*generated;
        }
        if (source && source->imatrix())
            request.imatrix = source->imatrix(); // an importance matrix instead
        else if (source)
            request.activationsFor = [source](std::int64_t f) { return source->forFeatures(f); };
        request.onTensor = [&](const TensorMeasurement& t) {
            Update u;
            u.stage = Update::Stage::Tensor;
            u.tensor = std::make_shared<const TensorMeasurement>(t);
            promise.addResult(std::move(u));
        };
        auto progress = [&](double f) {
            Update u;
            u.stage = Update::Stage::Progress;
            u.fraction = f;
            promise.addResult(std::move(u));
            return !flag->load();
        };
        auto m = measurePlanCandidates(*checkpoint, request, progress);
        Update u;
        if (m) {
            u.stage = Update::Stage::Done;
            u.measurements = std::make_shared<const PlanMeasurements>(std::move(m).value());
        } else {
            u.cancelled = m.error().kind == ErrorKind::Cancelled;
            u.error = QString::fromStdString(m.message());
        }
        promise.addResult(std::move(u));
    }));
}

void SweepController::handle(const Update& update) {
    switch (update.stage) {
    case Update::Stage::Tensor:
        Q_EMIT tensorMeasured(*update.tensor);
        break;
    case Update::Stage::Progress:
        Q_EMIT progressChanged(update.fraction);
        break;
    case Update::Stage::Done: {
        auto merged = std::make_shared<PlanMeasurements>(m_cache ? *m_cache : PlanMeasurements{});
        if (auto ok = mergeMeasurements(*merged, *update.measurements); !ok) {
            Q_EMIT failed(QString::fromStdString(ok.message()));
            return;
        }
        m_cache = std::move(merged);
        deliver();
        break;
    }
    case Update::Stage::Failed:
        if (!update.cancelled)
            Q_EMIT failed(update.error);
        break;
    }
}

void SweepController::deliver() {
    if (!m_cache)
        return;
    Q_EMIT finished(
        std::make_shared<const PlanMeasurements>(selectCandidates(*m_cache, m_requested)));
}

} // namespace qs
