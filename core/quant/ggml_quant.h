#pragma once
// ggml block quantization as bytes: rows of floats to the real block bytes ggml writes, and
// blocks back to floats. This is the API the GGUF reader (decoding stored tensors) and the GGUF
// writer (exporting) call; the q*/iq4 scheme families are built on it.
//
// Bit-exactness: the default path equals ggml's quantize_<type>(src, dst, rows, cols, imatrix)
// as ggml_quantize_chunk and llama-quantize call it; GgmlQuantPath::Reference equals
// quantize_row_<type>_ref. The two differ only for IQ4_NL (the default searches 15 scales, the
// reference takes the first least-squares one); for every other type without weights they are
// the same function. Dequantization equals dequantize_row_<type>.
// Thread-safe; rows are processed in parallel (TBB) and the result does not depend on it.

#include "quant/ggml_blocks.h"
#include "quant/registry.h"
#include "util/progress.h"
#include "util/result.h"

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace qs {

enum class GgmlQuantPath {
    Default,   // quantize_<type>: what llama-quantize runs (with or without an imatrix)
    Reference, // quantize_row_<type>_ref: no importance weights allowed
};

// The scheme family for a ggml type ("q4_k" for Q4_K) and back; nullopt when Quantscope has no
// quantizer for it.
std::optional<GgmlType> ggmlTypeForFamily(std::string_view family);
bool ggmlCanQuantize(GgmlType t);
bool ggmlCanDequantize(GgmlType t);

// Bytes of one row of `cols` elements; nullopt if the type is unknown or cols is not a multiple
// of its block size.
std::optional<std::size_t> ggmlRowBytes(GgmlType t, std::int64_t cols);

// Quantizes each row of `m` into blocks, rows concatenated (m.rows * ggmlRowBytes bytes).
// `columnWeights`: optional importance weights, one per column, shared by all rows like
// llama-quantize's imatrix (empty: none). Errors: type not quantizable, cols not a multiple of
// the block size, weights of the wrong length or given with the reference path, cancellation.
Result<std::vector<std::byte>> ggmlQuantizeRows(GgmlType t, MatrixView m,
                                                std::span<const float> columnWeights = {},
                                                GgmlQuantPath path = GgmlQuantPath::Default,
                                                const ProgressFn& progress = {});
// The same into `out`, which must hold exactly m.rows * ggmlRowBytes bytes (a buffer reused
// across calls, as ggml's own quantize_chunk is used).
Status ggmlQuantizeRowsInto(GgmlType t, MatrixView m, std::span<std::byte> out,
                            std::span<const float> columnWeights = {},
                            GgmlQuantPath path = GgmlQuantPath::Default,
                            const ProgressFn& progress = {});

// Decodes blocks of type `t` into `out`; `out.size()` elements must be a multiple of the block
// size and `blocks` exactly the bytes of out.size() elements. No alignment is required.
Status ggmlDequantize(GgmlType t, std::span<const std::byte> blocks, std::span<float> out);

} // namespace qs
