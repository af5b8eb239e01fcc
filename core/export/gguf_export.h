#pragma once
// A checkpoint written as a GGUF llama.cpp loads, each tensor in the ggml type its scheme names.
//   GGUF source: every metadata pair is copied verbatim (arrays and the tokenizer included)
//     except general.alignment, general.file_type and general.quantization_version, which are
//     set anew; tensor names and order are kept; tensors without a scheme keep their stored
//     type and bytes.
//   safetensors / Hugging Face source: metadata is mapped from config.json and tensor names
//     follow llama.cpp (llama_names.h); q/k rows are un-permuted for Llama; 1-D tensors are F32
//     as convert_hf_to_gguf.py writes them; no tokenizer is converted (tokenizer.ggml.model is
//     "none", which llama.cpp loads as a model without a vocabulary), and the report says so.
// Quantized data is exactly what ggml's quantize_<type> writes (ggml_quant.h). A tensor whose
// rows the type's block does not divide takes llama.cpp's fallback type (q4_k -> q5_0, or F16
// where that does not divide them either: llamaCppFallback); where the type has none (q4_0 ...
// q8_0: llama-quantize stops) it stays F32. Both are listed in the warnings. Schemes that are not
// ggml types (int4:g64, nf4...) are refused: GGUF stores only ggml's own block formats. The
// imatrix option quantizes with the tensor's entry of GgufExportOptions::imatrix, as
// llama-quantize --imatrix does (without one where the file has none: a warning lists them).

#include "export/export_plan.h"
#include "methods/imatrix_file.h"
#include "quant/ggml_blocks.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qs {

struct GgufExportOptions {
    std::uint32_t alignment = 32;
    std::string configJson; // config.json text for non-GGUF sources (empty: look beside them)
    std::string modelName;  // general.name for non-GGUF sources (empty: the file's stem)
    // For tensors planned with the imatrix option (q4_k:imatrix): their entries, by llama.cpp
    // name (not owned). Required when the plan has such tensors.
    const ImatrixFile* imatrix = nullptr;
    ProgressFn progress;
};

struct GgufExportReport {
    std::vector<std::string> warnings;
    std::vector<std::pair<std::string, std::string>> tensorTypes; // GGUF name -> ggml type
    std::uint64_t quantizedTensors = 0;
    std::uint64_t fileBytes = 0;
    std::uint32_t fileType = 0; // general.file_type written (llama_ftype)
};

// The llama_ftype llama.cpp records for a model mostly in `t` (Q4_K -> 15, Q4_K_M).
std::uint32_t llamaFileType(GgmlType t);

Result<GgufExportReport> exportGguf(const ExportSelection& selection, const std::string& outPath,
                                    const GgufExportOptions& options = {});

} // namespace qs
