#include "analysis/stream_analysis.h"

#include "analysis/fused_analysis.h"
#include "metrics/output_error.h"
#include "util/buffer_recycler.h"

#include <tbb/task_group.h>

#include <algorithm>

namespace qs {
namespace {

// A piece of work: rows [r0, r1) of one tensor, or the whole tensor; or (range) rows whose min
// and max are all that is taken, for the schemes whose scale is the tensor's.
struct Piece {
    std::size_t tensor = 0; // index into the tensor list
    std::int64_t r0 = 0, r1 = 0;
    bool whole = true;
    bool last = true; // the tensor's last piece
    bool range = false;
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
        // once for the tensor: read whole. A scale over the whole tensor from its min and max
        // (fusedTakesTensorRange) needs a first read for them.
        const bool inputs = options.activationsFor || options.imatrix;
        bool range = false;
        const bool separable =
            std::all_of(schemes.begin(), schemes.end(),
                        [&](const Scheme& s) {
                            if (chunksTakeTensorRange(s, cols, inputs))
                                return range = true;
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
        for (std::int64_t r0 = 0; range && r0 < rows; r0 += step)
            pieces.push_back({i, r0, std::min(rows, r0 + step), false, false, true});
        for (std::int64_t r0 = 0; r0 < rows; r0 += step)
            pieces.push_back({i, r0, std::min(rows, r0 + step), false, r0 + step >= rows});
    }
    return pieces;
}

// What each scheme's analysis of rows of t takes from the stream's inputs: the activations of
// its width with ||X W^T||^2 of the rows (once for all the schemes), its importance entry.
struct RowsInputs {
    const MatrixView* x = nullptr;
    std::optional<double> outputRef;
    std::optional<ImportanceWeights> importance;

    RowsInputs(const StreamOptions& o, const TensorInfo& t, MatrixView rows, bool readable) {
        if (readable && o.activationsFor) {
            x = o.activationsFor(t.cols());
            if (x && x->cols == t.cols())
                if (auto ref = outputReference(*x, rows))
                    outputRef = *ref;
        }
        if (o.imatrix)
            importance = o.imatrix->weightsFor(t.name);
    }
    RowsInputs(const RowsInputs&) = delete; // options() points into it
    AnalysisOptions options() const {
        AnalysisOptions a;
        a.activations = x;
        a.outputReference = outputRef;
        a.importance = importance ? &*importance : nullptr;
        return a;
    }
};

// The schemes marked in `whole` over the tensor whole, into acc's results: their chunks could
// not take the tensor's range (NaN/Inf in it; a reconstruction past float's range).
Status analyzeWhole(const Checkpoint& ckpt, const TensorInfo& t, std::span<const Scheme> schemes,
                    const std::vector<char>& whole, const StreamOptions& options,
                    StreamedTensor& acc, const ProgressFn& progress) {
    auto values = decodeRows(ckpt, t, 0, t.rows());
    const MatrixView view{values ? values->data() : nullptr, t.rows(), t.cols()};
    const RowsInputs in(options, t, view, values.ok());
    for (std::size_t k = 0; k < schemes.size(); ++k) {
        if (!whole[k])
            continue;
        if (!values) {
            acc.results[k] = values.error();
            continue;
        }
        auto r = analyzeTensor(view, schemes[k], in.options(), progress);
        if (!r && r.error().kind == ErrorKind::Cancelled)
            return cancelledError();
        acc.results[k] = std::move(r);
    }
    return Ok{};
}

double levelSpan(const TensorAnalysis& a) {
    return a.levels.empty() ? 0.0 : static_cast<double>(a.levels.back() - a.levels.front());
}

} // namespace

bool chunksTakeTensorRange(const Scheme& s, std::int64_t cols, bool inputs) {
    return !(inputs ? rowSeparableGivenInputs(s, cols) : rowSeparable(s, cols)) &&
           fusedTakesTensorRange(s);
}

void ChunkedRange::add(const float* x, std::int64_t n) {
    const auto r = finiteRange(x, n);
    m_finite &= r.has_value();
    if (!r)
        return;
    m_min = m_any ? std::min(m_min, r->first) : r->first;
    m_max = m_any ? std::max(m_max, r->second) : r->second;
    m_any = true;
}

std::optional<std::pair<float, float>> ChunkedRange::range() const {
    return m_any && m_finite ? std::optional(std::pair{m_min, m_max}) : std::nullopt;
}

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
        // (A tensor scale's levels are every chunk's: no rows to name.)
        if (!a.levelsNote.empty() && a.scheme.granularity != Granularity::Tensor)
            a.levelsNote = rows + a.levelsNote;
        return;
    }
    a.error.merge(c.error);
    StorageCost share = c.cost; // what the tensor stores once is in the first chunk's
    const StorageCost once = perTensorCost(c.scheme, c.cost);
    share.scaleBits -= once.scaleBits;
    share.zeroBits -= once.zeroBits;
    share.extraBits -= once.extraBits;
    a.cost.merge(share);
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
    const bool inputs = options.activationsFor || options.imatrix;
    auto workOf = [&](const Piece& p) { // a range piece: a read and a min/max pass
        const double values =
            static_cast<double>(p.r1 - p.r0) *
            static_cast<double>(std::max<std::int64_t>(1, tensors[p.tensor]->cols()));
        return p.range ? values / static_cast<double>(schemes.size() + 1) : values;
    };
    double totalWork = 0;
    for (const Piece& p : pieces)
        totalWork += workOf(p);
    double doneWork = 0;
    bool cancelled = false;
    const ProgressFn sofar = [&](double) { return reportProgress(progress, doneWork / totalWork); };

    tbb::task_group reader;
    Result<std::vector<float>> current =
        decodeRows(ckpt, *tensors[pieces[0].tensor], pieces[0].r0, pieces[0].r1);
    std::vector<float> spare; // the buffer of the piece before this one, for the next read
    StreamedTensor acc;
    ChunkedRange range;
    std::vector<char> whole; // per scheme: its chunks could not take the range; analysed whole
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
            range = ChunkedRange{};
            whole.assign(schemes.size(), 0);
        }
        if (!current.ok() && acc.read.ok())
            acc.read = current.error();
        const double pieceWork = workOf(p);
        if (p.range) {
            if (acc.read.ok())
                range.add(current->data(), (p.r1 - p.r0) * t.cols());
            cancelled = !reportProgress(progress, (doneWork + pieceWork) / totalWork);
        } else {
            ++acc.chunks;
            const MatrixView view{acc.read.ok() ? current->data() : nullptr, p.r1 - p.r0, t.cols()};
            const RowsInputs in(options, t, view, acc.read.ok());
            for (std::size_t k = 0; k < schemes.size() && !cancelled; ++k) {
                // Chunks of a tensor whose scale is the tensor's take its range: without one
                // (NaN/Inf in it) or where the rows cannot take it, the tensor is analysed whole.
                const bool ranged = !p.whole && chunksTakeTensorRange(schemes[k], t.cols(), inputs);
                if (whole[k] || (ranged && acc.read.ok() && !range.range())) {
                    whole[k] = 1;
                    continue;
                }
                Result<TensorAnalysis> r = acc.read.ok() ? Result<TensorAnalysis>(TensorAnalysis{})
                                                         : Result<TensorAnalysis>(acc.read.error());
                if (acc.read.ok()) {
                    AnalysisOptions opts = in.options();
                    if (ranged)
                        opts.tensorRange = range.range();
                    const double base = doneWork + pieceWork * static_cast<double>(k) /
                                                       static_cast<double>(schemes.size());
                    r = analyzeTensor(view, schemes[k], opts, [&](double f) {
                        return reportProgress(
                            progress, (base + f * pieceWork / static_cast<double>(schemes.size())) /
                                          totalWork);
                    });
                    if (!r && r.error().kind == ErrorKind::Cancelled)
                        cancelled = true;
                    if (ranged && !r && r.error().kind == ErrorKind::NotApplicable) {
                        whole[k] = 1;
                        continue;
                    }
                }
                if (p.whole)
                    acc.results[k] = std::move(r);
                else
                    mergeChunkAnalysis(acc.results[k], std::move(r), p.r0, p.r1);
            }
        }
        reader.wait();
        if (cancelled)
            return cancelledError();
        doneWork += pieceWork;
        if (p.last) {
            if (acc.read.ok() && std::count(whole.begin(), whole.end(), 1) > 0) {
                if (auto st = analyzeWhole(ckpt, t, schemes, whole, options, acc, sofar); !st)
                    return st;
            } else if (!acc.read.ok()) { // (rows read once may fail the next time)
                for (std::size_t k = 0; k < schemes.size(); ++k)
                    if (whole[k])
                        acc.results[k] = acc.read.error();
            }
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
