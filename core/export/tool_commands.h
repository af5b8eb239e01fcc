#pragma once
// Command lines (or short Python snippets where a plan needs per-layer settings) for the tools
// that quantize a Hugging Face model themselves:
//   autoround: `auto-round --model M --bits B --group_size G [--asym] --format F --output_dir D`;
//     a plan becomes AutoRound(..., layer_config={module: {"bits", "group_size", "sym"}}).
//   mlx: `mlx_lm.convert --hf-path M --mlx-path D -q --q-bits B --q-group-size G` (affine
//     int2..8, groups 32/64/128; --q-mode mxfp4|nvfp4|mxfp8); a plan becomes a quant_predicate.
//   openvino: `optimum-cli export openvino --model M --weight-format int4|int8|nf4|mxfp4|f8e4m3
//     [--group-size G] [--sym] [--ratio R] D`; a plan can only be approximated by --ratio.
//   ort-genai: `python -m onnxruntime_genai.models.builder -m M -o D -p int4|fp16|bf16|fp32
//     -e cpu --extra_options int4_block_size=G int4_is_symmetric=...`.
// What each tool cannot express is listed in the warnings; schemes a tool has nothing for are
// refused with the reason.

#include "export/export_plan.h"

namespace qs {

Result<ConfigExport> exportAutoRound(const ExportSelection& selection,
                                     const ConfigOptions& options);
Result<ConfigExport> exportMlx(const ExportSelection& selection, const ConfigOptions& options);
Result<ConfigExport> exportOpenVino(const ExportSelection& selection, const ConfigOptions& options);
Result<ConfigExport> exportOrtGenAi(const ExportSelection& selection, const ConfigOptions& options);

} // namespace qs
