#include "export/exporter.h"

#include "export/compressed_tensors.h"
#include "export/gguf_export.h"
#include "export/hf_config.h"
#include "export/llamacpp_command.h"
#include "export/llmcompressor_recipe.h"
#include "export/report_export.h"
#include "export/tool_commands.h"
#include "export/torchao_config.h"
#include "util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace qs {

bool exportWritesWeights(ExportTarget t) {
    return t == ExportTarget::Gguf || t == ExportTarget::Safetensors || t == ExportTarget::Report;
}

Result<ConfigExport> previewExport(ExportTarget target, const ExportSelection& sel,
                                   const ConfigOptions& o) {
    switch (target) {
    case ExportTarget::HfConfig:
        return exportHfConfig(sel, o);
    case ExportTarget::LlmCompressor:
        return exportLlmCompressorRecipe(sel, o);
    case ExportTarget::LlamaCpp:
        return exportLlamaQuantize(sel, o);
    case ExportTarget::AutoRound:
        return exportAutoRound(sel, o);
    case ExportTarget::Torchao:
        return exportTorchao(sel, o);
    case ExportTarget::Mlx:
        return exportMlx(sel, o);
    case ExportTarget::OpenVino:
        return exportOpenVino(sel, o);
    case ExportTarget::OrtGenAi:
        return exportOrtGenAi(sel, o);
    default:
        return makeError(std::string(exportTargetName(target)) +
                         " writes weights or a report; it has no text preview");
    }
}

Result<ExportOutcome> runExport(ExportTarget target, const ExportSelection& sel,
                                const std::string& outPath, const std::vector<std::string>& inputs,
                                const ExportOptions& o) {
    namespace fs = std::filesystem;
    if (auto st = refuseOverwritingInputs(outPath, inputs); !st)
        return st.error();
    ExportOutcome out;
    nlohmann::ordered_json details = nlohmann::ordered_json::object();
    if (target == ExportTarget::Gguf) {
        GgufExportOptions g;
        g.alignment = o.ggufAlignment;
        g.configJson = o.configJson;
        g.modelName = o.modelName;
        g.imatrix = o.imatrix;
        g.progress = o.progress;
        auto r = exportGguf(sel, outPath, g);
        if (!r)
            return r.error();
        out.warnings = r->warnings;
        out.files = {outPath};
        out.summary = "GGUF with " + std::to_string(r->tensorTypes.size()) + " tensors (" +
                      std::to_string(r->quantizedTensors) + " quantized), " +
                      std::to_string(r->fileBytes) + " bytes";
        details["file_type"] = r->fileType;
        details["bytes"] = r->fileBytes;
        auto& types = details["tensors"] = nlohmann::ordered_json::object();
        for (const auto& [name, type] : r->tensorTypes)
            types[name] = type;
    } else if (target == ExportTarget::Safetensors) {
        if (!outPath.ends_with(".safetensors"))
            for (const char* name : {"model.safetensors", "config.json"})
                if (auto st = refuseOverwritingInputs((fs::path(outPath) / name).string(), inputs);
                    !st)
                    return st.error();
        auto r = exportCompressedTensors(sel, outPath, o.progress);
        if (!r)
            return r.error();
        out.warnings = r->warnings;
        out.files = r->files;
        out.summary = "compressed-tensors safetensors with " + std::to_string(r->quantizedTensors) +
                      " quantized Linear weights";
        details["quantization_config"] = nlohmann::ordered_json::parse(r->quantizationConfig);
    } else if (target == ExportTarget::Report) {
        auto r = exportReport(sel, outPath, o.progress);
        if (!r)
            return r.error();
        out.warnings = r->warnings;
        out.files = {outPath};
        out.summary = "analysis report with " + std::to_string(r->rows) + " rows";
        details["rows"] = r->rows;
    } else {
        ConfigOptions c = o.config;
        if (c.outPath.empty())
            c.outPath = outPath;
        auto r = previewExport(target, sel, c);
        if (!r)
            return r.error();
        const fs::path dir = fs::path(outPath).parent_path();
        for (const auto& side : r->sideFiles) {
            const std::string p =
                fs::path(side.path).is_absolute() ? side.path : (dir / side.path).string();
            if (auto st = refuseOverwritingInputs(p, inputs); !st)
                return st.error();
            if (auto st = writeTextAtomically(p, side.content); !st)
                return st.error();
            out.files.push_back(p);
        }
        if (auto st = writeTextAtomically(outPath, r->content); !st)
            return st.error();
        out.files.insert(out.files.begin(), outPath);
        out.summary = r->summary;
        out.warnings = r->warnings;
        details["content"] = r->content;
    }
    out.details = details.dump();
    return out;
}

} // namespace qs
