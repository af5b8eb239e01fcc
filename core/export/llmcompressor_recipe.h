#pragma once
// An llm-compressor recipe (YAML, NUMERICS.md §11.2) for a scheme or plan: GPTQModifier for
// gptq, AWQModifier for awq, SmoothQuantModifier + QuantizationModifier (W8A8) for smoothquant,
// QuantizationModifier (round to nearest) for int / fp8_e4m3 / nvfp4 / mxfp4. A uniform scheme
// that equals a compressed-tensors preset is written as `scheme: "W4A16"` etc.; anything else as
// explicit config_groups (one per scheme of a plan, targets as module regexes). lm_head and
// kept layers go to `ignore`. llm-compressor writes compressed-tensors only, so schemes it
// cannot produce (nf4, ggml types, hqq, ...) are refused with the reason.

#include "export/export_plan.h"

namespace qs {

Result<ConfigExport> exportLlmCompressorRecipe(const ExportSelection& selection,
                                               const ConfigOptions& options);

} // namespace qs
