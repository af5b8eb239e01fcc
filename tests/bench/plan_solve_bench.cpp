// How long the plan solver takes on a 70B-class problem (the Plan tab's budget slider solves
// inline on the GUI thread; the Pareto curve solves at 32+ budgets on the work pool):
// 723 tensors (Llama-70B's count) x 8 candidates with error falling 4x per bit, seeded, medians
// of `repeats` solves at 3, 4.5 and 6 bits per weight, then of the curve.
//   plan_solve_bench [repeats]

#include "plan/planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace qs;

namespace {

PlanMeasurements problem() {
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    PlanMeasurements m;
    const char* specs[] = {"int2:g64", "int3:g64", "int4:g64", "int5:g64",
                           "int6:g64", "int8:g64", "nf4:g64",  "q4_k"};
    const double bpw[] = {2.25, 3.26, 4.27, 5.28, 6.29, 8.3, 4.5, 4.5};
    for (const char* s : specs)
        m.candidates.push_back(*Scheme::parse(s));
    for (int i = 0; i < 723; ++i) {
        TensorMeasurement t;
        t.name = "t" + std::to_string(i);
        t.elements = 8192ull * 8192 / static_cast<std::uint64_t>(1 + i % 4);
        t.sumSqRef = static_cast<double>(t.elements);
        const double scale = jitter(rng);
        for (int k = 0; k < 8; ++k) {
            PlanOption o;
            o.scheme = m.candidates[static_cast<size_t>(k)];
            o.bits = static_cast<std::uint64_t>(bpw[k] * static_cast<double>(t.elements));
            o.sqErr =
                static_cast<double>(t.elements) * scale * std::pow(4.0, -bpw[k]) * jitter(rng);
            t.options.push_back(o);
        }
        m.elements += t.elements;
        m.sumSqRef += t.sumSqRef;
        m.tensors.push_back(std::move(t));
    }
    return m;
}

template <class F> double medianMs(int repeats, F&& f) {
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 9;
    const PlanMeasurements m = problem();
    for (double bpw : {3.0, 4.5, 6.0}) {
        PlanBudget b;
        b.bitsPerWeight = bpw;
        double rel = 0;
        const double ms = medianMs(repeats, [&] { rel = solvePlan(m, b)->relRmse; });
        std::printf("solve at %.1f bpw: %.2f ms (rel_rmse %.6f)\n", bpw, ms, rel);
    }
    size_t points = 0;
    const double ms = medianMs(repeats, [&] { points = paretoCurve(m, 32).size(); });
    std::printf("Pareto curve (32 budgets + 8 candidates): %.1f ms, %zu points\n", ms, points);
    return 0;
}
