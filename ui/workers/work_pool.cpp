#include "workers/work_pool.h"

#include <QThread>

#include <algorithm>
#include <latch>
#include <memory>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace qs {
namespace {

constexpr int kBackgroundNice = 10;

void lowerThisThreadsPriority() {
#ifdef __linux__
    // Per thread on Linux (a thread id is a process id to setpriority); errors are harmless.
    // QS_NO_NICE=1 keeps the normal priority (to measure the difference).
    if (!qEnvironmentVariableIsSet("QS_NO_NICE"))
        setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kBackgroundNice);
#endif
}

} // namespace

void makeBackgroundPool(QThreadPool& pool, int threads) {
    pool.setMaxThreadCount(threads);
    pool.setExpiryTimeout(-1); // threads are kept, with their priority
    // `threads` tasks that wait for each other take that many distinct threads: each lowers
    // its own.
    auto all = std::make_shared<std::latch>(threads);
    for (int i = 0; i < threads; ++i)
        pool.start([all] {
            lowerThisThreadsPriority();
            all->arrive_and_wait();
        });
}

QThreadPool* workPool() {
    static QThreadPool* pool = [] {
        auto* p = new QThreadPool; // leaked on purpose: jobs may outlive static destruction order
        makeBackgroundPool(*p, std::max(2, QThread::idealThreadCount()));
        return p;
    }();
    return pool;
}

} // namespace qs
