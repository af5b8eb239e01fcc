#include "export/hf_config.h"

#include "export/ct_args.h"
#include "export/torchao_config.h"
#include "quant/registry.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace qs {
namespace {

using ojson = nlohmann::ordered_json;

std::vector<std::string> keptModules(const ExportSelection& sel) {
    std::vector<std::string> out;
    for (const TensorInfo* t : sel.keptMatrices())
        if (!isEmbeddingName(t->name))
            out.push_back(hfModuleName(*sel.checkpoint, *t));
    return out;
}

bool flag(const Scheme& s, const char* key) {
    auto it = s.extra.find(key);
    return it != s.extra.end() && it->second != "0" && it->second != "false";
}

int groupSizeOf(const Scheme& s) {
    return s.granularity == Granularity::Group ? s.groupSize : -1;
}

void warnMixed(const ExportSelection& sel, const Scheme& used, const std::string& method,
               std::vector<std::string>& warnings) {
    for (const auto& g : sel.groups())
        if (!(g.scheme == used))
            warnings.push_back("approximated: " + std::to_string(g.tensors.size()) +
                               " tensors planned as " + g.scheme.toString() + " get " +
                               used.toString() + " (a " + method +
                               " config applies one scheme to every quantized layer)");
}

Result<ojson> bitsandbytes(const ExportSelection& sel, const Scheme& s, const ConfigOptions& o,
                           std::vector<std::string>& w) {
    if (s.family == "nf" && s.bits != 4)
        return makeError(s.toString() + ": bitsandbytes has NormalFloat only at 4 bits (nf4)");
    if (s.granularity != Granularity::Group || s.groupSize != 64)
        w.push_back("approximated: " + s.toString() +
                    ": transformers' bitsandbytes config has "
                    "no block size; bitsandbytes quantizes 4-bit weights in blocks of 64");
    if (s.clip != Clip::MinMax)
        w.push_back("dropped: " + s.toString() + ": clipping (bitsandbytes uses the block absmax)");
    std::string compute = o.computeDtype;
    if (compute.empty()) {
        compute = configTorchDtype(*sel.checkpoint);
        if (compute != "bfloat16" && compute != "float16")
            compute = "bfloat16";
    }
    const auto skip = keptModules(sel);
    ojson j;
    j["quant_method"] = "bitsandbytes";
    j["_load_in_4bit"] = true;
    j["_load_in_8bit"] = false;
    j["load_in_4bit"] = true;
    j["load_in_8bit"] = false;
    j["bnb_4bit_quant_type"] = s.family == "nf" ? "nf4" : "fp4";
    j["bnb_4bit_use_double_quant"] = s.doubleQuant;
    j["bnb_4bit_compute_dtype"] = compute;
    j["bnb_4bit_quant_storage"] = "uint8";
    j["llm_int8_threshold"] = 6.0;
    j["llm_int8_skip_modules"] = skip.empty() ? ojson(nullptr) : ojson(skip);
    j["llm_int8_enable_fp32_cpu_offload"] = false;
    j["llm_int8_has_fp16_weight"] = false;
    return j;
}

ojson gptq(const Scheme& s, std::vector<std::string>& w) {
    ojson j;
    j["quant_method"] = "gptq";
    j["bits"] = s.bits;
    j["group_size"] = groupSizeOf(s);
    j["desc_act"] = flag(s, "act_order");
    j["static_groups"] = flag(s, "static_groups");
    j["sym"] = s.symmetric;
    double damp = 0.01;
    if (auto it = s.extra.find("damp"); it != s.extra.end())
        damp = std::stod(it->second);
    j["damp_percent"] = damp;
    j["true_sequential"] = true;
    j["checkpoint_format"] = "gptq";
    if (s.granularity == Granularity::Tensor)
        w.push_back("approximated: " + s.toString() +
                    ": GPTQ has no per-tensor scale; "
                    "group_size -1 (one scale per output channel) is written");
    return j;
}

ojson awq(const ExportSelection& sel, const Scheme& s, std::vector<std::string>& w) {
    ojson j;
    j["quant_method"] = "awq";
    j["bits"] = s.bits;
    j["group_size"] = groupSizeOf(s);
    j["zero_point"] = !s.symmetric;
    j["version"] = "gemm";
    j["backend"] = "autoawq";
    const auto skip = keptModules(sel);
    j["modules_to_not_convert"] = skip.empty() ? ojson(nullptr) : ojson(skip);
    if (s.bits != 4)
        w.push_back("approximated: " + s.toString() + ": AutoAWQ's GEMM kernels are 4-bit only");
    if (s.symmetric)
        w.push_back("approximated: " + s.toString() +
                    ": AWQ checkpoints store zero points; "
                    "symmetric groups are written with the mid-range zero point");
    return j;
}

ojson hqq(const ExportSelection& sel, const Scheme& s) {
    int axis = 1;
    if (auto it = s.extra.find("axis"); it != s.extra.end())
        axis = std::stoi(it->second);
    ojson wq = {{"nbits", s.bits},       {"channel_wise", true}, {"group_size", groupSizeOf(s)},
                {"optimize", true},      {"round_zero", false},  {"axis", axis},
                {"view_as_float", false}};
    ojson skip = ojson::array({"lm_head"});
    for (const auto& m : keptModules(sel))
        if (m != "lm_head")
            skip.push_back(m);
    return {{"quant_method", "hqq"},
            {"quant_config",
             {{"weight_quant_params", wq},
              {"scale_quant_params", nullptr},
              {"zero_quant_params", nullptr},
              {"offload_meta", false}}},
            {"skip_modules", skip}};
}

ojson autoround(const Scheme& s) {
    return {{"quant_method", "auto-round"}, {"bits", s.bits},
            {"group_size", groupSizeOf(s)}, {"sym", s.symmetric},
            {"data_type", "int"},           {"packing_format", "auto_round:auto_gptq"}};
}

} // namespace

std::string configTorchDtype(const Checkpoint& ckpt) {
    std::string text;
    if (auto it = ckpt.sidecars().find("config.json"); it != ckpt.sidecars().end())
        text = it->second;
    else if (std::ifstream in(std::filesystem::path(ckpt.path()).parent_path() / "config.json");
             in) {
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    try {
        const auto j = nlohmann::json::parse(text);
        if (j.contains("torch_dtype") && j["torch_dtype"].is_string())
            return j["torch_dtype"].get<std::string>();
        if (j.contains("dtype") && j["dtype"].is_string())
            return j["dtype"].get<std::string>();
    } catch (const std::exception&) {
    }
    return {};
}

Result<ConfigExport> exportHfConfig(const ExportSelection& sel, const ConfigOptions& o) {
    const auto dominant = sel.dominant();
    if (!dominant)
        return makeError("hf-config: nothing is quantized (only casts or kept tensors)");
    const Scheme& s = *dominant;
    ConfigExport out;
    auto& w = out.warnings;
    ojson j;
    const std::string f = s.family;
    // compressed-tensors takes mixed plans natively; try it first for the schemes it covers.
    const bool ctFamily = f == "int" || f == "fp8_e4m3" || f == "nvfp4" || f == "mxfp4" ||
                          f == "mxfp8_e4m3" || f == "smoothquant";
    if (ctFamily) {
        auto cfg = ctQuantizationConfig(sel, w);
        if (!cfg)
            return cfg.error();
        j = *cfg;
        out.summary = "compressed-tensors quantization_config (" + j["format"].get<std::string>() +
                      ", " + std::to_string(j["config_groups"].size()) + " config group(s))";
    } else if (f == "nf" || f == "bnb_fp4") {
        auto b = bitsandbytes(sel, s, o, w);
        if (!b)
            return b.error();
        j = *b;
        warnMixed(sel, s, "bitsandbytes", w);
        out.summary = "bitsandbytes 4-bit quantization_config (" +
                      j["bnb_4bit_quant_type"].get<std::string>() +
                      (s.doubleQuant ? ", double quant" : "") + ")";
    } else if (f == "gptq") {
        j = gptq(s, w);
        warnMixed(sel, s, "GPTQ", w);
        out.summary = "GPTQ quantization_config";
    } else if (f == "awq") {
        j = awq(sel, s, w);
        warnMixed(sel, s, "AWQ", w);
        out.summary = "AWQ quantization_config";
    } else if (f == "hqq") {
        j = hqq(sel, s);
        warnMixed(sel, s, "HQQ", w);
        out.summary = "HQQ quantization_config";
    } else if (f == "autoround") {
        j = autoround(s);
        warnMixed(sel, s, "AutoRound", w);
        out.summary = "AutoRound quantization_config";
    } else {
        auto t = torchaoHfConfig(sel, w);
        if (!t)
            return makeError("hf-config: " + s.toString() +
                             ": no transformers quantization "
                             "method (bitsandbytes, gptq, awq, hqq, auto-round, torchao, "
                             "compressed-tensors) represents the " +
                             s.family + " family");
        out.content = *t;
        out.summary = "torchao quantization_config";
        return out;
    }
    out.content = ojson{{"quantization_config", j}}.dump(2) + "\n";
    return out;
}

} // namespace qs
