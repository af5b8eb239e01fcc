#pragma once
// Checkpoints spread over several files: a Hugging Face `*.safetensors.index.json` (weight_map
// from tensor name to shard) or a model directory (its index, else every *.safetensors in it).
// config.json and generation_config.json beside the weights are kept as sidecars.

#include "io/checkpoint.h"

namespace qs {

bool looksLikeSafetensorsIndex(const MappedFile& file);
// `progress` hears the fraction of shards opened; returning false cancels.
Result<Checkpoint> readSafetensorsIndex(const std::string& indexPath,
                                        const ProgressFn& progress = {});
Result<Checkpoint> openModelDirectory(const std::string& dir, const ProgressFn& progress = {});

} // namespace qs
