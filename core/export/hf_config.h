#pragma once
// The Hugging Face transformers "quantization_config" (config.json) that fits a scheme or plan
// (NUMERICS.md §11.1): bitsandbytes for nf4 / bnb_fp4 (blocksize 64 fixed, double quant,
// compute dtype), gptq, awq, hqq, auto-round, torchao (float8 e5m2, fp6, hqq-style int4 are
// torchao's), and compressed-tensors for int / fp8_e4m3 / nvfp4 / mxfp4 / smoothquant
// (config_groups per scheme for mixed plans). What the chosen method cannot express is listed
// in the warnings; schemes no transformers method represents (ggml block types, companding,
// k-means, SINQ, plain casts) are refused with the reason.

#include "export/export_plan.h"

namespace qs {

Result<ConfigExport> exportHfConfig(const ExportSelection& selection, const ConfigOptions& options);

// The model's torch_dtype from config.json beside the checkpoint ("bfloat16"), or "".
std::string configTorchDtype(const Checkpoint& ckpt);

} // namespace qs
