// Stage 1 of the planner: every quantized tensor under every candidate, in parallel.

#include "analysis/tensor_analysis.h"
#include "methods/matrix_imbalance.h"
#include "metrics/distribution_stats.h"
#include "metrics/output_error.h"
#include "plan/planner.h"
#include "plan/scheme_cost.h"
#include "quant/registry.h"

#include <tbb/parallel_for.h>

#include <atomic>
#include <mutex>
#include <regex>

namespace qs {

namespace {

struct CompiledRules {
    std::vector<std::pair<std::regex, Scheme>> keep;
    std::vector<std::pair<std::regex, double>> importance;
};

Result<CompiledRules> compileRules(const PlanRequest& r) {
    CompiledRules c;
    try {
        for (const auto& k : r.keep) {
            auto s = Scheme::parse(k.spec);
            if (!s)
                return makeError("keep " + k.pattern + ": " + s.message());
            c.keep.emplace_back(std::regex(k.pattern, std::regex::ECMAScript), *s);
        }
        for (const auto& i : r.importance) {
            if (!(i.weight >= 0))
                return makeError("importance weights must be non-negative");
            c.importance.emplace_back(std::regex(i.pattern, std::regex::ECMAScript), i.weight);
        }
    } catch (const std::regex_error& e) {
        return makeError(std::string("invalid regex in a keep or importance rule: ") + e.what());
    }
    return c;
}

// Calibrated families (gptq, awq, ...) are measured only where the request has activations;
// the ggml formats' imatrix option also with an importance matrix.
Status checkScheme(const Scheme& s, const PlanRequest& request) {
    const FamilyInfo* f = findFamily(s.family);
    if (!f || !f->implemented())
        return makeError(s.toString() + ": the " + s.family + " family is not implemented yet");
    if (needsActivations(s) && !request.activationsFor &&
        !(request.imatrix && f->kind == FamilyKind::GgmlBlock))
        return makeError(s.toString() + " needs activations: choose them (--calib, or the Model "
                                        "tab's Activations) to measure it");
    return Ok{};
}

// The activations that fit a tensor, and ||X W^T||^2 per token for them (computed once, for
// every scheme's output error).
struct Inputs {
    const MatrixView* x = nullptr;
    std::optional<double> ref;
    const ImportanceWeights* importance = nullptr; // the tensor's entry of an imatrix file
};

// One tensor under one scheme (with its output error where inputs are given); NotApplicable
// passes through for the caller to skip. `stop` is polled inside the quantizer, so a cancel does
// not wait for a large tensor to finish.
Result<PlanOption> measure(MatrixView w, const Scheme& s, const ProgressFn& stop,
                           const Inputs& in) {
    if (!in.x && !in.importance && needsActivations(s))
        return makeError(s.toString() + " needs activations with the tensor's " +
                             std::to_string(w.cols) + " input columns; there are none",
                         ErrorKind::NotApplicable);
    AnalysisOptions options;
    options.activations = in.x;
    options.outputReference = in.ref;
    options.importance = in.importance;
    auto a = analyzeTensor(w, s, options, stop);
    if (!a)
        return a.error();
    PlanOption o{s, a->error.sumSqErr, a->cost.totalBits()};
    if (a->outputError) {
        o.outRelErr = a->outputError->relative();
        o.outSqErr = a->outputError->err;
    }
    return o;
}

// llama.cpp's fallback type `fallback`, or F16 where its block does not divide the rows either.
Result<PlanOption> measureFallback(MatrixView w, const Scheme& fallback, const ProgressFn& stop,
                                   const Inputs& in) {
    auto o = measure(w, fallback, stop, in);
    if (o || o.error().kind != ErrorKind::NotApplicable)
        return o;
    return measure(w, llamaCppLastResort(), stop, in);
}

// The scheme itself, else llama.cpp's fallback for it; NotApplicable where llama-quantize would
// stop (a 32-block type asked for on rows it does not divide).
Result<PlanOption> measureWithFallback(MatrixView w, const Scheme& s, const ProgressFn& stop,
                                       const Inputs& in) {
    auto o = measure(w, s, stop, in);
    if (o || o.error().kind != ErrorKind::NotApplicable)
        return o;
    const auto next = llamaCppFallback(s);
    if (!next)
        return makeError(o.message() + "; " + noLlamaCppFallback(s), ErrorKind::NotApplicable);
    return measureFallback(w, *next, stop, in);
}

} // namespace

Result<PlanMeasurements> measurePlanCandidates(const Checkpoint& ckpt, const PlanRequest& request,
                                               const ProgressFn& progress) {
    if (request.candidates.empty())
        return makeError("a plan needs at least one candidate scheme");
    for (const auto& s : request.candidates)
        if (auto ok = checkScheme(s, request); !ok)
            return ok.error();
    auto rules = compileRules(request);
    if (!rules)
        return rules.error();
    for (const auto& [re, s] : rules->keep)
        if (auto ok = checkScheme(s, request); !ok)
            return ok.error();

    PlanMeasurements m;
    m.source = ckpt.path();
    m.candidates = request.candidates;
    for (const auto& k : request.keep)
        m.keep.push_back({k.pattern, Scheme::parse(k.spec)->toString()});
    std::vector<const TensorInfo*> infos;
    for (const TensorInfo& t : ckpt.tensors()) {
        if (!isQuantizable(t)) {
            m.kept.push_back({t.name, t.shape, t.typeName(), t.nbytes});
            m.keptBytes += t.nbytes;
            continue;
        }
        TensorMeasurement tm;
        tm.name = t.name;
        tm.shape = t.shape;
        tm.elements = static_cast<std::uint64_t>(t.numel());
        for (const auto& [re, weight] : rules->importance)
            if (std::regex_search(t.name, re)) {
                tm.importance = weight;
                break;
            }
        m.tensors.push_back(std::move(tm));
        infos.push_back(&t);
    }
    if (m.tensors.empty())
        return makeError(ckpt.path() + " holds no tensor with two dimensions");

    std::atomic<bool> cancelled{false};
    std::atomic<size_t> done{0};
    std::mutex progressMutex, errorMutex;
    std::optional<Error> firstError;
    const size_t work = m.tensors.size();
    auto fail = [&](Error e) {
        std::lock_guard lock(errorMutex);
        if (!firstError)
            firstError = std::move(e);
        cancelled = true;
    };
    const ProgressFn stop = [&](double) {
        if (request.cancel && request.cancel->load())
            cancelled = true;
        return !cancelled.load();
    };
    tbb::parallel_for(size_t{0}, m.tensors.size(), [&](size_t i) {
        if (!stop(0))
            return;
        TensorMeasurement& tm = m.tensors[i];
        auto values = ckpt.readFloat(*infos[i]);
        if (!values)
            return fail(values.error());
        const MatrixView w = matrixView(*infos[i], *values);
        for (float v : *values)
            tm.sumSqRef += static_cast<double>(v) * v;
        const DistributionStats stats = computeDistributionStats(*values);
        tm.kurtosis = stats.kurtosis;
        tm.outlierShare = stats.outlierShare;
        tm.imbalance = matrixImbalance(w);
        Inputs in;
        if (const MatrixView* x = request.activationsFor ? request.activationsFor(w.cols) : nullptr;
            x && x->cols == w.cols) { // else no output error
            auto ref = outputReference(*x, w);
            if (!ref)
                return fail(makeError(tm.name + ": " + ref.message()));
            in = {x, *ref};
            tm.outSqRef = *ref;
        }
        std::optional<ImportanceWeights> importance;
        if (request.imatrix && !in.x) {
            importance = request.imatrix->weightsFor(tm.name);
            in.importance = &*importance;
            const auto v = importance->values;
            if (static_cast<std::int64_t>(v.size()) == w.cols) // else no output error
                tm.outSqRef = importanceErrorSums(v, w, w.data)->ref;
        }
        std::optional<Scheme> pin;
        for (const auto& [re, s] : rules->keep)
            if (std::regex_match(tm.name, re)) {
                pin = s;
                break;
            }
        if (pin) {
            tm.pinned = true;
            auto o = measureWithFallback(w, *pin, stop, in);
            if (cancelled)
                return;
            if (!o)
                return fail(makeError(tm.name + " under " + pin->toString() + ": " + o.message()));
            tm.options.push_back(std::move(*o));
        } else {
            const auto& cands = m.candidates;
            std::vector<std::optional<Result<PlanOption>>> results(cands.size());
            tbb::parallel_for(size_t{0}, cands.size(), [&](size_t c) {
                if (!cancelled)
                    results[c] = measure(w, cands[c], stop, in);
            });
            if (cancelled)
                return; // a quantization stopped half way is no result
            std::vector<PlanOption> fallbacks;
            for (size_t c = 0; c < cands.size(); ++c) {
                if (!results[c])
                    return; // cancelled
                auto& r = *results[c];
                if (r) {
                    tm.options.push_back(std::move(*r));
                    continue;
                }
                if (r.error().kind != ErrorKind::NotApplicable)
                    return fail(
                        makeError(tm.name + " under " + cands[c].toString() + ": " + r.message()));
                tm.notApplicable.push_back(cands[c].toString() + ": " + r.message());
                auto next = llamaCppFallback(cands[c]); // none: llama-quantize would stop
                auto fb =
                    next ? measureFallback(w, *next, stop, in) : Result<PlanOption>(r.error());
                if (fb) {
                    fb->fallbackFor = cands[c].toString();
                    fallbacks.push_back(std::move(*fb));
                }
            }
            for (auto& fb : fallbacks)
                tm.options.push_back(std::move(fb));
            if (cancelled)
                return;
            if (tm.options.empty())
                return fail(makeError("no candidate applies to " + tm.name + " " +
                                      infos[i]->shapeString() + " and none falls back"));
        }
        const size_t n = ++done;
        std::lock_guard lock(progressMutex);
        if (request.onTensor && !cancelled)
            request.onTensor(tm);
        if (!cancelled && !reportProgress(progress, static_cast<double>(n) / work))
            cancelled = true;
    });
    if (firstError)
        return *firstError;
    if (cancelled)
        return cancelledError();
    for (const auto& tm : m.tensors) {
        m.elements += tm.elements;
        m.sumSqRef += tm.sumSqRef;
    }
    return m;
}

} // namespace qs
