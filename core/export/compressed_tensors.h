#pragma once
// A checkpoint written in compressed-tensors' safetensors layout, as vLLM and transformers load
// it (NUMERICS.md §5.4, §11.1; field names and packing as compressed-tensors'
// pack_to_int32 / pack_fp4_to_uint8):
//   pack-quantized (int, 1..8 bits): <module>.weight_packed int32 [rows, ceil(cols / (32/b))],
//     code + 2^(b-1) as unsigned, element j of a word at bits j*b (LSB first);
//     weight_scale F32 [rows, cols/g] (channel [rows, 1], tensor [1]); asym
//     weight_zero_point int32 packed along the rows [ceil(rows / (32/b)), groups] (tensor: I8
//     [1]); weight_shape I64 [2]. Dequantization (q - zp) * scale gives Quantscope's values
//     exactly (its scales are float32, so weight_scale is F32 rather than the model dtype).
//   float-quantized (fp8_e4m3): <module>.weight F8_E4M3 [rows, cols] and weight_scale F32.
//   nvfp4-pack-quantized: weight_packed U8 [rows, cols/2] (low nibble first, E2M1 codes),
//     weight_scale F8_E4M3 [rows, cols/16], weight_global_scale F32 [1] = 448*6/amax.
// Only Linear weights are quantized (2-D, not embeddings; lm_head only when a plan names it);
// every other tensor is written dense in its stored float type. Calibrated families (gptq, awq)
// need activations and are refused. A layer whose columns the group size does not divide stays
// dense and is listed in "ignore" (compressed-tensors needs whole groups), with a warning.

#include "export/export_plan.h"

#include <string>
#include <vector>

namespace qs {

struct CompressedTensorsReport {
    std::vector<std::string> warnings;
    std::vector<std::string> files; // the safetensors file (and config.json in a directory)
    std::string quantizationConfig; // the JSON written
    std::uint64_t quantizedTensors = 0;
};

// `outPath` ending in ".safetensors": that file (the quantization_config also goes into its
// __metadata__); otherwise a directory with model.safetensors and config.json (the source's
// config.json, if any, with "quantization_config" added).
Result<CompressedTensorsReport> exportCompressedTensors(const ExportSelection& selection,
                                                        const std::string& outPath,
                                                        const ProgressFn& progress = {});

} // namespace qs
