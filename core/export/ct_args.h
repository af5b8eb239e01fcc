#pragma once
// compressed-tensors' description of a scheme (NUMERICS.md §11.1, §5.4): the QuantizationArgs of
// the weights (and activations where the scheme implies them) and the compression format, as
// the hf-config, llmcompressor and safetensors exporters all write them. Internal to
// core/export (it speaks nlohmann::json); pure functions, any thread.

#include "export/export_plan.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace qs {

struct CtScheme {
    std::string format; // "pack-quantized", "float-quantized", "nvfp4-pack-quantized", ...
    nlohmann::ordered_json weights;
    nlohmann::ordered_json inputActivations; // null for weight-only
    std::string preset; // llm-compressor preset name when the args equal one ("W4A16"), or ""
    std::vector<std::string> warnings;
};

// An error when compressed-tensors has no representation (nf4, ggml types, kmeans, ...).
Result<CtScheme> compressedTensorsScheme(const Scheme& s);

// Tensors a compressed-tensors export quantizes: Linear weights with a quantizing scheme;
// embeddings never (not Linear), lm_head only when a plan names it. Others are ignored.
bool ctQuantizes(const ExportTensor& t, bool fromPlan);

// Whether compressed-tensors can lay out `s` on rows of `cols` (its groups must divide them).
bool ctDivides(const Scheme& s, std::int64_t cols);

// The whole "quantization_config": one config group per scheme (targets "Linear" for a uniform
// scheme, else the modules as regexes), ignore = modules left dense, one format (or
// "mixed-precision" when the groups' formats differ).
Result<nlohmann::ordered_json> ctQuantizationConfig(const ExportSelection& sel,
                                                    std::vector<std::string>& warnings);

} // namespace qs
