#pragma once
// A llama-quantize command line (NUMERICS.md §11.3, option names as llama.cpp's
// tools/quantize/quantize.cpp): `llama-quantize [--pure] [--tensor-type PATTERN=TYPE]...
// [--tensor-type-file FILE] [--token-embedding-type T] [--output-tensor-type T] IN.gguf
// OUT.gguf TYPE`. A uniform scheme uses --pure so every tensor gets TYPE (no k-quant mixture),
// as Quantscope's own GGUF export does; a plan's main type is TYPE and every other tensor gets
// an anchored --tensor-type pattern (a --tensor-type-file beside OUT when there are more than
// eight). A safetensors/HF source is first converted with convert_hf_to_gguf.py (one line
// before). int and nf schemes map to the nearest ggml type, with a warning saying which;
// other families are refused.

#include "export/export_plan.h"
#include "quant/ggml_blocks.h"

namespace qs {

// The ggml type llama.cpp would use for `s`, and whether that is exact (false: approximated,
// with `note` saying how). nullopt when there is no sensible ggml type.
struct GgmlTypeChoice {
    GgmlType type;
    bool exact = true;
    std::string note;
};
std::optional<GgmlTypeChoice> ggmlTypeFor(const Scheme& s);

Result<ConfigExport> exportLlamaQuantize(const ExportSelection& selection,
                                         const ConfigOptions& options);

// Quotes a word for a POSIX shell when it needs it.
std::string shellQuote(const std::string& word);
// The directory a command-line tool should load the model from (an HF folder), and a name
// for outputs: "stories260K".
std::string modelLocation(const Checkpoint& ckpt);
std::string modelStem(const Checkpoint& ckpt);

} // namespace qs
