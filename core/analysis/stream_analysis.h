#pragma once
// Whole-checkpoint analysis through a bounded pipeline: the tensors (and big tensors' chunks of
// rows) are read and decoded one piece ahead while the current piece is analysed, and each
// piece's mapped pages are given back once decoded. Memory stays within two pieces plus the
// analysis' own buffers whatever the checkpoint's size: a piece is at most `chunkBytes` of
// float32 when the tensor is stored plainly and every scheme is rowSeparable() (with activations
// or an importance matrix: rowSeparableGivenInputs(), and an entry that fits the tensor) or
// takes a scale over the whole tensor from its min and max (fusedTakesTensorRange: int, nf,
// mu-law, A-law and the float element formats at tensor granularity, nvfp4), else the tensor
// (so: twice the largest such tensor in float32). For the latter the tensor's rows are read
// twice, first for its min and max alone; a tensor with NaN/Inf, or whose rows decline that
// range (a reconstruction past float's range), has those schemes analysed whole after its chunks
// (the tensor whole beside two pieces, then).
//
// A chunked tensor's numbers are the whole tensor's (sums merged; the double sums' order
// differs; what the tensor stores once, perTensorCost, counted once); its levels are those of
// the chunk with the widest levels, the note naming the rows.

#include "analysis/tensor_analysis.h"
#include "methods/imatrix_file.h"

#include <functional>
#include <optional>
#include <span>
#include <utility>

namespace qs {

struct StreamOptions {
    std::size_t chunkBytes = std::size_t{64} << 20; // float32 bytes per chunk of rows
    // Activations [tokens, features] for a tensor with `features` input columns, or null; with
    // them every scheme also reports its output error (its sums add up over chunks of rows).
    std::function<const MatrixView*(std::int64_t features)> activationsFor;
    // A llama.cpp importance matrix (not owned): each tensor's entry goes to the analysis as
    // AnalysisOptions::importance.
    const ImatrixFile* imatrix = nullptr;
};

// One tensor's results, one per scheme in the order given (an error where the scheme does not
// apply or failed). `chunks` is 1 when the tensor was analysed whole.
struct StreamedTensor {
    const TensorInfo* tensor = nullptr;
    std::vector<Result<TensorAnalysis>> results;
    int chunks = 1;
    Status read = Ok{}; // an error when (part of) the tensor could not be read or decoded
};

// Analyses `tensors` of `ckpt` under every scheme, calling `onTensor` in order on the calling
// thread as each finishes (it may throw: the pipeline has no work in flight then). A tensor
// that cannot be read has `read` set and the same error as every scheme's result. Cancelled (an
// error of kind Cancelled) when `progress` returns false.
Status analyzeStreamed(const Checkpoint& ckpt, std::span<const TensorInfo* const> tensors,
                       std::span<const Scheme> schemes, const StreamOptions& options,
                       const std::function<void(StreamedTensor&&)>& onTensor,
                       const ProgressFn& progress = {});

// Rows [r0, r1) of `t` decoded to float32 into `buffer` (grown as needed and handed back, so a
// pipeline passing its buffers from piece to piece faults their pages in and zeroes them once,
// not for every tensor: that had been a third of the CPU time of an `analyze`), their mapped
// pages then given back; the first (r1 - r0) * cols values are the rows'. A tensor whose rows
// cannot be read apart (Checkpoint::canReadRows) comes whole through readFloat.
Result<std::vector<float>> decodeRows(const Checkpoint& ckpt, const TensorInfo& t, std::int64_t r0,
                                      std::int64_t r1, std::vector<float> buffer = {});

// Whether rows of a tensor `cols` wide are analysed apart under s only given the tensor's min
// and max (AnalysisOptions::tensorRange): fusedTakesTensorRange, and not rowSeparable (with
// `inputs`, activations or an importance matrix: not rowSeparableGivenInputs).
bool chunksTakeTensorRange(const Scheme& s, std::int64_t cols, bool inputs);

// A tensor's min and max from its chunks of rows, added in any order: nullopt when a value was
// NaN/Inf or none was added.
class ChunkedRange {
public:
    void add(const float* x, std::int64_t n);
    std::optional<std::pair<float, float>> range() const;

private:
    float m_min = 0, m_max = 0;
    bool m_any = false, m_finite = true;
};

// Folds the analysis of rows [r0, r1) into a tensor's (`into` starts as an empty TensorAnalysis;
// the first error stands): sums, cost and output error merged, diagnostics added, the widest
// levels kept.
void mergeChunkAnalysis(Result<TensorAnalysis>& into, Result<TensorAnalysis>&& chunk,
                        std::int64_t r0, std::int64_t r1);

} // namespace qs
