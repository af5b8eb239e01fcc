#include "workers/tree_metrics_controller.h"

#include "workers/work_pool.h"

#include "analysis/stream_analysis.h"
#include "analysis/tensor_analysis.h"
#include "workers/tensor_job.h"

#include <QFutureWatcher>
#include <QPromise>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>

namespace qs {
namespace {

struct MetricItem {
    QString tensor;
    TensorMetric metric;
};

TensorMetric failedMetric(const Error& error) {
    TensorMetric m;
    m.status =
        isNotApplicable(error) ? TensorMetric::Status::NotApplicable : TensorMetric::Status::Failed;
    m.message = QString::fromStdString(error.message);
    return m;
}

// Tensors up to this many bytes of float32 are read whole; larger ones stream.
constexpr std::int64_t kWholeReadBytes = std::int64_t{256} << 20;

// One tensor's analysis: read whole as floats when it is small (one read, no pipeline: what an
// interactive edit wants), else streamed in chunks of rows (core/analysis/stream_analysis.h) so a
// 128256 x 4096 embedding costs 64 MiB of floats at a time rather than 2 GiB at once. Either way
// the mapped pages are given back once decoded (decodeRows): the tree walks every tensor.
// Schemes that need activations (q4_k:imatrix, gptq) read the tensor whole and run with the
// Model tab's (or q4_k:imatrix with its importance matrix); without them they do not apply here.
Result<TensorAnalysis> analyzeOne(const Checkpoint& checkpoint, const TensorInfo& t,
                                  const Scheme& scheme, const ActivationSource* activations,
                                  const ProgressFn& keepGoing) {
    if (needsActivations(scheme)) {
        AnalysisOptions options;
        std::optional<ActivationSource> scratch;
        std::optional<ImportanceWeights> importance;
        if (auto st = layerInputs(activations, t, scheme, t.cols(), options, scratch, importance);
            !st)
            return makeError(st.message(), ErrorKind::NotApplicable);
        auto values = decodeRows(checkpoint, t, 0, t.rows());
        if (!values)
            return values.error();
        return analyzeTensor(matrixView(t, *values), scheme, options, keepGoing);
    }
    if (t.numel() * 4 <= kWholeReadBytes) {
        auto values = decodeRows(checkpoint, t, 0, t.rows());
        if (!values)
            return values.error();
        return analyzeTensor(matrixView(t, *values), scheme, {}, keepGoing);
    }
    const TensorInfo* one[] = {&t};
    const Scheme schemes[] = {scheme};
    std::optional<Result<TensorAnalysis>> result;
    const Status st = analyzeStreamed(
        checkpoint, one, schemes, StreamOptions{},
        [&result](StreamedTensor&& done) { result = std::move(done.results.front()); }, keepGoing);
    if (!st)
        return st.error();
    if (!result)
        return makeError("no analysis of " + t.name);
    return std::move(*result);
}

// One tensor; never throws. Returns false (and nothing) when cancelled.
bool measure(const Checkpoint& checkpoint, const TensorInfo& t, const Scheme& scheme,
             const ActivationSource* activations, const std::atomic<bool>& cancel,
             TensorMetric& out) {
    try {
        const auto keepGoing = [&cancel](double) {
            return !cancel.load(std::memory_order_relaxed);
        };
        auto a = analyzeOne(checkpoint, t, scheme, activations, keepGoing);
        if (!a) {
            if (a.error().kind == ErrorKind::Cancelled || cancel.load())
                return false;
            out = failedMetric(a.error());
            return true;
        }
        out.status = TensorMetric::Status::Ok;
        out.error = a->error;
        out.cost = a->cost;
    } catch (const std::exception& e) {
        out = failedMetric(makeError(std::string("analysis failed: ") + e.what()));
    } catch (...) {
        out = failedMetric(makeError("analysis failed with an unknown error"));
    }
    return true;
}

} // namespace

bool TreeMetricsController::Stored::waitFor(const QString& name, const std::atomic<bool>& cancel,
                                            int ms) {
    std::unique_lock lock(mutex);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!names.contains(name) && !cancel.load() && std::chrono::steady_clock::now() < until)
        changed.wait_for(lock, std::chrono::milliseconds(50));
    return names.contains(name);
}

TreeMetricsController::TreeMetricsController(QObject* parent)
    : BackgroundController(kCoalesceMs, parent) {
    makeBackgroundPool(m_pool, 1); // its own: one tensor at a time, behind the work pool's jobs
    connect(&m_coalesce, &QTimer::timeout, this, &TreeMetricsController::start);
}

TreeMetricsController::~TreeMetricsController() {
    shutdown();
}

QString TreeMetricsController::key(const QString& tensor, const QString& spec) {
    return spec + QLatin1Char('\n') + tensor;
}

void TreeMetricsController::setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint) {
    m_checkpoint = std::move(checkpoint);
    m_cache.clear();
    ++m_checkpointEpoch;
    restart();
}

void TreeMetricsController::setScheme(const Scheme& scheme) {
    if (m_hasScheme && scheme == m_scheme)
        return;
    m_scheme = scheme;
    m_hasScheme = true;
    m_spec = QString::fromStdString(scheme.toString());
    restart();
}

void TreeMetricsController::setActivations(std::shared_ptr<const ActivationSource> activations) {
    if (activations == m_activations)
        return;
    m_activations = std::move(activations);
    // What was measured with the old ones (or said that none were chosen) no longer holds.
    m_cache.removeIf([](QHash<QString, TensorMetric>::iterator it) {
        const auto s = Scheme::parse(it.key().section(QLatin1Char('\n'), 0, 0).toStdString());
        return s && needsActivations(*s);
    });
    if (m_hasScheme && needsActivations(m_scheme))
        restart();
}

void TreeMetricsController::store(const QString& tensor, const Scheme& scheme,
                                  const TensorMetric& metric) {
    const QString spec = QString::fromStdString(scheme.toString());
    m_cache.insert(key(tensor, spec), metric);
    if (spec == m_spec) {
        if (m_stored) {
            std::lock_guard lock(m_stored->mutex);
            m_stored->names.insert(tensor);
            m_stored->changed.notify_all();
        }
        Q_EMIT metricReady(tensor, metric);
    }
}

void TreeMetricsController::cancel() {
    m_coalesce.stop();
    ++m_generation;
    cancelAllJobs();
    updateBusy();
}

void TreeMetricsController::shutdown() {
    shutdownJobs();
}

void TreeMetricsController::restart() {
    if (isShutDown())
        return;
    cancel();
    Q_EMIT metricsReset();
    if (!m_checkpoint || !m_hasScheme) {
        updateBusy();
        return;
    }
    // What is cached shows at once; the rest is computed after a pause (bursts of edits).
    for (const TensorInfo& t : m_checkpoint->tensors()) {
        const QString name = QString::fromStdString(t.name);
        const auto it = m_cache.constFind(key(name, m_spec));
        if (it != m_cache.constEnd())
            Q_EMIT metricReady(name, *it);
    }
    m_coalesce.start();
    updateBusy();
}

void TreeMetricsController::start() {
    if (isShutDown() || !m_checkpoint)
        return;
    std::vector<TensorInfo> todo;
    for (const TensorInfo& t : m_checkpoint->tensors())
        if (isQuantizable(t) && !m_cache.contains(key(QString::fromStdString(t.name), m_spec)))
            todo.push_back(t);
    std::stable_partition(todo.begin(), todo.end(), [this](const TensorInfo& t) {
        return QString::fromStdString(t.name) != m_focus;
    });
    m_stored = std::make_shared<Stored>();
    if (todo.empty()) {
        settle();
        return;
    }
    const quint64 generation = m_generation;
    const QString spec = m_spec;
    const quint64 epoch = m_checkpointEpoch;
    auto cancelFlag = std::make_shared<std::atomic<bool>>(false);
    auto* watcher = new QFutureWatcher<MetricItem>(this);
    watcher->setObjectName(QStringLiteral("treeMetricsWatcher")); // named in event logs
    connect(watcher, &QFutureWatcherBase::resultReadyAt, this,
            [this, watcher, generation, spec, epoch](int index) {
                const MetricItem item = watcher->resultAt(index);
                if (epoch == m_checkpointEpoch)
                    m_cache.insert(key(item.tensor, spec), item.metric);
                if (!isShutDown() && generation == m_generation)
                    Q_EMIT metricReady(item.tensor, item.metric);
            });
    track(0, generation, watcher, cancelFlag);
    std::shared_ptr<const std::atomic<bool>> flag = cancelFlag;
    watcher->setFuture(QtConcurrent::run(
        &m_pool, [checkpoint = m_checkpoint, scheme = m_scheme, todo = std::move(todo), flag,
                  stored = m_stored, focus = m_focus,
                  activations = m_activations](QPromise<MetricItem>& promise) {
            for (const TensorInfo& t : todo) {
                if (flag->load())
                    return;
                MetricItem item{QString::fromStdString(t.name), {}};
                if (item.tensor == focus && stored->waitFor(focus, *flag, kFocusWaitMs))
                    continue; // the detail view's result arrived
                if (stored->contains(item.tensor))
                    continue; // measured by the detail view meanwhile
                if (!measure(*checkpoint, t, scheme, activations.get(), *flag, item.metric))
                    return;
                promise.addResult(std::move(item));
            }
        }));
    updateBusy();
}

} // namespace qs
