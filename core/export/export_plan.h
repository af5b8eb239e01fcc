#pragma once
// What an export writes, tensor by tensor: the scheme each tensor of a checkpoint gets under a
// uniform scheme (--scheme) or a plan (--plan), and the common shape of every exporter's answer
// (the text or files it wrote and what it had to approximate or drop). Pure values; any thread.
//
// Rules: a uniform scheme quantizes every tensor with two or more dimensions (1-D norms and
// biases keep their stored precision, as `analyze` does); a plan gives each named tensor its
// own spec and the plan's default to the other tensors with two or more dimensions. A cast spec
// (f16, bf16, f32) means "keep at that precision", which exporters list as not quantized.
// A plan that names a tensor the checkpoint lacks is refused, with the names.

#include "io/checkpoint.h"
#include "plan/plan_file.h"
#include "quant/scheme.h"
#include "util/result.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qs {

enum class ExportTarget {
    Gguf,
    Safetensors,
    HfConfig,
    LlmCompressor,
    LlamaCpp,
    AutoRound,
    Torchao,
    Mlx,
    OpenVino,
    OrtGenAi,
    Report,
};

// "gguf", "safetensors", "hf-config", "llmcompressor", "llamacpp", "autoround", "torchao",
// "mlx", "openvino", "ort-genai", "report".
std::optional<ExportTarget> exportTargetFromName(std::string_view name);
std::string_view exportTargetName(ExportTarget t);
std::string exportTargetNames(); // comma-separated, for messages

struct ExportTensor {
    const TensorInfo* tensor = nullptr;
    std::optional<Scheme> scheme; // nullopt: kept as stored
    bool quantized() const;       // a scheme that is not a plain cast
};

struct SchemeGroup {
    Scheme scheme;
    std::vector<const TensorInfo*> tensors;
    std::uint64_t elements = 0;
};

struct ExportSelection {
    const Checkpoint* checkpoint = nullptr;
    std::vector<ExportTensor> tensors; // every tensor of the checkpoint, in its order
    bool fromPlan = false;

    // Distinct quantizing schemes (casts excluded) in order of first use.
    std::vector<SchemeGroup> groups() const;
    // The quantizing scheme covering the most elements; nullopt when nothing is quantized.
    std::optional<Scheme> dominant() const;
    // Tensors with two or more dimensions that are not quantized (kept or cast).
    std::vector<const TensorInfo*> keptMatrices() const;
    bool mixed() const { return groups().size() > 1; }
};

Result<ExportSelection> selectForExport(const Checkpoint& ckpt, const Scheme& scheme);
Result<ExportSelection> selectForExport(const Checkpoint& ckpt, const Plan& plan);

// What a config exporter produced: the main text (written to OUT) and side files it refers to
// (e.g. a llama-quantize --tensor-type-file), plus what the target could not express exactly.
struct ExportFile {
    std::string path; // relative to OUT's directory when not absolute
    std::string content;
};
struct ConfigExport {
    std::string content;
    std::vector<ExportFile> sideFiles;
    std::vector<std::string> warnings; // "approximated: ...", "dropped: ..."
    std::string summary;               // one line: what the content is
};

// Options the command-line targets need to name things.
struct ConfigOptions {
    std::string modelPath;    // the model as the tool should load it (default: the input path)
    std::string outPath;      // where the config/command is written (names side files)
    std::string outputDir;    // the tool's output (default: derived from the model name)
    std::string computeDtype; // bitsandbytes compute dtype; default from config.json, else bf16
    std::string imatrixPath;  // llamacpp: the importance matrix for --imatrix (default: made by
                              // a llama-imatrix line the command starts with)
};

// HF module name of a tensor: GGUF names are mapped back to Hugging Face names where known,
// and the ".weight" suffix is dropped ("model.layers.0.self_attn.q_proj").
std::string hfModuleName(const Checkpoint& ckpt, const TensorInfo& t);
// Token embeddings ("embed_tokens", "wte", "word_embeddings", "tok_embeddings", "token_embd"):
// not Linear layers, so compressed-tensors and most weight-only tools leave them dense.
bool isEmbeddingName(const std::string& name);
// "lm_head" / "output.weight": llm-compressor's recipes ignore it by default.
bool isLmHeadName(const std::string& name);
// A Python/regex literal that matches exactly one module name: "re:^model\.layers\.0\.mlp$".
std::string escapeRegex(const std::string& s);

} // namespace qs
