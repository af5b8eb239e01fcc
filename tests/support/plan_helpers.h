#pragma once
// The plan tests' shared step (header-only, QtTest).

#include "plan/planner.h"

#include <QtGlobal>

#include <utility>

namespace qs::test {

// solvePlan under a budget of `bpw` bits per weight; a failure ends the test program with why.
inline PlanSolution solveAt(const PlanMeasurements& m, double bpw) {
    PlanBudget b;
    b.bitsPerWeight = bpw;
    auto s = solvePlan(m, b);
    if (!s)
        qFatal("%s", s.message().c_str());
    return std::move(s).value();
}

} // namespace qs::test
