// Stage 1 of the planner: every quantized tensor under every candidate. The tensors go through
// one after another, the next one read while the current one is measured (its candidates in
// parallel); a tensor of more than PlanRequest::chunkBytes of float32 that can be read by rows,
// with row-separable schemes, is measured in chunks of rows instead of being held whole (with
// activations or an importance matrix too: the output error adds up over rows of W; a scale over
// the whole tensor from its min and max too, the range taken in the statistics' first pass,
// chunksTakeTensorRange). So memory stays within two tensors (or chunks) whatever the
// checkpoint's size (but for a tensor with NaN/Inf under such a scale: the tensor whole beside
// its chunk); calibrated candidates (gptq, awq, ...) and the like still take their tensors whole.

#include "analysis/stream_analysis.h"
#include "analysis/tensor_analysis.h"
#include "metrics/output_error.h"
#include "plan/planner.h"
#include "plan/scheme_cost.h"
#include "plan/weight_stats.h"
#include "quant/ggml_family.h"
#include "quant/registry.h"
#include "util/buffer_recycler.h"

#include <tbb/parallel_for.h>
#include <tbb/task_group.h>

#include <atomic>
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

// The activations that fit a tensor, and ||X W^T||^2 per token for them, one per chunk of rows
// the tensor is read in (computed once, for every scheme's output error).
struct Inputs {
    const MatrixView* x = nullptr;
    std::vector<double> refs;
    const ImportanceWeights* importance = nullptr; // the tensor's entry of an imatrix file
    ChunkedRange range;                            // the tensor's min and max, when read in chunks
};

// A tensor's rows as a measurement reads them: the whole matrix, or chunks of rows decoded from
// the checkpoint one after another into one buffer (decodeRows). Chunks share the buffer: one
// reader at a time.
class TensorRows {
public:
    explicit TensorRows(MatrixView whole)
        : m_whole(whole), m_rows(whole.rows), m_cols(whole.cols) {}
    TensorRows(const Checkpoint& ckpt, const TensorInfo& t, std::int64_t chunkRows,
               std::vector<float>& buffer)
        : m_ckpt(&ckpt), m_tensor(&t), m_buffer(&buffer), m_rows(t.rows()), m_cols(t.cols()),
          m_chunkRows(chunkRows) {}

    std::int64_t rows() const { return m_rows; }
    std::int64_t cols() const { return m_cols; }
    bool whole() const { return m_tensor == nullptr; }
    // Chunks' rows all at once, decoded into a buffer of their own.
    Result<std::vector<float>> all() const {
        if (whole())
            return makeError("the tensor is held whole already");
        return decodeRows(*m_ckpt, *m_tensor, 0, m_rows);
    }
    // fn(rows [r0, r1), r0, r1) for each chunk in order, until one returns an error.
    Status forEach(const std::function<Status(MatrixView, std::int64_t, std::int64_t)>& fn) const {
        if (whole())
            return fn(m_whole, 0, m_rows);
        for (std::int64_t r0 = 0; r0 < m_rows; r0 += m_chunkRows) {
            const std::int64_t r1 = std::min(m_rows, r0 + m_chunkRows);
            auto rows = decodeRows(*m_ckpt, *m_tensor, r0, r1, std::move(*m_buffer));
            if (!rows)
                return rows.error();
            *m_buffer = std::move(*rows);
            if (auto st = fn({m_buffer->data(), r1 - r0, m_cols}, r0, r1); !st)
                return st;
        }
        return Ok{};
    }

private:
    MatrixView m_whole{};
    const Checkpoint* m_ckpt = nullptr;
    const TensorInfo* m_tensor = nullptr;
    std::vector<float>* m_buffer = nullptr;
    std::int64_t m_rows = 0, m_cols = 0, m_chunkRows = 0;
};

// The analysis of every row at once, for a scheme whose chunks could not take the tensor's
// range (NaN/Inf in it; a reconstruction past float's range).
Result<TensorAnalysis> analyzeAll(const TensorRows& w, const Scheme& s, AnalysisOptions options,
                                  const ProgressFn& stop) {
    auto values = w.all();
    if (!values)
        return values.error();
    options.outputReference.reset();
    options.tensorRange.reset();
    return analyzeTensor({values->data(), w.rows(), w.cols()}, s, options, stop);
}

// One tensor under one scheme (with its output error where inputs are given); NotApplicable
// passes through for the caller to skip. `stop` is polled inside the quantizer, so a cancel does
// not wait for a large tensor to finish. In chunks the analyses are merged (row-separable
// schemes, and those given the tensor's range: the whole tensor's numbers).
Result<PlanOption> measure(const TensorRows& w, const Scheme& s, const ProgressFn& stop,
                           const Inputs& in) {
    if (!in.x && !in.importance && needsActivations(s))
        return makeError(s.toString() + " needs activations with the tensor's " +
                             std::to_string(w.cols()) + " input columns; there are none",
                         ErrorKind::NotApplicable);
    AnalysisOptions options;
    options.activations = in.x;
    options.importance = in.importance;
    // Chunks of a tensor whose scale is the tensor's take its range; without one (NaN/Inf), or
    // where rows decline it, every row at once.
    const bool ranged = !w.whole() && chunksTakeTensorRange(s, w.cols(), true);
    if (ranged)
        options.tensorRange = in.range.range();
    bool all = ranged && !options.tensorRange;
    Result<TensorAnalysis> a = TensorAnalysis{};
    std::size_t k = 0;
    auto st = all ? Status(Ok{})
                  : w.forEach([&](MatrixView rows, std::int64_t r0, std::int64_t r1) -> Status {
                        if (k < in.refs.size())
                            options.outputReference = in.refs[k];
                        ++k;
                        auto chunk = analyzeTensor(rows, s, options, stop);
                        if (!chunk) {
                            all = ranged && chunk.error().kind == ErrorKind::NotApplicable;
                            return chunk.error();
                        }
                        mergeChunkAnalysis(a, std::move(chunk), r0, r1);
                        return Ok{};
                    });
    if (all)
        a = analyzeAll(w, s, options, stop);
    else if (!st)
        return st.error();
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
Result<PlanOption> measureFallback(const TensorRows& w, const Scheme& fallback,
                                   const ProgressFn& stop, const Inputs& in) {
    auto o = measure(w, fallback, stop, in);
    if (o || o.error().kind != ErrorKind::NotApplicable)
        return o;
    return measure(w, llamaCppLastResort(), stop, in);
}

// The scheme itself, else llama.cpp's fallback for it; NotApplicable where llama-quantize would
// stop (a 32-block type asked for on rows it does not divide).
Result<PlanOption> measureWithFallback(const TensorRows& w, const Scheme& s, const ProgressFn& stop,
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

bool measuredInChunks(const Checkpoint& ckpt, const TensorInfo& t,
                      const std::vector<Scheme>& schemes, const PlanRequest& request) {
    if (!ckpt.canReadRows(t) || t.rows() < 2 ||
        static_cast<std::uint64_t>(t.numel()) * sizeof(float) <= request.chunkBytes)
        return false;
    const std::int64_t cols = t.cols();
    auto separable = [&](const Scheme& s) {
        return rowSeparableGivenInputs(s, cols) || chunksTakeTensorRange(s, cols, true);
    };
    if (!separable(llamaCppLastResort()))
        return false;
    for (const Scheme& s : schemes) {
        const auto fallback = llamaCppFallback(s);
        if (!separable(s) || (fallback && !separable(*fallback)))
            return false;
    }
    return true;
}

Result<PlanMeasurements> measurePlanCandidates(const Checkpoint& ckpt, const PlanRequest& request,
                                               const ProgressFn& progress) {
    const DropRecycledBuffersAtEnd dropBuffers; // the reconstructions' buffers, reused meanwhile
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

    std::atomic<bool> cancelled{false}; // set from the quantizers' threads too (stop)
    std::optional<Error> firstError;    // on this thread only
    auto fail = [&](Error e) {
        if (!firstError)
            firstError = std::move(e);
        cancelled = true;
    };
    const ProgressFn stop = [&](double) {
        if (request.cancel && request.cancel->load())
            cancelled = true;
        return !cancelled.load();
    };
    // Each tensor's keep rule, and whether it is measured in chunks of rows.
    std::vector<std::optional<Scheme>> pins(m.tensors.size());
    std::vector<char> chunked(m.tensors.size(), 0);
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        for (const auto& [re, s] : rules->keep)
            if (std::regex_match(m.tensors[i].name, re)) {
                pins[i] = s;
                break;
            }
        chunked[i] = measuredInChunks(ckpt, *infos[i],
                                      pins[i] ? std::vector{*pins[i]} : m.candidates, request);
    }
    const std::int64_t chunkElements =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(request.chunkBytes / sizeof(float)));

    // One tensor: its statistics, then every candidate (or its keep rule's spec).
    auto measureTensor = [&](size_t i, const TensorRows& w) {
        TensorMeasurement& tm = m.tensors[i];
        // The inputs that fit: activations of the tensor's width, else its importance matrix
        // entry.
        Inputs in;
        std::optional<ImportanceWeights> importance;
        const std::int64_t cols = w.cols();
        if (const MatrixView* x = request.activationsFor ? request.activationsFor(cols) : nullptr;
            x && x->cols == cols) { // else no output error
            in.x = x;
            tm.inputSpread = inputSpread(imatrixFromActivations(*x));
        } else if (request.imatrix) {
            importance = request.imatrix->weightsFor(tm.name);
            in.importance = &*importance;
        }
        const auto imp = importance ? importance->values : std::span<const float>{};
        const bool impFits = static_cast<std::int64_t>(imp.size()) == cols && !imp.empty();
        if (impFits)
            tm.inputSpread = inputSpread(imp);
        // The statistics in three passes over the rows (one chunk when whole); in the first,
        // chunk by chunk, the output's reference ||XW^T||^2 (or the importance's sum).
        ChunkedWeightStats acc(w.rows(), cols);
        double reference = 0;
        for (int pass = 0; pass < ChunkedWeightStats::kPasses; ++pass) {
            auto st = w.forEach([&](MatrixView v, std::int64_t, std::int64_t) -> Status {
                acc.add(pass, v);
                if (pass == 0 && !w.whole())
                    in.range.add(v.data, v.size());
                if (pass == 0 && in.x) {
                    auto ref = outputReference(*in.x, v);
                    if (!ref)
                        return ref.error();
                    in.refs.push_back(*ref);
                    reference += *ref;
                } else if (pass == 0 && impFits) {
                    reference += importanceErrorSums(imp, v, v.data)->ref;
                }
                return stop(0) ? Status(Ok{}) : Status(cancelledError());
            });
            if (cancelled)
                return;
            if (!st)
                return fail(makeError(tm.name + ": " + st.message()));
        }
        const WeightStats stats = acc.result();
        tm.sumSqRef = stats.sumSq;
        tm.kurtosis = stats.kurtosis;
        tm.outlierShare = stats.outlierShare;
        tm.imbalance = stats.imbalance;
        if (in.x || impFits)
            tm.outSqRef = reference; // else no output error
        if (pins[i]) {
            tm.pinned = true;
            auto o = measureWithFallback(w, *pins[i], stop, in);
            if (cancelled)
                return;
            if (!o)
                return fail(
                    makeError(tm.name + " under " + pins[i]->toString() + ": " + o.message()));
            tm.options.push_back(std::move(*o));
            return;
        }
        const auto& cands = m.candidates;
        std::vector<std::optional<Result<PlanOption>>> results(cands.size());
        auto one = [&](size_t c) {
            if (!cancelled)
                results[c] = measure(w, cands[c], stop, in);
        };
        // Candidates side by side where the tensor is held whole and small; chunks share a
        // buffer, and a large whole tensor's analyses would each hold its size again.
        if (w.whole() &&
            static_cast<std::uint64_t>(w.rows() * w.cols()) * sizeof(float) <= request.chunkBytes)
            tbb::parallel_for(size_t{0}, cands.size(), one);
        else
            for (size_t c = 0; c < cands.size(); ++c)
                one(c);
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
            auto fb = next ? measureFallback(w, *next, stop, in) : Result<PlanOption>(r.error());
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
    };

    for (const auto& tm : m.tensors)
        m.elements += tm.elements;
    const double work = std::max(1.0, static_cast<double>(m.elements));
    double doneWork = 0;
    tbb::task_group reader;
    std::vector<float> spare, chunkBuffer;
    Result<std::vector<float>> current = chunked[0]
                                             ? Result<std::vector<float>>(std::vector<float>{})
                                             : decodeRows(ckpt, *infos[0], 0, infos[0]->rows());
    for (size_t i = 0; i < m.tensors.size() && !cancelled; ++i) {
        // The next whole tensor is read while this one is measured.
        Result<std::vector<float>> next = std::vector<float>{};
        if (i + 1 < m.tensors.size() && !chunked[i + 1])
            reader.run([&, k = i + 1] {
                next = decodeRows(ckpt, *infos[k], 0, infos[k]->rows(), std::move(spare));
            });
        if (!current)
            fail(current.error());
        else if (chunked[i])
            measureTensor(i, TensorRows(ckpt, *infos[i],
                                        std::max<std::int64_t>(1, chunkElements / infos[i]->cols()),
                                        chunkBuffer));
        else
            measureTensor(i, TensorRows(matrixView(*infos[i], *current)));
        reader.wait();
        if (cancelled)
            break;
        if (current.ok() && !chunked[i])
            spare = std::move(*current);
        current = std::move(next);
        doneWork += static_cast<double>(m.tensors[i].elements);
        if (request.onTensor)
            request.onTensor(m.tensors[i]);
        if (!reportProgress(progress, doneWork / work) || !stop(0))
            cancelled = true;
    }
    if (firstError)
        return *firstError;
    if (cancelled)
        return cancelledError();
    for (const auto& tm : m.tensors)
        m.sumSqRef += tm.sumSqRef;
    return m;
}

} // namespace qs
