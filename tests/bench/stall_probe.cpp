// Benchmark (not a test): the machine's own floor for gui_stall_bench. The main thread sleeps
// 5 ms at a time and records the largest gap between wake-ups, as the GUI's timer does, while
// THREADS threads spin at nice 10 (as the GUI's workers run); no Qt, no files, no memory
// traffic. A gap here is the operating system's or the hypervisor's, not the application's:
// read gui_stall_bench's largest gap against it, measured just before or after on the same
// machine.
//
//   qs-stall-probe [SECONDS=17] [THREADS=nproc] [REPORT_MS=30]
//
// Prints each gap over REPORT_MS as it ends (with CLOCK_MONOTONIC, to line it up with
// gui_stall_bench's), then the largest gap, the 99th percentile and the count over 50 ms.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace {

double monotonicSeconds() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void spin(const std::atomic<bool>& stop, std::atomic<unsigned long long>& sink) {
#ifdef __linux__
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
#endif
    unsigned long long x = 0;
    while (!stop.load(std::memory_order_relaxed))
        for (int i = 0; i < 100000; ++i)
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    sink += x; // an observable result, so the loop is kept
}

} // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 17.0;
    const int threads =
        argc > 2 ? std::atoi(argv[2]) : static_cast<int>(std::thread::hardware_concurrency());
    const double reportMs = argc > 3 ? std::atof(argv[3]) : 30.0;
    if (seconds <= 0 || threads < 0 || reportMs <= 0) {
        std::fprintf(stderr, "usage: qs-stall-probe [SECONDS>0] [THREADS>=0] [REPORT_MS>0]\n");
        return 2;
    }

    std::atomic<bool> stop{false};
    std::atomic<unsigned long long> sink{0};
    std::vector<std::thread> spinners;
    for (int i = 0; i < threads; ++i)
        spinners.emplace_back(spin, std::cref(stop), std::ref(sink));

    std::vector<double> gaps;
    const timespec tick{0, 5'000'000};
    const double start = monotonicSeconds();
    double previous = start;
    while (previous - start < seconds) {
        nanosleep(&tick, nullptr);
        const double now = monotonicSeconds();
        const double gapMs = (now - previous) * 1e3;
        gaps.push_back(gapMs);
        if (gapMs > reportMs)
            std::printf("gap of %.1f ms ending at %.2f s (CLOCK_MONOTONIC %.3f s)\n", gapMs,
                        now - start, now);
        previous = now;
    }
    stop = true;
    for (std::thread& t : spinners)
        t.join();

    std::sort(gaps.begin(), gaps.end());
    const auto over50 = gaps.end() - std::upper_bound(gaps.begin(), gaps.end(), 50.0);
    std::printf("%d spinning threads (nice 10), %.0f s: %zu ticks, largest gap %.1f ms, p99 %.1f "
                "ms, %td over 50 ms (timer interval 5 ms)\n",
                threads, seconds, gaps.size(), gaps.back(), gaps[gaps.size() * 99 / 100], over50);
    return 0;
}
