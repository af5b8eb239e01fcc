#pragma once
// torchao configs for a scheme or plan (NUMERICS.md §11.4): a Python snippet applying
// quantize_() with one config, or FqnToConfig for mixed plans (kept modules map to None), and
// the transformers "quantization_config" form ({"quant_method": "torchao", "quant_type":
// {"default": {"_type", "_version", "_data"}}}). Mappings: int8:channel:sym -> Int8WeightOnly,
// other int -> IntxWeightOnly (PerGroup / PerAxis(0) / PerTensor, SYMMETRIC / ASYMMETRIC),
// hqq4 -> Int4WeightOnly with the HQQ qparams algorithm, fp8_* -> Float8WeightOnly, fp6_* ->
// FPXWeightOnly, nvfp4 -> NVFP4WeightOnly, mxfp4 / mxfp8_e4m3 -> MXDynamicActivationMXWeight.

#include "export/export_plan.h"

namespace qs {

Result<ConfigExport> exportTorchao(const ExportSelection& selection, const ConfigOptions& options);
// The transformers quantization_config JSON for the dominant scheme (mixed plans: warnings).
Result<std::string> torchaoHfConfig(const ExportSelection& selection,
                                    std::vector<std::string>& warnings);

} // namespace qs
