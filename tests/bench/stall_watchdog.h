#pragma once
// For the GUI benchmarks (diagnosis only): with QS_STALL_STACKS=1, a watchdog thread signals the
// GUI thread once its timer has not ticked for 40 ms (and every 60 ms while that lasts), and the
// handler prints the GUI thread's stack (glibc backtrace) to stderr. tick(ns) is called from the
// GUI thread's timer.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <execinfo.h>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace qs::bench {

class StallWatchdog {
public:
    StallWatchdog() {
        const char* env = std::getenv("QS_STALL_STACKS");
        if (!env || std::atoi(env) <= 0)
            return;
        // backtrace's first call loads libgcc_s (dlopen, malloc): made here, not in the handler,
        // which could interrupt the GUI thread inside malloc and deadlock on the arena's lock.
        void* warm[1];
        backtrace(warm, 1);
        std::signal(SIGUSR2, dumpStack);
        // QS_STALL_STACKS=N with N > 1: at N ms into a stall instead of 40.
        const long long firstNs = std::atoi(env) > 1 ? std::atoi(env) * 1'000'000LL : 40'000'000LL;
        const pthread_t gui = pthread_self();
        m_thread = std::thread([this, gui, firstNs] {
            long long reported = -1, reportedAt = 0;
            while (!m_quit) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                const long long t = m_lastTickNs.load(), now = nowNs();
                // At 40 ms (or N) into a stall, then every 60 ms while it lasts.
                if (t > 0 && now - t > firstNs &&
                    (t != reported || now - reportedAt > 60'000'000)) {
                    reported = t;
                    reportedAt = now;
                    pthread_kill(gui, SIGUSR2);
                }
            }
        });
    }
    ~StallWatchdog() {
        m_quit = true;
        if (m_thread.joinable())
            m_thread.join();
    }
    void tick() { m_lastTickNs = nowNs(); }

private:
    static long long nowNs() {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    static void dumpStack(int) {
        void* frames[64];
        const int n = backtrace(frames, 64);
        const char header[] = "--- GUI thread stack during a stall ---\n";
        (void)!write(2, header, sizeof header - 1);
        backtrace_symbols_fd(frames, n, 2);
    }
    std::atomic<bool> m_quit{false};
    std::atomic<long long> m_lastTickNs{0};
    std::thread m_thread;
};

} // namespace qs::bench
