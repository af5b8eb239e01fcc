#pragma once
// The thread pool the window's background work runs on. Not QThreadPool::globalInstance():
// Qt 6.4's raster engine borrows global-pool threads to paint, and blocks the GUI thread until
// one is free, so long jobs there froze painting for seconds (2.5 s while a 1B-parameter sweep
// ran; tests/bench/gui_stall_bench). Its threads run at a lower priority (nice 10 on Linux),
// and so do the oneTBB workers they start (threads inherit it), so that while analyses keep
// every core busy the GUI thread still runs the moment it has something to draw (QS_NO_NICE=1
// leaves them at normal priority, for comparison). GUI thread or any; the pool lives until exit.

#include <QThreadPool>

namespace qs {

QThreadPool* workPool();

// Makes `pool` a background pool like workPool(): `threads` threads, kept, each at the lower
// priority. (QThreadPool::setThreadPriority does nothing under Linux's normal scheduler.)
void makeBackgroundPool(QThreadPool& pool, int threads);

} // namespace qs
