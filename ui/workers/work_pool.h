#pragma once
// The thread pool the window's background work runs on. Not QThreadPool::globalInstance():
// Qt 6.4's raster engine borrows global-pool threads to paint, and blocks the GUI thread until
// one is free, so long jobs there froze painting for seconds (2.5 s while a 1B-parameter sweep
// ran; tests/bench/gui_stall_bench). GUI thread or any; the pool lives until exit.

#include <QThread>
#include <algorithm>
#include <QThreadPool>

namespace qs {

inline QThreadPool* workPool() {
    static QThreadPool* pool = [] {
        auto* p = new QThreadPool; // leaked on purpose: jobs may outlive static destruction order
        p->setMaxThreadCount(std::max(2, QThread::idealThreadCount()));
        return p;
    }();
    return pool;
}

} // namespace qs
