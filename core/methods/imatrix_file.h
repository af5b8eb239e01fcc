#pragma once
// llama.cpp importance matrices: what llama-imatrix writes and llama-quantize --imatrix reads.
// Per weight tensor (llama.cpp names, "blk.0.attn_q.weight"), per input column, the mean of x^2
// over the tokens that went through it, exactly as llama-quantize turns the file into the
// quant_weights it passes to ggml:
//   GGUF (general.type "imatrix"): tensors NAME.in_sum2 [n_mat, ne0] and NAME.counts [n_mat, 1]
//     (F32), each value in_sum2 / count of its row (1 where the count is 0);
//   legacy imatrix.dat: int32 entries; per entry int32 name length, the name, int32 ncall,
//     int32 nval, nval floats (mean x^2 times ncall); an optional trailer (int32 last chunk,
//     int32 length, dataset name). Each value / ncall where ncall > 0.
// Expert tensors (n_mat > 1) hold n_mat rows of ne0 values, expert by expert. Every count and
// length is checked against the file's size: a malformed file is refused in one line.

#include "quant/registry.h"
#include "util/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qs {

class Checkpoint;

struct ImatrixFile {
    std::string path;
    std::string format;                                // "gguf" or "legacy"
    std::map<std::string, std::vector<float>> entries; // llama.cpp tensor name -> importance
    std::uint64_t chunks = 0;                          // chunks of tokens collected
    std::string datasets;                              // as the file names them ("" if not)

    // The importance of a checkpoint tensor: by its own name (GGUF checkpoints), else by the
    // llama.cpp name a Hugging Face name converts to (model.layers.0.self_attn.q_proj.weight ->
    // blk.0.attn_q.weight). Null when the file has no entry: llama-quantize then quantizes the
    // tensor without one.
    const std::vector<float>* find(const std::string& tensorName) const;
    // find() as the quantizers take it: the entry (empty where there is none) and this file.
    ImportanceWeights weightsFor(const std::string& tensorName) const;
};

Result<ImatrixFile> readImatrixFile(const std::string& path);

// Whether an opened GGUF is llama-imatrix's (general.type "imatrix"), from its header alone.
bool isImportanceMatrix(const Checkpoint& ckpt);

} // namespace qs
