// Benchmark (not a test): how soon the window answers a parameter change on a large tensor.
// Opens PATH at TENSOR in the main window (offscreen), waits until everything is idle, then sets
// each scheme in turn as the scheme panel does and times, from the change: the first analysis
// drawn (a preview of sampled rows for a large tensor), the exact analysis drawn, and the
// largest gap of a 5 ms timer meanwhile (the event loop's longest stall). Each scheme is set
// REPEAT times (default 3) alternating with the first one; medians are printed.
// QS_STALL_STACKS=1 prints the GUI thread's stack during each stall.
//
//   gui_latency_bench PATH TENSOR "int4:g128, nf4:g64, hqq4:g64, q4_k" [REPEAT]

#include "main_window.h"
#include "quant/scheme.h"
#include "stall_watchdog.h"
#include "util/huge_pages.h"
#include "util/malloc_tuning.h"
#include "workers/analysis_controller.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    qs::runWithHugePages(argv); // as the application does
    qs::keepLargeBuffersMapped();
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    if (argc < 4) {
        std::fprintf(stderr, "usage: gui_latency_bench PATH TENSOR SCHEMES [REPEAT]\n");
        return 2;
    }
    std::vector<qs::Scheme> schemes;
    for (const QString& spec : QString::fromLocal8Bit(argv[3]).split(',', Qt::SkipEmptyParts)) {
        auto s = qs::Scheme::parse(spec.trimmed().toStdString());
        if (!s) {
            std::fprintf(stderr, "%s\n", s.message().c_str());
            return 2;
        }
        schemes.push_back(s.value());
    }
    const int repeat = argc > 4 ? std::max(1, atoi(argv[4])) : 3;
    qs::MainWindow window(false);
    window.resize(1600, 1000);
    window.show();

    // The plan: every scheme is set REPEAT times, each time coming from another scheme (scheme
    // 0 comes from scheme 1, the others from scheme 0), so every change is a real one.
    if (schemes.size() < 2) {
        std::fprintf(stderr, "give at least two schemes\n");
        return 2;
    }
    struct Step {
        std::size_t scheme;
        bool record;
    };
    std::vector<Step> plan;
    for (int r = 0; r < repeat; ++r)
        for (std::size_t k = 0; k < schemes.size(); ++k) {
            plan.push_back({k == 0 ? 1 : k, k != 0});
            plan.push_back({0, k == 0});
        }
    struct Timing {
        double first = -1, exact = -1, stall = 0;
        bool preview = false;
    };
    std::vector<std::vector<Timing>> timings(schemes.size());
    std::size_t step = 0;
    bool started = false; // false while the checkpoint opens under scheme 0
    Timing current;
    QElapsedTimer clock;
    qint64 lastTick = 0;
    QTimer tick;
    tick.setInterval(5);
    qs::bench::StallWatchdog watchdog; // QS_STALL_STACKS=1: the GUI thread's stack in a stall
    QObject::connect(&tick, &QTimer::timeout, [&] {
        watchdog.tick();
        const qint64 now = clock.nsecsElapsed();
        current.stall = std::max(current.stall, static_cast<double>(now - lastTick) / 1e6);
        lastTick = now;
    });
    auto next = [&] {
        if (step >= plan.size()) {
            tick.stop();
            std::printf("%-14s %10s %10s %10s %8s\n", "scheme", "first ms", "exact ms", "stall ms",
                        "preview");
            for (std::size_t k = 0; k < schemes.size(); ++k) {
                std::vector<double> f, e, s;
                bool preview = false;
                for (const Timing& t : timings[k]) {
                    f.push_back(t.first);
                    e.push_back(t.exact);
                    s.push_back(t.stall);
                    preview = preview || t.preview;
                }
                std::printf("%-14s %10.1f %10.1f %10.1f %8s\n", schemes[k].toString().c_str(),
                            median(f), median(e), median(s), preview ? "yes" : "no");
            }
            app.exit(0);
            return;
        }
        current = Timing{};
        clock.restart();
        lastTick = 0;
        window.setScheme(schemes[plan[step].scheme]);
    };
    // Connected after the window's own slots: runs once the window has drawn the result.
    QObject::connect(window.controller(), &qs::AnalysisController::analysisReady, &app,
                     [&](const QString&, auto, std::shared_ptr<const qs::AnalysisPlots> plots) {
                         const double ms = clock.nsecsElapsed() / 1e6;
                         if (current.first < 0) {
                             current.first = ms;
                             current.preview = plots->isPreview();
                         }
                         if (!plots->isPreview())
                             current.exact = ms;
                     });
    QObject::connect(&window, &qs::MainWindow::idle, &app, [&] {
        if (current.exact < 0)
            return; // idle before the change was seen (the coalescing timer)
        if (started) {
            if (plan[step].record)
                timings[plan[step].scheme].push_back(current);
            ++step;
        }
        started = true;
        QTimer::singleShot(50, &app, next);
    });
    QObject::connect(&window, &qs::MainWindow::errorShown, &app, [&](const QString& m) {
        std::fprintf(stderr, "error: %s\n", qPrintable(m));
        app.exit(1);
    });
    window.setScheme(schemes[0]);
    window.openCheckpoint(QString::fromLocal8Bit(argv[1]), QString::fromLocal8Bit(argv[2]));
    clock.start();
    tick.start();
    return QApplication::exec();
}
