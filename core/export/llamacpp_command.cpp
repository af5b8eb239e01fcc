#include "export/llamacpp_command.h"

#include "export/hf_config.h"
#include "export/llama_names.h"
#include "quant/ggml_quant.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace qs {
namespace {

namespace fs = std::filesystem;

// llama-quantize's ftype name for a model mostly in `t` (QUANT_OPTIONS).
std::string ftypeName(GgmlType t) {
    switch (t) {
    case GgmlType::Q2_K:
        return "Q2_K";
    case GgmlType::Q3_K:
        return "Q3_K";
    case GgmlType::Q4_K:
        return "Q4_K";
    case GgmlType::Q5_K:
        return "Q5_K";
    case GgmlType::Q6_K:
        return "Q6_K";
    default: {
        std::string n = ggmlTypeTraits(t)->name;
        std::transform(n.begin(), n.end(), n.begin(), ::toupper);
        return n;
    }
    }
}

std::string typeName(GgmlType t) {
    return ggmlTypeTraits(t)->name; // ggml_type_name spelling, e.g. "q4_K"
}

GgmlType keptType(const TensorInfo& t) {
    if (t.storedType.empty() && t.dtype == DType::F16)
        return GgmlType::F16;
    if (t.storedType.empty() && t.dtype == DType::BF16)
        return GgmlType::BF16;
    return GgmlType::F32;
}

} // namespace

std::string shellQuote(const std::string& w) {
    if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789_-./=:,+@") == std::string::npos)
        return w;
    std::string q = "'";
    for (char c : w)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string modelLocation(const Checkpoint& ckpt) {
    const fs::path p(ckpt.path());
    std::error_code ec;
    if (!fs::is_directory(p, ec) && fs::exists(p.parent_path() / "config.json", ec))
        return p.parent_path().empty() ? "." : p.parent_path().string();
    return ckpt.path();
}

std::string modelStem(const Checkpoint& ckpt) {
    fs::path p(ckpt.path());
    std::string s = p.filename().empty() ? p.parent_path().filename().string() : p.stem().string();
    for (const char* suffix : {".f32", ".f16", ".bf16"})
        if (s.ends_with(suffix))
            s.resize(s.size() - std::string_view(suffix).size());
    return s.empty() ? "model" : s;
}

std::optional<GgmlTypeChoice> ggmlTypeFor(const Scheme& s) {
    if (auto t = ggmlTypeForFamily(s.family))
        return GgmlTypeChoice{*t, true, {}};
    if (s.family == "f32")
        return GgmlTypeChoice{GgmlType::F32, true, {}};
    if (s.family == "f16")
        return GgmlTypeChoice{GgmlType::F16, true, {}};
    if (s.family == "bf16")
        return GgmlTypeChoice{GgmlType::BF16, true, {}};
    const std::string spec = s.toString();
    if (s.family == "nf" && s.bits == 4)
        return GgmlTypeChoice{GgmlType::IQ4_NL, false,
                              spec + " -> iq4_nl (ggml's non-linear 4-bit codebook in blocks of "
                                     "32 with an fp16 scale; not the NF4 levels)"};
    if (s.family != "int" && s.family != "gptq" && s.family != "awq" && s.family != "autoround")
        return std::nullopt;
    const bool g32 = s.granularity == Granularity::Group && s.groupSize == 32;
    GgmlType t;
    switch (s.bits) {
    case 2:
        t = GgmlType::Q2_K;
        break;
    case 3:
        t = GgmlType::Q3_K;
        break;
    case 4:
        t = g32 ? (s.symmetric ? GgmlType::Q4_0 : GgmlType::Q4_1) : GgmlType::Q4_K;
        break;
    case 5:
        t = g32 ? (s.symmetric ? GgmlType::Q5_0 : GgmlType::Q5_1) : GgmlType::Q5_K;
        break;
    case 6:
        t = GgmlType::Q6_K;
        break;
    case 8:
        t = GgmlType::Q8_0;
        break;
    default:
        return std::nullopt;
    }
    return GgmlTypeChoice{
        t, false,
        spec + " -> " + typeName(t) + " (the nearest ggml block format; " +
            "llama.cpp quantizes with its own scale rules" +
            (s.family == "int" ? "" : ", without " + s.family + "'s calibration") + ")"};
}

Result<ConfigExport> exportLlamaQuantize(const ExportSelection& sel, const ConfigOptions& o) {
    const Checkpoint& ckpt = *sel.checkpoint;
    const bool fromGguf = ckpt.format() == "gguf";
    ConfigExport out;
    std::map<std::string, GgmlType> types; // GGUF name -> type
    std::map<GgmlType, std::uint64_t> elements;
    std::vector<std::string> notes;
    // Quantized tensors with the imatrix option and without it (llama-quantize's --imatrix
    // applies to every tensor its file has, unless --include-weights / --exclude-weights).
    std::vector<std::string> withImatrix, withoutImatrix;
    bool requantize = false;
    for (const ExportTensor& et : sel.tensors) {
        const TensorInfo& t = *et.tensor;
        std::string name = t.name;
        if (!fromGguf) {
            auto g = hfToGgufName(t.name);
            if (!g)
                continue;
            name = *g;
        }
        if (t.shape.size() < 2)
            continue; // llama-quantize never quantizes 1-D tensors
        requantize |= !t.storedType.empty();
        GgmlType type = keptType(t);
        if (et.scheme) {
            auto c = ggmlTypeFor(*et.scheme);
            if (!c)
                return makeError("llamacpp: " + et.scheme->toString() + " (" + t.name +
                                 ") has no ggml counterpart; llama-quantize writes ggml block "
                                 "types (q4_0 ... q8_0, q2_k ... q6_k, iq4_nl, iq4_xs)");
            type = c->type;
            if (!c->exact && std::find(notes.begin(), notes.end(), c->note) == notes.end())
                notes.push_back(c->note);
            if (ggmlTypeTraits(type)->quantized) {
                const bool imatrix = needsActivations(*et.scheme) &&
                                     findFamily(et.scheme->family)->kind == FamilyKind::GgmlBlock;
                (imatrix ? withImatrix : withoutImatrix).push_back(name);
            }
        }
        types[name] = type;
        elements[type] += static_cast<std::uint64_t>(t.numel());
    }
    for (const auto& n : notes)
        out.warnings.push_back("approximated: " + n);
    if (types.empty())
        return makeError("llamacpp: no tensor of " + ckpt.path() + " has a llama.cpp name");
    GgmlType main = elements.begin()->first;
    for (const auto& [t, n] : elements)
        if (n > elements[main] ||
            (!ggmlTypeTraits(main)->quantized && ggmlTypeTraits(t)->quantized))
            main = t;

    std::string lines, input;
    if (fromGguf) {
        input = ckpt.path();
    } else {
        const std::string dtype = configTorchDtype(ckpt);
        const std::string outtype = dtype == "float32"   ? "f32"
                                    : dtype == "float16" ? "f16"
                                                         : "bf16";
        input = modelStem(ckpt) + "-" + outtype + ".gguf";
        lines += "python convert_hf_to_gguf.py " + shellQuote(modelLocation(ckpt)) + " --outtype " +
                 outtype + " --outfile " + shellQuote(input) + "\n";
    }
    const std::string output =
        !o.outputDir.empty()
            ? o.outputDir
            : (fs::path(input).parent_path() / (modelStem(ckpt) + "-" + ftypeName(main) + ".gguf"))
                  .string();
    std::vector<std::string> args{"llama-quantize"};
    if (requantize) {
        args.push_back("--allow-requantize");
        out.warnings.push_back("approximated: the source holds quantized tensors; llama-quantize "
                               "requantizes them (--allow-requantize), losing more than "
                               "quantizing from 16 or 32 bits");
    }
    // A uniform scheme: --pure gives every tensor TYPE. A plan: every tensor gets its own
    // anchored pattern, so llama-quantize's k-quant mixture never chooses for it (and the
    // result does not depend on how a llama.cpp version orders or combines patterns).
    std::set<GgmlType> distinct;
    for (const auto& [name, type] : types)
        distinct.insert(type);
    const bool uniform = distinct.size() == 1 && !sel.fromPlan;
    std::vector<std::string> overrides;
    std::optional<GgmlType> embd, output_;
    for (const auto& [name, type] : types) {
        if (name == "token_embd.weight")
            embd = type;
        else if (name == "output.weight")
            output_ = type;
        else if (!uniform)
            overrides.push_back("^" + escapeRegex(name) + "$=" + typeName(type));
    }
    if (uniform)
        args.push_back("--pure");
    if (embd && !uniform) {
        args.push_back("--token-embedding-type");
        args.push_back(typeName(*embd));
    }
    if (output_ && !uniform) {
        args.push_back("--output-tensor-type");
        args.push_back(typeName(*output_));
    }
    if (overrides.size() > 8) {
        const fs::path base =
            o.outPath.empty() ? fs::path("llama-quantize.sh") : fs::path(o.outPath);
        const std::string file = base.stem().string() + ".tensor-types.txt";
        std::string text;
        for (const auto& ov : overrides)
            text += ov + "\n";
        out.sideFiles.push_back({file, text});
        args.push_back("--tensor-type-file");
        args.push_back((base.parent_path() / file).string());
    } else {
        for (const auto& ov : overrides) {
            args.push_back("--tensor-type");
            args.push_back(ov);
        }
    }
    if (!withImatrix.empty()) {
        std::string file = o.imatrixPath;
        if (file.empty()) {
            file = (fs::path(input).parent_path() / (modelStem(ckpt) + ".imatrix.gguf")).string();
            lines += "# the importance matrix for the imatrix option: llama-imatrix over text like "
                     "the model's use (calibration.txt is yours to supply)\n"
                     "llama-imatrix -m " +
                     shellQuote(input) + " -f calibration.txt -o " + shellQuote(file) + "\n";
            out.warnings.push_back("to supply: calibration.txt, the text llama-imatrix collects "
                                   "the importance matrix from (or name a file already made: "
                                   "--imatrix FILE)");
        }
        args.push_back("--imatrix");
        args.push_back(file);
        // Only the tensors planned with it: name the smaller side.
        if (!withoutImatrix.empty()) {
            const bool include = withImatrix.size() <= withoutImatrix.size();
            for (const auto& n : include ? withImatrix : withoutImatrix) {
                args.push_back(include ? "--include-weights" : "--exclude-weights");
                args.push_back(n);
            }
        }
    }
    args.push_back(input);
    args.push_back(output);
    args.push_back(ftypeName(main));
    std::string cmd;
    for (const auto& a : args)
        cmd += (cmd.empty() ? "" : " ") + shellQuote(a);
    out.content = "#!/bin/sh\n# Quantscope export of " + ckpt.path() + "\n" + lines + cmd + "\n";
    out.summary =
        "llama-quantize to " + ftypeName(main) +
        (overrides.empty() ? ""
                           : " with " + std::to_string(overrides.size()) + " per-tensor overrides");
    return out;
}

} // namespace qs
