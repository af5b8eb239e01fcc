// Benchmark (not a test): how long the GUI's event loop is ever blocked while the Model tab
// sweeps a whole checkpoint. Opens PATH in the main window (offscreen) once the window has
// painted itself, shows the Model tab with the given schemes, and lets a 5 ms timer measure the
// largest gap between its ticks until the sweep has finished and every tab is idle. Prints the
// sweep's wall time, the largest stall and the 99th-percentile tick gap.
//
//   gui_stall_bench PATH [SCHEMES]     e.g. "int4:g128, nf4:g64, q4_k, mxfp4"
//
// The compute backend is the application's: QS_BACKEND=auto|cpu|cuda (default auto: the GPU where
// there is one and this build has CUDA). QS_ACTIVATIONS=SOURCE sweeps with the Model tab's
// activations set to SOURCE first (synthetic:TOKENS:OUTLIERS:SCALE, a file, an imatrix).
// QS_STALL_MS=N prints each stall over N ms (default 50) as it ends; QS_STALL_STACKS=1 also
// prints the GUI thread's stack (glibc backtrace) while a stall is under way; QS_LOG_EVENTS_MS=N
// prints each event the GUI thread spends over N ms of CPU on (and the paints inside it), and
// QS_LOG_RESIZES=1 each widget resized. In a VM, thread CPU time can include the hypervisor's
// pauses (a busy loop here saw 25 ms of "CPU" in one 51 ms gap of a microsecond iteration).

#include "main_window.h"
#include "models/sensitivity_model.h"
#include "panels/model_tab.h"
#include "stall_watchdog.h"
#include "util/huge_pages.h"
#include "util/malloc_tuning.h"
#include "widgets/backend_selector.h"
#include "workers/sweep_controller.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QPaintEvent>
#include <QResizeEvent>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#ifdef QS_HAVE_CUDA
#include "cuda/cuda_engine.h"
#endif

namespace {

// Milliseconds the hypervisor ran something else while this machine wanted its vCPUs ("steal"
// in /proc/stat, all CPUs summed); -1 where there is no such figure. In the 2-vCPU VM these
// benchmarks ran on, steal comes as pauses of both vCPUs at once, about 40 ms every 2 s while
// both are busy (probes pinned to each vCPU see them together, with any busy load).
double stealMs() {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    long long v[8] = {};
    if (!(stat >> cpu) || cpu != "cpu")
        return -1;
    for (long long& x : v)
        if (!(stat >> x))
            return -1;
    return static_cast<double>(v[7]) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// QS_LOG_RESIZES=1: every widget resized during the sweep (a resize repaints the widget and
// often its neighbours: what makes a repaint cover the whole window).
class ResizeLogger : public QObject {
public:
    QElapsedTimer* clock = nullptr;
    bool eventFilter(QObject* o, QEvent* e) override {
        if (e->type() == QEvent::Resize && clock->isValid()) {
            const auto* r = static_cast<QResizeEvent*>(e);
            std::printf("resize %.3f s %s \"%s\" %dx%d -> %dx%d\n", clock->nsecsElapsed() / 1e9,
                        o->metaObject()->className(), qPrintable(o->objectName()),
                        r->oldSize().width(), r->oldSize().height(), r->size().width(),
                        r->size().height());
        }
        return false;
    }
};

// QS_LOG_EVENTS_MS=N: every event the GUI thread takes longer than N ms of CPU to handle (timed
// at the outermost dispatch), with its receiver and type; the CPU time of the thread, so time
// lost to the hypervisor's pauses or other threads does not count.
class TimedApplication : public QApplication {
public:
    using QApplication::QApplication;
    qint64 logAboveNs = 0;
    QElapsedTimer* clock = nullptr;
    bool notify(QObject* receiver, QEvent* event) override {
        if (logAboveNs <= 0)
            return QApplication::notify(receiver, event);
        if (m_depth > 0) { // inside: the paint events that take a quarter of the threshold
            if (event->type() != QEvent::Paint)
                return QApplication::notify(receiver, event);
            const QRect r = static_cast<QPaintEvent*>(event)->rect();
            const qint64 cpu0 = threadCpuNs();
            const bool done = QApplication::notify(receiver, event);
            const qint64 cpu = threadCpuNs() - cpu0;
            if (cpu > logAboveNs / 4)
                std::printf("  paint %.1f ms cpu: %s \"%s\" %dx%d+%d+%d\n", cpu / 1e6,
                            receiver->metaObject()->className(), qPrintable(receiver->objectName()),
                            r.width(), r.height(), r.x(), r.y());
            return done;
        }
        const QEvent::Type type = event->type(); // the event may not outlive the dispatch
        const QByteArray what = QByteArray(receiver->metaObject()->className()) + " \"" +
                                receiver->objectName().toUtf8() + "\"";
        const qint64 cpu0 = threadCpuNs(), wall0 = clock->isValid() ? clock->nsecsElapsed() : 0;
        ++m_depth;
        const bool done = QApplication::notify(receiver, event);
        --m_depth;
        const qint64 cpu = threadCpuNs() - cpu0;
        if (cpu > logAboveNs && clock->isValid())
            std::printf("event at %.3f s: %.1f ms cpu, %.1f ms wall, type %d to %s\n", wall0 / 1e9,
                        cpu / 1e6, (clock->nsecsElapsed() - wall0) / 1e6, static_cast<int>(type),
                        what.constData());
        return done;
    }

private:
    static qint64 threadCpuNs() {
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return t.tv_sec * 1'000'000'000LL + t.tv_nsec;
    }
    int m_depth = 0;
};

} // namespace

int main(int argc, char** argv) {
    qs::runWithHugePages(argv); // as the application does
    qs::keepLargeBuffersMapped();
    qputenv("QT_QPA_PLATFORM", "offscreen");
    TimedApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: gui_stall_bench PATH [SCHEMES]\n");
        return 2;
    }
#ifdef QS_HAVE_CUDA
    qs::cuda::registerCudaEngine();
#endif
    qs::MainWindow window(false);
    const auto backend = qs::parseBackend(
        qEnvironmentVariableIsSet("QS_BACKEND") ? qgetenv("QS_BACKEND").toStdString() : "auto");
    if (!backend) {
        std::fprintf(stderr, "QS_BACKEND must be auto, cpu or cuda\n");
        return 2;
    }
    window.backendSelector()->apply(*backend);
    window.resize(1600, 1000);
    window.show();
    if (argc > 2)
        window.modelTab()->setSchemesText(QString::fromLocal8Bit(argv[2]));

    // Stalls longer than QS_STALL_MS (default 50) are printed as they happen.
    const qint64 stallReportNs = qEnvironmentVariableIntValue("QS_STALL_MS") > 0
                                     ? qEnvironmentVariableIntValue("QS_STALL_MS") * 1'000'000LL
                                     : 50'000'000LL;
    std::vector<qint64> gaps;
    QElapsedTimer clock, sweep;
    double stealAtStart = 0;
    QTimer tick;
    tick.setInterval(5);
    qint64 last = 0;
    int measured = 0;
    QObject::connect(window.sweepController(), &qs::SweepController::tensorMeasured,
                     [&](const qs::TensorMeasurement&) { ++measured; });
    app.logAboveNs = qEnvironmentVariableIntValue("QS_LOG_EVENTS_MS") * 1'000'000LL;
    app.clock = &clock;
    ResizeLogger resizes;
    resizes.clock = &clock;
    if (qEnvironmentVariableIsSet("QS_LOG_RESIZES"))
        app.installEventFilter(&resizes);
    qs::bench::StallWatchdog watchdog; // QS_STALL_STACKS=1: the GUI thread's stack in a stall
    QObject::connect(&tick, &QTimer::timeout, [&] {
        watchdog.tick();
        const qint64 now = clock.nsecsElapsed();
        gaps.push_back(now - last);
        if (now - last > stallReportNs) // where a long stall happened: time and sweep progress
            std::printf("stall of %.0f ms ending at %.2f s (CLOCK_MONOTONIC %.3f s), %d tensors "
                        "measured\n",
                        (now - last) / 1e6, now / 1e9,
                        static_cast<double>(clock.msecsSinceReference()) / 1e3 + now / 1e9,
                        measured),
                std::fflush(stdout);
        last = now;
    });
    QObject::connect(window.sweepController(), &qs::SweepController::started,
                     [&](const std::vector<qs::Scheme>&) {
                         sweep.start();
                         stealAtStart = stealMs();
                         clock.start();
                         last = 0;
                         watchdog.tick(); // a stall right after the start is caught too
                         tick.start();
                     });
    bool failed = false;
    QObject::connect(window.sweepController(), &qs::SweepController::failed, [&](const QString& m) {
        std::fprintf(stderr, "sweep failed: %s\n", qPrintable(m));
        failed = true;
        app.exit(1);
    });
    QObject::connect(
        window.sweepController(), &qs::SweepController::finished,
        [&](const std::shared_ptr<const qs::PlanMeasurements>& m) {
            const double seconds = static_cast<double>(sweep.nsecsElapsed()) / 1e9;
            // Let the tabs draw what arrived, then stop measuring.
            QTimer::singleShot(500, [&, seconds, m] {
                tick.stop();
                std::sort(gaps.begin(), gaps.end());
                const double maxMs = gaps.empty() ? 0 : gaps.back() / 1e6;
                const double p99 = gaps.empty() ? 0 : gaps[gaps.size() * 99 / 100] / 1e6;
                const qs::BackendStatus computed = qs::backendStatus();
                std::printf("computed on %s (%s)\n",
                            std::string(qs::backendName(computed.active)).c_str(),
                            computed.device.c_str());
                std::printf("tensors %zu, schemes %zu, weights %llu%s\n", m->tensors.size(),
                            m->candidates.size(), static_cast<unsigned long long>(m->elements),
                            qs::hasOutputError(*m) ? ", with output errors" : "");
                std::printf("sweep %.2f s; event loop: %zu ticks, largest gap %.1f ms, "
                            "p99 %.1f ms (timer interval 5 ms); steal %.0f ms\n",
                            seconds, gaps.size(), maxMs, p99, stealMs() - stealAtStart);
                app.exit(0);
            });
        });
    // The window first paints itself once, as it does at start-up before anyone can open a
    // file (its first paint loads the font's glyphs: 70-90 ms here); then the checkpoint opens
    // and the Model tab is shown, which starts the sweep.
    QTimer::singleShot(300, [&] {
        if (qEnvironmentVariableIsSet("QS_ACTIVATIONS") &&
            !window.modelTab()->setActivations(qEnvironmentVariable("QS_ACTIVATIONS"))) {
            std::fprintf(stderr, "QS_ACTIVATIONS: not usable\n");
            app.exit(2);
            return;
        }
        window.openCheckpoint(QString::fromLocal8Bit(argv[1]));
        window.setCurrentTab(QStringLiteral("model"));
    });
    const int rc = QApplication::exec();
    return failed ? 1 : rc;
}
