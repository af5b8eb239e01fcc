// Mixed-precision plans on the real sample checkpoint: under a 4.5 bpw budget the plan mixes
// schemes and beats every uniform candidate that fits; budgets always hold; keep rules pin;
// candidates that do not apply are skipped; the Pareto curve; cancel.

#include "analysis/tensor_analysis.h"
#include "fixture_imatrix.h"
#include "methods/activation_source.h"
#include "methods/imatrix_file.h"
#include "plan/memory_model.h"
#include "plan/planner.h"
#include "plan/weight_stats.h"
#include "plan_helpers.h"
#include "quant/ggml_family.h"
#include "quant_helpers.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

using namespace qs;

namespace {

const char* kCandidates[] = {"int3:g64",         "int4:g64", "int5:g64", "int6:g64",
                             "int8:channel:sym", "nf4:g64",  "q4_0",     "q8_0"};

PlanRequest request() {
    PlanRequest r;
    for (const char* c : kCandidates)
        r.candidates.push_back(*Scheme::parse(c));
    return r;
}

const Checkpoint& sample() {
    static const Checkpoint c = *Checkpoint::open(test::samplePath());
    return c;
}

const PlanMeasurements& measured() {
    static const PlanMeasurements m = [] {
        auto r = measurePlanCandidates(sample(), request());
        if (!r)
            qFatal("%s", r.message().c_str());
        return std::move(r).value();
    }();
    return m;
}

// Measures under `r` whole, then with every tensor of the sample in chunks of rows (3000 bytes),
// and compares: the same options and costs, input spread and statistics; the errors and the
// output's reference to 1e-12 (NaN where both are). `outputs`: the options with an output error.
void compareWholeAndChunked(PlanRequest r, int& outputs) {
    auto whole = measurePlanCandidates(sample(), r);
    QVERIFY2(whole.ok(), whole.ok() ? "" : whole.message().c_str());
    r.chunkBytes = 3000;
    auto chunked = measurePlanCandidates(sample(), r);
    QVERIFY2(chunked.ok(), chunked.ok() ? "" : chunked.message().c_str());
    auto near = [](double a, double b) {
        return (std::isnan(a) && std::isnan(b)) ||
               std::fabs(a - b) <= 1e-12 * std::max(std::fabs(a), std::fabs(b));
    };
    QCOMPARE(chunked->tensors.size(), whole->tensors.size());
    for (std::size_t i = 0; i < whole->tensors.size(); ++i) {
        const auto &a = whole->tensors[i], &b = chunked->tensors[i];
        QVERIFY2(near(b.outSqRef, a.outSqRef), a.name.c_str());
        QVERIFY(near(b.inputSpread, a.inputSpread));
        QVERIFY(b.kurtosis == a.kurtosis && b.imbalance == a.imbalance);
        QCOMPARE(b.options.size(), a.options.size());
        for (std::size_t k = 0; k < a.options.size(); ++k) {
            const PlanOption &x = a.options[k], &y = b.options[k];
            QCOMPARE(y.scheme.toString(), x.scheme.toString());
            QVERIFY(y.bits == x.bits);
            QVERIFY2(near(y.sqErr, x.sqErr) && near(y.outSqErr, x.outSqErr) &&
                         near(y.outRelErr, x.outRelErr),
                     qPrintable(QString("%1 %2: %3 vs %4")
                                    .arg(a.name.c_str(), x.scheme.toString().c_str())
                                    .arg(y.outRelErr, 0, 'g', 17)
                                    .arg(x.outRelErr, 0, 'g', 17)));
            outputs += std::isfinite(x.outRelErr);
        }
    }
}

} // namespace

class TestPlanner : public QObject {
    Q_OBJECT

private slots:
    void mixedPlanBeatsEveryUniformCandidateThatFits() {
        const auto& m = measured();
        const auto sol = test::solveAt(m, 4.5);
        std::set<std::string> used;
        for (const auto& [name, spec] : sol.plan.tensors)
            used.insert(spec);
        QVERIFY2(used.size() >= 2, "the plan is not mixed");
        QVERIFY(sol.bitsPerWeight <= 4.5);
        qInfo("plan: %.4f bpw, rel_rmse %.5f, %zu schemes", sol.bitsPerWeight, sol.relRmse,
              used.size());
        int fitting = 0;
        for (const auto& u : uniformPoints(m)) {
            const bool fits = u.bitsPerWeight <= 4.5;
            qInfo("  uniform %-18s %.4f bpw, rel_rmse %.5f%s", u.label.c_str(), u.bitsPerWeight,
                  u.relRmse, fits ? "  (fits)" : "");
            if (!fits)
                continue;
            ++fitting;
            QVERIFY2(sol.relRmse < u.relRmse, u.label.c_str());
        }
        QVERIFY(fitting >= 2); // int3:g64 and int4:g64 at least
    }

    void budgetsHoldAndErrorFallsAsTheyGrow() {
        const auto& m = measured();
        double previous = 1e300;
        for (double bpw = 3.4; bpw <= 9.0; bpw += 0.2) {
            const auto sol = test::solveAt(m, bpw);
            QVERIFY(sol.bitsPerWeight <= bpw);
            QVERIFY(static_cast<double>(sol.bits) <= bpw * static_cast<double>(m.elements));
            QVERIFY(sol.sqErr <= previous * (1 + 1e-12));
            previous = sol.sqErr;
        }
        PlanBudget tooSmall;
        tooSmall.bitsPerWeight = 2.0; // below int3:g64 everywhere
        auto r = solvePlan(m, tooSmall);
        QVERIFY(!r.ok());
        QVERIFY(r.message().find("cheapest") != std::string::npos);
    }

    void bytesBudgetCountsTheWholeModel() {
        const auto& m = measured();
        PlanBudget b;
        b.bytes = 150'000;
        auto sol = solvePlan(m, b);
        QVERIFY(sol.ok());
        QVERIFY(sol->modelBytes <= b.bytes);
        QCOMPARE(sol->modelBytes, (sol->bits + 7) / 8 + m.keptBytes);
        QCOMPARE(m.kept.size(), size_t(11)); // the norms, as stored
    }

    void inapplicableCandidatesAreSkippedOrFallBack() {
        const auto& m = measured();
        // down_proj is [64, 172]: no ggml 32-block divides a row, and llama.cpp has no fallback
        // for q4_0 or q8_0 asked for themselves (llama-quantize stops): they are not options
        // there, and no uniform point exists for them.
        bool checked = false;
        for (const auto& t : m.tensors) {
            if (t.name != "model.layers.0.mlp.down_proj.weight")
                continue;
            checked = true;
            QCOMPARE(t.notApplicable.size(), size_t(2)); // q4_0, q8_0
            for (const auto& o : t.options) {
                QVERIFY(o.fallbackFor.empty());
                QVERIFY(o.scheme.family != "q4_0" && o.scheme.family != "q8_0");
            }
        }
        QVERIFY(checked);
        for (const auto& u : uniformPoints(m)) {
            QVERIFY2(u.label != "q4_0" && u.label != "q8_0", u.label.c_str());
            QVERIFY(u.fallbacks.empty());
            QCOMPARE(uniformPointName(u), u.label);
        }
        // A k-quant falls back as llama_tensor_get_type does: q4_k to q5_0 on rows of 64, and to
        // F16 where q5_0's 32-blocks do not divide the rows either (172).
        PlanRequest r;
        r.candidates = {*Scheme::parse("int4:g64"), *Scheme::parse("q4_k")};
        auto k = measurePlanCandidates(sample(), r);
        QVERIFY(k.ok());
        for (const auto& t : k->tensors)
            for (const auto& o : t.options)
                if (!o.fallbackFor.empty())
                    QCOMPARE(o.scheme.toString(),
                             std::string(t.shape.back() == 172 ? "f16" : "q5_0"));
        const auto points = uniformPoints(*k);
        QCOMPARE(points.size(), size_t(2));
        QCOMPARE(points[1].fallbacks, (std::vector<std::string>{"f16", "q5_0"}));
        QCOMPARE(uniformPointName(points[1]), std::string("q4_k (+f16, q5_0)"));
    }

    void keepRulesPinTensors() {
        PlanRequest r = request();
        r.keep.push_back({".*embed_tokens.*", "q8_0"});
        auto m = measurePlanCandidates(sample(), r);
        QVERIFY(m.ok());
        const auto sol = test::solveAt(*m, 4.5);
        QCOMPARE(*sol.plan.specFor("model.embed_tokens.weight"), std::string("q8_0"));
        QVERIFY(sol.bitsPerWeight <= 4.5);
        QCOMPARE(sol.plan.keep.size(), size_t(1));
    }

    void importanceShiftsBitsToTheWeightedTensors() {
        const auto base = test::solveAt(measured(), 4.5);
        PlanRequest r = request();
        r.importance.push_back({"embed_tokens", 1000.0});
        auto m = measurePlanCandidates(sample(), r);
        QVERIFY(m.ok());
        const auto weighted = test::solveAt(*m, 4.5);
        auto bitsOf = [](const PlanMeasurements& pm, const PlanSolution& s) {
            for (size_t i = 0; i < pm.tensors.size(); ++i)
                if (pm.tensors[i].name == "model.embed_tokens.weight")
                    return pm.tensors[i].options[s.choice[i]].bits;
            return std::uint64_t(0);
        };
        QVERIFY(bitsOf(*m, weighted) > bitsOf(measured(), base));
    }

    void paretoCurveIsMonotoneAndBelowUniformPoints() {
        const auto& m = measured();
        const auto curve = paretoCurve(m, 24);
        QVERIFY(curve.size() >= 5);
        for (size_t i = 1; i < curve.size(); ++i) {
            QVERIFY(curve[i].bitsPerWeight > curve[i - 1].bitsPerWeight);
            QVERIFY(curve[i].relRmse < curve[i - 1].relRmse);
        }
        // No uniform point lies strictly below the curve at the same or lower size.
        for (const auto& u : uniformPoints(m)) {
            const ParetoPoint* atOrBelow = nullptr;
            for (const auto& p : curve)
                if (p.bitsPerWeight <= u.bitsPerWeight + 1e-12)
                    atOrBelow = &p;
            if (atOrBelow)
                QVERIFY2(atOrBelow->relRmse <= u.relRmse * (1 + 1e-9), u.label.c_str());
        }
    }

    void savedPlanPricesTheSameInTheMemoryPlanner() {
        const auto sol = test::solveAt(measured(), 4.5);
        QTemporaryDir dir;
        const std::string path = dir.filePath("plan.json").toStdString();
        QVERIFY(savePlan(path, sol.plan).ok());
        auto loaded = loadPlan(path);
        QVERIFY(loaded.ok());
        QCOMPARE(loaded->tensors.size(), measured().tensors.size());
        QCOMPARE(loaded->budgetBpw, 4.5);
        MemoryOptions o;
        o.plan = &*loaded;
        auto e = estimateMemory(describeCheckpoint(sample()), o);
        QVERIFY(e.ok());
        QCOMPARE(e->weightsBytes, sol.modelBytes);
    }

    // With activations every option also has its output error, the same number analyzeTensor
    // gives for that tensor and scheme (fallbacks included); without them, NaN. A loaded matrix
    // serves only the tensors of its width.
    void activationsGiveEachOptionItsOutputError() {
        for (const TensorMeasurement& t : measured().tensors) {
            QVERIFY(std::isnan(t.inputSpread)); // no inputs, no spread
            for (const PlanOption& o : t.options)
                QVERIFY(std::isnan(o.outRelErr));
        }
        ActivationSource synthetic = ActivationSource::synthetic({64, 2, 10.0, 3}, "synthetic");
        std::vector<std::int64_t> widths;
        for (const TensorInfo& t : sample().tensors())
            if (isQuantizable(t))
                widths.push_back(t.numel() / t.shape[0]);
        synthetic.prepare(widths);
        PlanRequest r;
        r.candidates = {*Scheme::parse("int4:g64"), *Scheme::parse("q4_k")};
        r.activationsFor = [&](std::int64_t f) { return synthetic.forFeatures(f); };
        auto m = measurePlanCandidates(sample(), r);
        if (!m)
            QFAIL(m.message().c_str());
        int checked = 0;
        for (const TensorMeasurement& t : m->tensors) {
            const TensorInfo* info = sample().find(t.name);
            auto values = sample().readFloat(*info);
            QVERIFY(values.ok());
            const MatrixView w = matrixView(*info, *values);
            // Two loud channels in ten: their RMS over the median channel's, about 10.
            QCOMPARE(t.inputSpread,
                     inputSpread(imatrixFromActivations(*synthetic.forFeatures(w.cols))));
            QVERIFY2(t.inputSpread > 5 && t.inputSpread < 20, t.name.c_str());
            for (const PlanOption& o : t.options) {
                QVERIFY2(std::isfinite(o.outRelErr) && o.outRelErr > 0, t.name.c_str());
                AnalysisOptions opt;
                opt.activations = synthetic.forFeatures(w.cols);
                auto a = analyzeTensor(w, o.scheme, opt);
                QVERIFY(a.ok() && a->outputError);
                QCOMPARE(o.outRelErr, a->outputError->relative());
                ++checked;
            }
        }
        QCOMPARE(checked, int(2 * m->tensors.size()));
        // A loaded [16, 64] matrix: the 64-wide tensors get output errors, the 172-wide do not.
        std::vector<float> x(16 * 64);
        for (size_t i = 0; i < x.size(); ++i)
            x[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
        const ActivationSource loaded = ActivationSource::loaded(x, 16, 64, "x.npy");
        r.activationsFor = [&](std::int64_t f) { return loaded.forFeatures(f); };
        auto l = measurePlanCandidates(sample(), r);
        QVERIFY(l.ok());
        int with = 0, without = 0;
        for (const TensorMeasurement& t : l->tensors)
            for (const PlanOption& o : t.options) {
                QCOMPARE(std::isfinite(o.outRelErr), t.shape.back() == 64);
                ++(t.shape.back() == 64 ? with : without);
            }
        QVERIFY(with > 0 && without > 0);
        // From a file: one of its matrices by name; the file's only one where none is named.
        auto many = loadActivationSource(test::samplePath());
        QVERIFY(!many.ok() && many.message().find("name one") != std::string::npos);
        auto named =
            loadActivationSource(test::samplePath(), "model.layers.0.self_attn.q_proj.weight");
        QVERIFY(named.ok());
        QCOMPARE(named->tokens(), std::int64_t(64));
        QCOMPARE(named->loadedFeatures(), std::int64_t(64));
        QVERIFY(named->forFeatures(172) == named->forFeatures(64)); // given for every width
        QVERIFY(!loadActivationSource(test::samplePath(), "model.layers.0.input_layernorm.weight")
                     .ok()); // 1-D
    }

    // Tensors larger than chunkBytes of float32 are measured in chunks of rows (as big tensors
    // of a real checkpoint are): the same options, the same statistics, the errors to rounding;
    // the tensors arrive in checkpoint order either way.
    void chunkedTensorsMeasureAsWhole() {
        PlanRequest r = request();
        r.candidates.push_back(*Scheme::parse("q4_k")); // falls back to q5_0 or f16 here
        const std::vector<Scheme> separable = r.candidates;
        // Scales over the whole tensor, taken from its min and max read with the statistics.
        for (const char* s : {"nvfp4", "fp8_e4m3:tensor", "int8:tensor"})
            r.candidates.push_back(*Scheme::parse(s));
        r.keep.push_back({".*layers\\.1\\.self_attn\\.o_proj.*", "q6_k"}); // 64 wide: q8_0
        std::vector<std::string> order;
        r.onTensor = [&](const TensorMeasurement& t) { order.push_back(t.name); };
        auto whole = measurePlanCandidates(sample(), r);
        QVERIFY(whole.ok());
        r.chunkBytes = 3000; // 11 rows of 64, 4 of 172: every tensor in chunks
        // (but those 172 wide: nf4:g64's blocks run over the flattened tensor), with the tensor
        // scales too.
        int chunks = 0;
        for (const TensorInfo& t : sample().tensors()) {
            const bool inChunks = measuredInChunks(sample(), t, r.candidates, r);
            QCOMPARE(inChunks, measuredInChunks(sample(), t, separable, r));
            chunks += inChunks;
        }
        QVERIFY(chunks > 10);
        std::vector<std::string> wholeOrder = std::move(order);
        order.clear();
        auto chunked = measurePlanCandidates(sample(), r);
        QVERIFY2(chunked.ok(), chunked.ok() ? "" : chunked.message().c_str());
        QCOMPARE(order, wholeOrder);
        QCOMPARE(chunked->tensors.size(), whole->tensors.size());
        for (std::size_t i = 0; i < whole->tensors.size(); ++i) {
            const auto &a = whole->tensors[i], &b = chunked->tensors[i];
            QCOMPARE(b.name, a.name);
            QCOMPARE(wholeOrder[i], a.name);
            QVERIFY(b.sumSqRef == a.sumSqRef); // bit for bit (QCOMPARE on doubles is fuzzy)
            QVERIFY(b.kurtosis == a.kurtosis);
            QVERIFY(b.outlierShare == a.outlierShare);
            QVERIFY(b.imbalance == a.imbalance);
            QCOMPARE(b.pinned, a.pinned);
            QCOMPARE(b.notApplicable, a.notApplicable);
            QCOMPARE(b.options.size(), a.options.size());
            for (std::size_t k = 0; k < a.options.size(); ++k) {
                const PlanOption &x = a.options[k], &y = b.options[k];
                QCOMPARE(y.scheme.toString(), x.scheme.toString());
                QCOMPARE(y.fallbackFor, x.fallbackFor);
                QVERIFY2(y.bits == x.bits,
                         qPrintable(QString("%1 %2: %3 vs %4 bits")
                                        .arg(a.name.c_str(), x.scheme.toString().c_str())
                                        .arg(y.bits)
                                        .arg(x.bits)));
                QVERIFY2(std::fabs(y.sqErr - x.sqErr) <= 1e-12 * x.sqErr,
                         qPrintable(QString("%1 %2: %3 vs %4")
                                        .arg(a.name.c_str(), x.scheme.toString().c_str())
                                        .arg(y.sqErr, 0, 'g', 17)
                                        .arg(x.sqErr, 0, 'g', 17)));
            }
        }
        QVERIFY(std::any_of(whole->tensors.begin(), whole->tensors.end(),
                            [](const TensorMeasurement& t) { return t.pinned; }));
        QVERIFY(chunked->sumSqRef == whole->sumSqRef);
    }

    // With activations too: the output error's sums run over the output's columns, one per
    // row of W, so chunks of rows add up to the whole tensor's; the imatrix option weighs every
    // row alike (q4_0:imatrix, q4_k:imatrix with its fallbacks).
    void chunkedTensorsWithActivationsMeasureAsWhole() {
        ActivationSource synthetic = ActivationSource::synthetic({32, 2, 8.0, 5}, "synthetic");
        synthetic.prepare({64, 172});
        PlanRequest r;
        for (const char* c : {"int4:g64", "q4_0:imatrix", "q4_k:imatrix", "nf4:g64"})
            r.candidates.push_back(*Scheme::parse(c));
        r.activationsFor = [&](std::int64_t f) { return synthetic.forFeatures(f); };
        int outputs = 0;
        compareWholeAndChunked(r, outputs);
        QVERIFY(outputs > 100);
    }

    // A scale over the whole tensor whose rows cannot take its range (NaN in the tensor; a
    // scale past float's range) is measured on every row at once: as when the tensor is whole.
    void tensorScalesThatCannotBeChunkedAreMeasuredWhole() {
        QTemporaryDir dir;
        auto huge = test::gaussian(40 * 256, 6);
        for (float& v : huge)
            v *= 1e37f;
        huge[3] = 3e38f; // int4:tensor's scale, (max - min) / 15, overflows
        huge[30 * 256 + 9] = -3e38f;
        auto nan = test::gaussian(40 * 256, 5);
        nan[33 * 256 + 100] = std::numeric_limits<float>::quiet_NaN();
        const std::string file = dir.filePath("m.safetensors").toStdString();
        test::writeSafetensors(file, {{"huge", "F32", {40, 256}, test::floatBytes(huge)},
                                      {"nan", "F32", {40, 256}, test::floatBytes(nan)}});
        auto ckpt = Checkpoint::open(file);
        QVERIFY(ckpt.ok());
        PlanRequest r;
        for (const char* c : {"int4:tensor", "nvfp4", "int4:g64"})
            r.candidates.push_back(*Scheme::parse(c));
        auto whole = measurePlanCandidates(*ckpt, r);
        QVERIFY2(whole.ok(), whole.ok() ? "" : whole.message().c_str());
        r.chunkBytes = 10 * 256 * sizeof(float);
        for (const TensorInfo& t : ckpt->tensors())
            QVERIFY(measuredInChunks(*ckpt, t, r.candidates, r));
        auto chunked = measurePlanCandidates(*ckpt, r);
        QVERIFY2(chunked.ok(), chunked.ok() ? "" : chunked.message().c_str());
        for (std::size_t i = 0; i < 2; ++i) {
            const auto &a = whole->tensors[i], &b = chunked->tensors[i];
            QCOMPARE(b.options.size(), a.options.size());
            for (std::size_t k = 0; k < a.options.size(); ++k) {
                const double x = a.options[k].sqErr, y = b.options[k].sqErr;
                QVERIFY2((std::isnan(x) && std::isnan(y)) ||
                             std::fabs(x - y) <= 1e-12 * std::fabs(x),
                         qPrintable(QString("%1 %2: %3 vs %4")
                                        .arg(a.name.c_str(), a.options[k].scheme.toString().c_str())
                                        .arg(y)
                                        .arg(x)));
                QVERIFY(b.options[k].bits == a.options[k].bits);
            }
        }
    }

    // The same with a llama.cpp importance matrix: its sums over chunks of rows are the whole
    // tensor's, and the imatrix option quantizes each row with the same entry.
    void chunkedTensorsWithAnImportanceMatrixMeasureAsWhole() {
        QTemporaryDir dir;
        const std::string file = dir.filePath("imatrix.gguf").toStdString();
        std::vector<test::ImatrixFixtureEntry> entries;
        for (int layer = 0; layer < 5; ++layer)
            for (const char* kind : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_up"}) {
                std::vector<float> sums;
                for (int j = 0; j < 64; ++j)
                    sums.push_back(j % 8 == layer ? 900.0f : 9.0f + float(j % 5));
                entries.push_back(
                    {"blk." + std::to_string(layer) + "." + kind + ".weight", sums, {9}});
            }
        test::writeBytes(file, test::imatrixGguf(entries, 1, "t"));
        auto imatrix = readImatrixFile(file);
        QVERIFY2(imatrix.ok(), imatrix.ok() ? "" : imatrix.message().c_str());
        PlanRequest r;
        for (const char* c : {"int4:g64", "q4_0:imatrix", "q4_k:imatrix"})
            r.candidates.push_back(*Scheme::parse(c));
        r.imatrix = &*imatrix;
        int outputs = 0;
        compareWholeAndChunked(r, outputs);
        QCOMPARE(outputs, 25 * 3); // the tensors with an entry (of their 64 columns)
    }

    void cancelStopsMeasuring() {
        int calls = 0;
        auto r = measurePlanCandidates(sample(), request(), [&](double) { return ++calls < 3; });
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::Cancelled);
    }

    void invalidRequestsAreErrors() {
        PlanRequest empty;
        QVERIFY(!measurePlanCandidates(sample(), empty).ok());
        PlanRequest calibrated;
        calibrated.candidates.push_back(*Scheme::parse("gptq4:g128"));
        auto r = measurePlanCandidates(sample(), calibrated);
        QVERIFY(!r.ok() && r.message().find("activations") != std::string::npos);
        PlanRequest badRegex = request();
        badRegex.keep.push_back({"(", "q8_0"});
        QVERIFY(!measurePlanCandidates(sample(), badRegex).ok());
    }
};

QTEST_APPLESS_MAIN(TestPlanner)
#include "test_planner.moc"
