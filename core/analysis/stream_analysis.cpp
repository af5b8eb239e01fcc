#include "analysis/stream_analysis.h"

#include "metrics/output_error.h"
#include "util/buffer_recycler.h"

#include <tbb/task_group.h>

#include <algorithm>

namespace qs {
namespace {

// A piece of work: rows [r0, r1) of one tensor, or the whole tensor.
struct Piece {
    std::size_t tensor = 0; // index into the tensor list
    std::int64_t r0 = 0, r1 = 0;
    bool whole = true;
    bool last = true; // the tensor's last piece
};

std::vector<Piece> planPieces(const Checkpoint& ckpt, std::span<const TensorInfo* const> tensors,
                              std::span<const Scheme> schemes, const StreamOptions& options) {
    std::vector<Piece> pieces;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const TensorInfo& t = *tensors[i];
        const std::int64_t rows = t.rows(), cols = std::max<std::int64_t>(1, t.cols());
        const auto floatBytes = static_cast<std::uint64_t>(t.numel()) * sizeof(float);
        // With inputs the output error adds up over rows too (rowSeparableGivenInputs); a tensor
        // its importance matrix has no fitting entry for is quantized plainly, with a note said
        // once for the tensor: read whole.
        const bool inputs = options.activationsFor || options.imatrix;
        const bool separable =
            std::all_of(schemes.begin(), schemes.end(),
                        [&](const Scheme& s) {
                            return inputs ? rowSeparableGivenInputs(s, cols)
                                          : rowSeparable(s, cols);
                        }) &&
            (!options.imatrix ||
             static_cast<std::int64_t>(options.imatrix->weightsFor(t.name).values.size()) == cols);
        if (!separable || !ckpt.canReadRows(t) || rows < 2 || floatBytes <= options.chunkBytes) {
            pieces.push_back({i, 0, rows, true, true});
            continue;
        }
        const std::int64_t step = std::max<std::int64_t>(
            1, static_cast<std::int64_t>(options.chunkBytes / sizeof(float)) / cols);
        for (std::int64_t r0 = 0; r0 < rows; r0 += step)
            pieces.push_back({i, r0, std::min(rows, r0 + step), false, r0 + step >= rows});
    }
    return pieces;
}

double levelSpan(const TensorAnalysis& a) {
    return a.levels.empty() ? 0.0 : static_cast<double>(a.levels.back() - a.levels.front());
}

} // namespace

Result<std::vector<float>> decodeRows(const Checkpoint& ckpt, const TensorInfo& t, std::int64_t r0,
                                      std::int64_t r1, std::vector<float> buffer) {
    if (!ckpt.canReadRows(t)) {
        if (r0 == 0 && r1 == t.rows())
            return ckpt.readFloat(t);
        return makeError("the rows of tensor '" + t.name + "' cannot be read apart");
    }
    const auto n = static_cast<std::size_t>((r1 - r0) * t.cols());
    try {
        if (buffer.size() < n)
            buffer.resize(n);
    } catch (const std::bad_alloc&) {
        return makeError("not enough memory to decode rows of tensor '" + t.name + "'");
    }
    if (auto st = ckpt.readRows(t, r0, r1, std::span<float>(buffer.data(), n)); !st)
        return st.error();
    ckpt.releaseRows(t, r0, r1);
    return buffer;
}

void mergeChunkAnalysis(Result<TensorAnalysis>& into, Result<TensorAnalysis>&& chunk,
                        std::int64_t r0, std::int64_t r1) {
    if (!into.ok())
        return; // the first error stands
    if (!chunk.ok()) {
        into = chunk.error();
        return;
    }
    TensorAnalysis& a = into.value();
    TensorAnalysis& c = chunk.value();
    const std::string rows = "rows " + std::to_string(r0) + "-" + std::to_string(r1 - 1) + ": ";
    if (a.error.count == 0) { // the first chunk
        a = std::move(c);
        if (!a.levelsNote.empty())
            a.levelsNote = rows + a.levelsNote;
        return;
    }
    a.error.merge(c.error);
    a.cost.merge(c.cost);
    if (a.outputError && c.outputError) { // both sums run over the output's columns (rows of W)
        a.outputError->err += c.outputError->err;
        a.outputError->ref += c.outputError->ref;
    } else {
        a.outputError.reset();
    }
    for (const Diagnostic& d : c.diagnostics) {
        auto it = std::find_if(a.diagnostics.begin(), a.diagnostics.end(),
                               [&](const Diagnostic& x) { return x.key == d.key; });
        if (it == a.diagnostics.end())
            a.diagnostics.push_back(d);
        else
            it->value += d.value;
    }
    if (levelSpan(c) > levelSpan(a)) {
        a.levels = std::move(c.levels);
        a.levelsNote = c.levelsNote.empty() ? std::string() : rows + c.levelsNote;
    }
}

Status analyzeStreamed(const Checkpoint& ckpt, std::span<const TensorInfo* const> tensors,
                       std::span<const Scheme> schemes, const StreamOptions& options,
                       const std::function<void(StreamedTensor&&)>& onTensor,
                       const ProgressFn& progress) {
    const DropRecycledBuffersAtEnd dropBuffers; // the reconstructions' buffers, reused meanwhile
    const std::vector<Piece> pieces = planPieces(ckpt, tensors, schemes, options);
    if (pieces.empty())
        return Ok{};
    double totalWork = 0;
    for (const Piece& p : pieces)
        totalWork += static_cast<double>((p.r1 - p.r0)) *
                     static_cast<double>(std::max<std::int64_t>(1, tensors[p.tensor]->cols()));
    double doneWork = 0;
    bool cancelled = false;

    tbb::task_group reader;
    Result<std::vector<float>> current =
        decodeRows(ckpt, *tensors[pieces[0].tensor], pieces[0].r0, pieces[0].r1);
    std::vector<float> spare; // the buffer of the piece before this one, for the next read
    StreamedTensor acc;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        const Piece& p = pieces[i];
        const TensorInfo& t = *tensors[p.tensor];
        Result<std::vector<float>> next = makeError("");
        if (i + 1 < pieces.size())
            reader.run([&, k = i + 1] {
                next = decodeRows(ckpt, *tensors[pieces[k].tensor], pieces[k].r0, pieces[k].r1,
                                  std::move(spare));
            });
        if (acc.tensor != &t) {
            acc = StreamedTensor{};
            acc.tensor = &t;
            acc.chunks = 0;
            acc.results.assign(schemes.size(), TensorAnalysis{});
        }
        ++acc.chunks;
        if (!current.ok() && acc.read.ok())
            acc.read = current.error();
        const double pieceWork = static_cast<double>(p.r1 - p.r0) *
                                 static_cast<double>(std::max<std::int64_t>(1, t.cols()));
        // With activations of its width, the piece's ||X W^T||^2 once for all the schemes.
        const MatrixView* x = nullptr;
        std::optional<double> outputRef;
        if (current.ok() && options.activationsFor) {
            x = options.activationsFor(t.cols());
            if (x && x->cols == t.cols())
                if (auto ref = outputReference(*x, {current->data(), p.r1 - p.r0, t.cols()}))
                    outputRef = *ref;
        }
        std::optional<ImportanceWeights> importance;
        if (options.imatrix)
            importance = options.imatrix->weightsFor(t.name);
        for (std::size_t k = 0; k < schemes.size() && !cancelled; ++k) {
            Result<TensorAnalysis> r = current.ok() ? Result<TensorAnalysis>(TensorAnalysis{})
                                                    : Result<TensorAnalysis>(current.error());
            if (current.ok()) {
                AnalysisOptions opts;
                const MatrixView view{current->data(), p.r1 - p.r0, t.cols()};
                opts.activations = x;
                opts.outputReference = outputRef;
                opts.importance = importance ? &*importance : nullptr;
                const double base = doneWork + pieceWork * static_cast<double>(k) /
                                                   static_cast<double>(schemes.size());
                r = analyzeTensor(view, schemes[k], opts, [&](double f) {
                    return reportProgress(
                        progress,
                        (base + f * pieceWork / static_cast<double>(schemes.size())) / totalWork);
                });
                if (!r && r.error().kind == ErrorKind::Cancelled)
                    cancelled = true;
            }
            if (p.whole)
                acc.results[k] = std::move(r);
            else
                mergeChunkAnalysis(acc.results[k], std::move(r), p.r0, p.r1);
        }
        reader.wait();
        if (cancelled)
            return cancelledError();
        doneWork += pieceWork;
        if (p.last) {
            onTensor(std::move(acc));
            acc = StreamedTensor{};
        }
        if (current.ok())
            spare = std::move(*current);
        current = std::move(next);
    }
    if (!reportProgress(progress, 1.0))
        return cancelledError();
    return Ok{};
}

} // namespace qs
