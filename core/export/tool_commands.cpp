#include "export/tool_commands.h"

#include "export/llamacpp_command.h"

#include <algorithm>
#include <cmath>

namespace qs {
namespace {

bool isIntLike(const Scheme& s) {
    return s.family == "int" || s.family == "gptq" || s.family == "awq" || s.family == "autoround";
}

std::string join(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args)
        s += (s.empty() ? "" : " ") + shellQuote(a);
    return s;
}

std::string outputDirFor(const ExportSelection& sel, const ConfigOptions& o, const Scheme& s,
                         const std::string& suffix) {
    if (!o.outputDir.empty())
        return o.outputDir;
    std::string tag = s.toString();
    std::replace(tag.begin(), tag.end(), ':', '-');
    std::replace(tag.begin(), tag.end(), '=', '-');
    return modelStem(*sel.checkpoint) + "-" + tag + suffix;
}

std::string model(const ExportSelection& sel, const ConfigOptions& o) {
    return o.modelPath.empty() ? modelLocation(*sel.checkpoint) : o.modelPath;
}

Scheme mainScheme(const ExportSelection& sel) {
    return sel.dominant().value_or(Scheme{});
}

void warnGroups(const ExportSelection& sel, const Scheme& main, const std::string& tool,
                std::vector<std::string>& w) {
    for (const auto& g : sel.groups())
        if (!(g.scheme == main))
            w.push_back("approximated: " + std::to_string(g.tensors.size()) +
                        " tensors planned "
                        "as " +
                        g.scheme.toString() + " get " + main.toString() + " (" + tool +
                        " applies one setting to every layer)");
    if (sel.fromPlan && !sel.keptMatrices().empty())
        w.push_back("dropped: " + std::to_string(sel.keptMatrices().size()) +
                    " layers the plan keeps unquantized (" + tool +
                    " has no per-layer exclusion "
                    "on its command line)");
}

int groupOf(const Scheme& s) {
    return s.granularity == Granularity::Group ? s.groupSize : -1;
}

} // namespace

Result<ConfigExport> exportAutoRound(const ExportSelection& sel, const ConfigOptions& o) {
    const Scheme s = mainScheme(sel);
    if (s.family.empty())
        return makeError("autoround: nothing is quantized");
    ConfigExport out;
    for (const auto& g : sel.groups())
        if (!isIntLike(g.scheme))
            return makeError("autoround: " + g.scheme.toString() +
                             ": AutoRound quantizes "
                             "integer weights (int, gptq, awq, autoround schemes)");
    if (s.granularity == Granularity::Tensor)
        return makeError("autoround: " + s.toString() + ": AutoRound has no per-tensor scale");
    if (s.family == "int")
        out.warnings.push_back("approximated: " + s.toString() +
                               ": AutoRound tunes the rounding "
                               "and the clipping range with signed gradient descent (200 "
                               "iterations by default); its weights differ from round to nearest");
    const std::string format = s.family == "gptq"  ? "auto_gptq"
                               : s.family == "awq" ? "auto_awq"
                                                   : "auto_round";
    const std::string dir = outputDirFor(sel, o, s, "-autoround");
    if (!sel.mixed() && !sel.fromPlan) {
        std::vector<std::string> a{"auto-round",
                                   "--model",
                                   model(sel, o),
                                   "--bits",
                                   std::to_string(s.bits),
                                   "--group_size",
                                   std::to_string(groupOf(s))};
        if (!s.symmetric)
            a.push_back("--asym");
        for (const char* k : {"iters", "lr"})
            if (auto it = s.extra.find(k); it != s.extra.end()) {
                a.push_back(std::string("--") + k);
                a.push_back(it->second);
            }
        a.insert(a.end(), {"--format", format, "--output_dir", dir});
        out.content =
            "#!/bin/sh\n# Quantscope export of " + sel.checkpoint->path() + "\n" + join(a) + "\n";
        out.summary = "auto-round command";
        return out;
    }
    std::string lc = "layer_config = {\n";
    for (const auto& g : sel.groups()) {
        if (g.scheme == s)
            continue;
        for (const TensorInfo* t : g.tensors)
            lc += "    \"" + hfModuleName(*sel.checkpoint, *t) +
                  "\": {\"bits\": " + std::to_string(g.scheme.bits) +
                  ", \"group_size\": " + std::to_string(groupOf(g.scheme)) +
                  ", \"sym\": " + (g.scheme.symmetric ? "True" : "False") + "},\n";
    }
    for (const TensorInfo* t : sel.keptMatrices())
        if (!isEmbeddingName(t->name))
            lc += "    \"" + hfModuleName(*sel.checkpoint, *t) + "\": {\"bits\": 16},\n";
    lc += "}\n";
    out.content =
        "# AutoRound with per-layer settings (Quantscope export of " + sel.checkpoint->path() +
        ")\nfrom auto_round import AutoRound\n"
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
        "model_path = \"" +
        model(sel, o) +
        "\"\n"
        "model = AutoModelForCausalLM.from_pretrained(model_path, torch_dtype=\"auto\")\n"
        "tokenizer = AutoTokenizer.from_pretrained(model_path)\n" +
        lc + "ar = AutoRound(model, tokenizer, bits=" + std::to_string(s.bits) +
        ", group_size=" + std::to_string(groupOf(s)) + ", sym=" + (s.symmetric ? "True" : "False") +
        ", layer_config=layer_config)\n"
        "ar.quantize_and_save(\"" +
        dir + "\", format=\"" + format + "\")\n";
    out.summary = "AutoRound script with layer_config";
    return out;
}

Result<ConfigExport> exportMlx(const ExportSelection& sel, const ConfigOptions& o) {
    const Scheme s = mainScheme(sel);
    if (s.family.empty())
        return makeError("mlx: nothing is quantized");
    ConfigExport out;
    struct Mlx {
        std::string mode = "affine";
        int bits = 4, group = 64;
    };
    auto choose = [&](const Scheme& x) -> Result<Mlx> {
        Mlx m;
        if (x.family == "mxfp4" || x.family == "nvfp4" || x.family == "mxfp8_e4m3") {
            m.mode = x.family == "mxfp8_e4m3" ? "mxfp8" : x.family;
            m.bits = x.family == "mxfp8_e4m3" ? 8 : 4;
            m.group = x.family == "nvfp4" ? 16 : 32;
            return m;
        }
        if (!isIntLike(x) && x.family != "hqq")
            return makeError("mlx: " + x.toString() +
                             ": MLX quantizes affine integers (2-8 bits) "
                             "and mxfp4 / nvfp4 / mxfp8");
        if (x.bits == 7)
            return makeError("mlx: " + x.toString() + ": MLX has no 7-bit quantization");
        m.bits = x.bits;
        const int g = groupOf(x);
        m.group = g == 32 || g == 64 || g == 128 ? g : 64;
        if (g != m.group)
            out.warnings.push_back("approximated: " + x.toString() + " -> group size " +
                                   std::to_string(m.group) + " (MLX takes 32, 64 or 128)");
        out.warnings.push_back("approximated: " + x.toString() +
                               ": MLX's affine quantization "
                               "stores a float bias (the group minimum), not an integer zero "
                               "point" +
                               (x.symmetric ? ", and has no symmetric mode" : ""));
        return m;
    };
    auto main = choose(s);
    if (!main)
        return main.error();
    const std::string dir = outputDirFor(sel, o, s, "-mlx");
    if (!sel.mixed() && !sel.fromPlan) {
        std::vector<std::string> a{"mlx_lm.convert",
                                   "--hf-path",
                                   model(sel, o),
                                   "--mlx-path",
                                   dir,
                                   "-q",
                                   "--q-bits",
                                   std::to_string(main->bits),
                                   "--q-group-size",
                                   std::to_string(main->group)};
        if (main->mode != "affine")
            a.insert(a.end(), {"--q-mode", main->mode});
        out.content =
            "#!/bin/sh\n# Quantscope export of " + sel.checkpoint->path() + "\n" + join(a) + "\n";
        out.summary = "mlx_lm.convert command";
        return out;
    }
    std::string plan = "plan = {\n";
    for (const auto& g : sel.groups()) {
        if (g.scheme == s)
            continue;
        auto m = choose(g.scheme);
        if (!m)
            return m.error();
        for (const TensorInfo* t : g.tensors)
            plan += "    \"" + hfModuleName(*sel.checkpoint, *t) +
                    "\": {\"bits\": " + std::to_string(m->bits) +
                    ", \"group_size\": " + std::to_string(m->group) +
                    (m->mode != "affine" ? ", \"mode\": \"" + m->mode + "\"" : std::string()) +
                    "},\n";
    }
    for (const TensorInfo* t : sel.keptMatrices())
        plan += "    \"" + hfModuleName(*sel.checkpoint, *t) + "\": False,\n";
    plan += "}\n";
    out.content = "# MLX conversion with per-layer settings (Quantscope export of " +
                  sel.checkpoint->path() + ")\nfrom mlx_lm import convert\n\n" + plan +
                  "\ndef predicate(path, module, config):\n"
                  "    return plan.get(path, True)  # True: the defaults below\n\n"
                  "convert(\"" +
                  model(sel, o) + "\", mlx_path=\"" + dir +
                  "\", quantize=True, q_bits=" + std::to_string(main->bits) +
                  ", q_group_size=" + std::to_string(main->group) +
                  (main->mode != "affine" ? ", q_mode=\"" + main->mode + "\"" : std::string()) +
                  ", quant_predicate=predicate)\n";
    out.summary = "mlx_lm convert script with a quant_predicate";
    return out;
}

Result<ConfigExport> exportOpenVino(const ExportSelection& sel, const ConfigOptions& o) {
    const Scheme s = mainScheme(sel);
    if (s.family.empty())
        return makeError("openvino: nothing is quantized");
    ConfigExport out;
    std::vector<std::string> a{"optimum-cli", "export", "openvino", "--model", model(sel, o)};
    std::string format;
    if (isIntLike(s) && (s.bits == 4 || s.bits == 8)) {
        format = s.bits == 4 ? "int4" : "int8";
    } else if (s.family == "nf" && s.bits == 4) {
        format = "nf4";
    } else if (s.family == "mxfp4") {
        format = "mxfp4";
    } else if (s.family == "fp8_e4m3" || s.family == "fp8_e5m2") {
        format = s.family == "fp8_e4m3" ? "f8e4m3" : "f8e5m2";
    } else {
        return makeError("openvino: " + s.toString() +
                         ": NNCF weight compression offers int4, "
                         "int8, nf4, mxfp4, f8e4m3 and f8e5m2");
    }
    a.insert(a.end(), {"--weight-format", format});
    if (format == "int4" || format == "nf4") {
        a.insert(a.end(), {"--group-size", std::to_string(groupOf(s))});
        if (s.granularity == Granularity::Tensor)
            out.warnings.push_back("approximated: " + s.toString() +
                                   " -> per-channel scales "
                                   "(NNCF has no per-tensor int4)");
    } else if (s.granularity == Granularity::Group && format == "int8") {
        out.warnings.push_back("approximated: " + s.toString() +
                               ": NNCF's int8 weights are "
                               "per channel");
    }
    if (s.symmetric && (format == "int4" || format == "int8"))
        a.push_back("--sym");
    if (s.family == "awq" || s.family == "gptq")
        a.insert(a.end(), {s.family == "awq" ? "--awq" : "--gptq", "--dataset", "wikitext2"});
    if (format == "int4" || format == "nf4") {
        // The share of 4-bit weights among the quantized ones; NNCF picks which layers get the
        // int8 backup.
        std::uint64_t main = 0, total = 0;
        for (const auto& g : sel.groups()) {
            total += g.elements;
            if (g.scheme.bits == s.bits && g.scheme.family == s.family)
                main += g.elements;
        }
        const double ratio =
            total
                ? std::round(100.0 * static_cast<double>(main) / static_cast<double>(total)) / 100.0
                : 1.0;
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.2f", ratio);
        a.insert(a.end(), {"--ratio", buf});
        if (sel.mixed())
            out.warnings.push_back(std::string("approximated: the plan's per-tensor schemes -> "
                                               "--ratio ") +
                                   buf + " (the share of " + format +
                                   " weights; NNCF chooses which layers get the int8_asym "
                                   "backup)");
        if (sel.fromPlan && !sel.keptMatrices().empty())
            out.warnings.push_back("dropped: " + std::to_string(sel.keptMatrices().size()) +
                                   " layers the plan keeps unquantized (NNCF compresses them "
                                   "to the backup precision)");
    } else {
        warnGroups(sel, s, "optimum-cli", out.warnings);
    }
    a.push_back(outputDirFor(sel, o, s, "-ov"));
    out.content =
        "#!/bin/sh\n# Quantscope export of " + sel.checkpoint->path() + "\n" + join(a) + "\n";
    out.summary = "optimum-cli export openvino command (" + format + ")";
    return out;
}

Result<ConfigExport> exportOrtGenAi(const ExportSelection& sel, const ConfigOptions& o) {
    const Scheme s = mainScheme(sel);
    if (s.family.empty())
        return makeError("ort-genai: nothing is quantized");
    if (!(isIntLike(s) && s.bits == 4))
        return makeError("ort-genai: " + s.toString() +
                         ": the ONNX Runtime GenAI builder "
                         "quantizes weights to int4 only (MatMulNBits); other precisions are "
                         "casts (fp16, bf16, fp32)");
    ConfigExport out;
    int block = groupOf(s);
    const int allowed[] = {16, 32, 64, 128, 256};
    if (std::find(std::begin(allowed), std::end(allowed), block) == std::end(allowed)) {
        const int chosen = block <= 0 ? 256 : 32;
        out.warnings.push_back("approximated: " + s.toString() +
                               " -> int4_block_size=" + std::to_string(chosen) +
                               " (the builder takes 16, 32, 64, 128 "
                               "or 256)");
        block = chosen;
    }
    if (s.family != "int")
        out.warnings.push_back("approximated: " + s.toString() +
                               ": the builder rounds to "
                               "nearest (RTN); " +
                               s.family + "'s calibration is not applied");
    warnGroups(sel, s, "the builder", out.warnings);
    std::vector<std::string> a{"python",
                               "-m",
                               "onnxruntime_genai.models.builder",
                               "-m",
                               model(sel, o),
                               "-o",
                               outputDirFor(sel, o, s, "-onnx"),
                               "-p",
                               "int4",
                               "-e",
                               "cpu",
                               "--extra_options",
                               "int4_block_size=" + std::to_string(block),
                               std::string("int4_is_symmetric=") +
                                   (s.symmetric ? "true" : "false")};
    out.content =
        "#!/bin/sh\n# Quantscope export of " + sel.checkpoint->path() + "\n" + join(a) + "\n";
    out.summary = "onnxruntime-genai builder command (int4)";
    return out;
}

} // namespace qs
