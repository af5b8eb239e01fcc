#pragma once
// The registry's ggml block families q4_0 ... iq4_xs: quantize each row with ggml's own
// quantizer (ggml_quant.h; no importance weights, as llama-quantize without an imatrix, unless
// the scheme has the `imatrix` option) and decode the blocks back. A row length that is not a
// multiple of the block size makes the format "not applicable" to the tensor: an error saying so,
// which the CLI reports per tensor.
//
// Storage cost is the block bytes (q4_0 4.5, q4_k 4.5, q6_k 6.5625 bits per weight), split into
// codes, sub-block scales, sub-block mins (as zero-points) and the fp16 super-block scales
// (extra). `levels` are the reconstruction levels of the widest scale group (the sub-block with
// the largest level range). Unit levels are the levels for a stored scale of 1 (and min 0):
// q4_0 -8..7, q4_1 0..15, q5_0 -16..15, q5_1 0..31, q8_0 -127..127, q2_k 0..3, q3_k -4..3,
// q4_k 0..15, q5_k 0..31, q6_k -32..31, iq4_nl / iq4_xs the code book kvalues_iq4nl
// (-127 ... 113).

#include "quant/registry.h"

#include <cstddef>
#include <cstdint>

namespace qs {

Result<QuantOutput> quantizeGgml(const Scheme& s, MatrixView m, const ProgressFn& progress);
// The `imatrix` option (q4_k:imatrix): quantizes as llama-quantize does with an importance
// matrix computed by llama-imatrix from these input activations [tokens, cols], that is with
// ggml's weighted searches instead of the reference quantizers (q8_0 ignores the weights).
Result<QuantOutput> quantizeGgmlImatrix(const Scheme& s, MatrixView weights, MatrixView activations,
                                        const ProgressFn& progress);
// The same with the importance read from an imatrix file; without it (an empty span) as the plain
// format, with a diagnostic, as llama-quantize does for a tensor its file has no entry for.
Result<QuantOutput> quantizeGgmlWeighted(const Scheme& s, MatrixView weights,
                                         const ImportanceWeights& importance,
                                         const ProgressFn& progress);
// llama-imatrix's importance of each input column, as llama-quantize reads it back: the mean of
// x^2 over the tokens, summed in float in token order and divided by the float count (1 for
// every column when there are no tokens).
std::vector<float> imatrixFromActivations(MatrixView x);
std::vector<float> ggmlUnitLevels(const Scheme& s);
// Cost, levels and note of a [rows, cols] result whose widest scale group is sub-block `group`
// of block `blockIndex` (row-major), from that block's bytes as ggml writes them.
void describeGgml(const Scheme& s, std::int64_t rows, std::int64_t cols,
                  const std::byte* widestBlock, std::uint64_t blockIndex, int group,
                  QuantOutput& out);

} // namespace qs
