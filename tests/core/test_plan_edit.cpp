// Editing measured plans (core/plan/plan_edit): merging measurements taken in two sweeps equals
// measuring everything at once, pinning after measuring equals keep rules given up front,
// selecting candidates equals measuring only those; the per-tensor callback and statistics the
// sensitivity map shows.

#include "analysis/tensor_analysis.h"
#include "methods/matrix_imbalance.h"
#include "metrics/distribution_stats.h"
#include "plan/plan_edit.h"
#include "plan_helpers.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <set>

using namespace qs;

namespace {

PlanRequest request(std::initializer_list<const char*> specs) {
    PlanRequest r;
    for (const char* c : specs)
        r.candidates.push_back(*Scheme::parse(c));
    return r;
}

const Checkpoint& sample() {
    static const Checkpoint c = *Checkpoint::open(test::samplePath());
    return c;
}

PlanMeasurements measure(const PlanRequest& r) {
    auto m = measurePlanCandidates(sample(), r);
    if (!m)
        qFatal("%s", m.message().c_str());
    return std::move(m).value();
}

void compareSolutions(const PlanSolution& a, const PlanSolution& b) {
    QCOMPARE(a.bits, b.bits);
    QCOMPARE(a.sqErr, b.sqErr);
    QCOMPARE(a.plan.tensors, b.plan.tensors);
}

} // namespace

class TestPlanEdit : public QObject {
    Q_OBJECT

private slots:
    void mergedSweepsSolveLikeOneSweep() {
        const auto all = measure(request({"int3:g64", "int4:g64", "q4_0", "int8:channel:sym"}));
        auto merged = measure(request({"int3:g64", "q4_0"}));
        QVERIFY(
            mergeMeasurements(merged, measure(request({"int4:g64", "q4_0", "int8:channel:sym"})))
                .ok());
        QCOMPARE(merged.candidates.size(), size_t(4)); // q4_0 is not added twice
        for (size_t i = 0; i < merged.tensors.size(); ++i)
            QCOMPARE(merged.tensors[i].options.size(), all.tensors[i].options.size());
        for (double bpw : {3.5, 4.5, 6.0})
            compareSolutions(test::solveAt(merged, bpw), test::solveAt(all, bpw));
        PlanMeasurements empty;
        QVERIFY(mergeMeasurements(empty, all).ok());
        QCOMPARE(empty.tensors.size(), all.tensors.size());
        PlanMeasurements other = all;
        other.tensors.pop_back();
        QVERIFY(!mergeMeasurements(other, all).ok());
    }

    void pinningAfterMeasuringEqualsKeepRules() {
        auto r = request({"int3:g64", "int4:g64", "q8_0"});
        const auto m = measure(r);
        const std::vector<PlanKeepRule> rules = {{".*embed_tokens.*", "q8_0"}};
        auto pinned = pinTensors(m, rules);
        QVERIFY(pinned.ok());
        r.keep = rules;
        const auto upFront = measure(r);
        compareSolutions(test::solveAt(*pinned, 4.5), test::solveAt(upFront, 4.5));
        QCOMPARE(*test::solveAt(*pinned, 4.5).plan.specFor("model.embed_tokens.weight"),
                 std::string("q8_0"));
        QCOMPARE(pinned->keep.size(), size_t(1));
        // A scheme not measured, an invalid regex and an unknown spec are errors.
        auto unmeasured = pinTensors(m, {{".*embed_tokens.*", "nf4:g64"}});
        QVERIFY(!unmeasured.ok() && unmeasured.message().find("not measured") != std::string::npos);
        QVERIFY(!pinTensors(m, {{"(", "q8_0"}}).ok());
        QVERIFY(!pinTensors(m, {{".*", "nosuch9"}}).ok());
    }

    void exactNameRulesPinOneTensor() {
        const auto m = measure(request({"int3:g64", "q8_0"}));
        const std::string name = m.tensors.front().name;
        const auto rule = exactNameRule(name, "q8_0");
        QVERIFY(rule.pattern != name); // the dots are escaped
        auto pinned = pinTensors(m, {rule});
        QVERIFY(pinned.ok());
        int count = 0;
        for (const auto& t : pinned->tensors)
            count += t.pinned ? 1 : 0;
        QCOMPARE(count, 1);
        QVERIFY(pinned->tensors.front().pinned);
    }

    void selectingCandidatesEqualsMeasuringOnlyThose() {
        const auto all = measure(request({"int3:g64", "int4:g64", "q4_0", "int8:channel:sym"}));
        const auto some = measure(request({"int4:g64", "q4_0"}));
        const auto selected =
            selectCandidates(all, {*Scheme::parse("int4:g64"), *Scheme::parse("q4_0")});
        QCOMPARE(selected.candidates.size(), size_t(2));
        for (double bpw : {4.6, 5.0})
            compareSolutions(test::solveAt(selected, bpw), test::solveAt(some, bpw));
    }

    void aCancelFlagStopsInsideAQuantization() {
        std::atomic<bool> stop{true}; // already set: the first quantization gives up at once
        auto r = request({"int4:g64", "q4_k"});
        r.cancel = &stop;
        auto m = measurePlanCandidates(sample(), r);
        QVERIFY(!m.ok());
        QCOMPARE(m.error().kind, ErrorKind::Cancelled);
        // Set from another thread while it runs: still a clean Cancelled, never a failure.
        stop = false;
        int seen = 0;
        r.onTensor = [&](const TensorMeasurement&) {
            if (++seen == 3)
                stop = true;
        };
        auto half = measurePlanCandidates(sample(), r);
        QVERIFY(!half.ok());
        QCOMPARE(half.error().kind, ErrorKind::Cancelled);
    }

    void eachTensorIsReportedWithItsStatistics() {
        auto r = request({"int4:g64"});
        std::set<std::string> seen;
        r.onTensor = [&](const TensorMeasurement& t) { seen.insert(t.name); };
        const auto m = measure(r);
        QCOMPARE(seen.size(), m.tensors.size());
        for (const auto& t : m.tensors) {
            const TensorInfo* info = sample().find(t.name);
            auto values = sample().readFloat(*info);
            QVERIFY(values.ok());
            const auto stats = computeDistributionStats(*values);
            // The planner sums in its own fixed order (plan/weight_stats.h): to rounding (of
            // m4 / m2^2, from which the kurtosis subtracts 3).
            QVERIFY(std::fabs(t.kurtosis - stats.kurtosis) <=
                    1e-12 * (std::fabs(stats.kurtosis) + 3));
            QCOMPARE(t.outlierShare, stats.outlierShare);
            QCOMPARE(t.imbalance, matrixImbalance(matrixView(*info, *values)));
            QVERIFY(t.imbalance >= 1.0);
            QVERIFY(std::isfinite(optionSqnrDb(t, 0)));
            QCOMPARE(optionFor(t, "int4:g64"), std::optional<size_t>(0));
        }
    }
};

QTEST_APPLESS_MAIN(TestPlanEdit)
#include "test_plan_edit.moc"
