#include "export/ct_args.h"

#include "quant/registry.h"

#include <map>

namespace qs {
namespace {

using ojson = nlohmann::ordered_json;

bool flag(const Scheme& s, const char* key) {
    auto it = s.extra.find(key);
    return it != s.extra.end() && it->second != "0" && it->second != "false";
}

ojson baseArgs(int bits, const char* type, bool symmetric, const Scheme& s) {
    ojson w;
    w["num_bits"] = bits;
    w["type"] = type;
    w["symmetric"] = symmetric;
    switch (s.granularity) {
    case Granularity::Tensor:
        w["strategy"] = "tensor";
        w["group_size"] = nullptr;
        break;
    case Granularity::Channel:
        w["strategy"] = "channel";
        w["group_size"] = nullptr;
        break;
    default:
        w["strategy"] = "group";
        w["group_size"] = s.groupSize;
        break;
    }
    w["block_structure"] = nullptr;
    w["dynamic"] = false;
    w["actorder"] = nullptr;
    w["observer"] = s.clip == Clip::Mse ? "mse" : "minmax";
    w["observer_kwargs"] = ojson::object();
    return w;
}

std::string spec(const Scheme& s) {
    return s.toString();
}

} // namespace

Result<CtScheme> compressedTensorsScheme(const Scheme& s) {
    CtScheme c;
    const FamilyInfo* f = findFamily(s.family);
    const bool intLike =
        s.family == "int" || s.family == "gptq" || s.family == "awq" || s.family == "autoround";
    if (intLike) {
        c.format = "pack-quantized";
        c.weights = baseArgs(s.bits, "int", s.symmetric, s);
        if (s.family == "gptq" && flag(s, "act_order"))
            c.weights["actorder"] = flag(s, "static_groups") ? "static" : "group";
        if (s.bits != 4 && s.bits != 8)
            c.warnings.push_back("approximated: " + spec(s) +
                                 ": compressed-tensors' "
                                 "pack-quantized compressor and vLLM's kernels take 4 and 8 "
                                 "bits only; other widths pack but may not load");
        if (s.symmetric && !s.fullRange && s.family == "int")
            c.warnings.push_back(
                "approximated: " + spec(s) +
                ": compressed-tensors computes symmetric scales "
                "as absmax/((2^b-1)/2) over [-2^(b-1), 2^(b-1)-1] (Quantscope's range=full), "
                "not absmax/(2^(b-1)-1); weights exported by Quantscope keep their own scales");
        if (s.clip == Clip::Mse)
            c.warnings.push_back("approximated: " + spec(s) +
                                 ": clip=mse maps to "
                                 "compressed-tensors' \"mse\" observer, whose grid differs");
        if (s.clip == Clip::Percentile)
            c.warnings.push_back("dropped: " + spec(s) + ": clip=p" +
                                 std::to_string(s.clipPercentile) + " (no percentile observer)");
        if (s.granularity == Granularity::Group && s.bits == 4 && s.groupSize == 128)
            c.preset = s.symmetric ? "W4A16" : "W4A16_ASYM";
        if (s.granularity == Granularity::Channel && s.bits == 8 && s.symmetric)
            c.preset = "W8A16";
    } else if (s.family == "smoothquant") {
        c.format = "int-quantized";
        c.weights = baseArgs(s.bits, "int", true, s);
        c.inputActivations = ojson{
            {"num_bits", 8},         {"type", "int"},   {"symmetric", true},  {"strategy", "token"},
            {"group_size", nullptr}, {"dynamic", true}, {"observer", nullptr}};
        if (s.bits == 8 && s.granularity == Granularity::Channel)
            c.preset = "W8A8";
    } else if (s.family == "fp8_e4m3") {
        c.format = "float-quantized";
        c.weights = baseArgs(8, "float", true, s);
    } else if (s.family == "nvfp4") {
        c.format = "nvfp4-pack-quantized";
        c.weights = baseArgs(4, "float", true, s);
        c.weights["strategy"] = "tensor_group";
        c.weights["group_size"] = 16;
        c.weights["scale_dtype"] = "torch.float8_e4m3fn";
        c.preset = "NVFP4A16";
    } else if (s.family == "mxfp4") {
        c.format = "mxfp4-pack-quantized";
        c.weights = baseArgs(4, "float", true, s);
        c.weights["strategy"] = "group";
        c.weights["group_size"] = 32;
        c.weights["scale_dtype"] = "torch.uint8";
        if (s.scaleRule != MxScaleRule::Even)
            c.warnings.push_back("approximated: " + spec(s) +
                                 ": compressed-tensors rounds the "
                                 "block amax to the element precision before taking the E8M0 "
                                 "exponent (Quantscope's scale=even)");
    } else if (s.family == "mxfp8_e4m3") {
        c.format = "mxfp8-quantized";
        c.weights = baseArgs(8, "float", true, s);
        c.weights["strategy"] = "group";
        c.weights["group_size"] = 32;
        c.weights["scale_dtype"] = "torch.uint8";
    } else {
        std::string why = "compressed-tensors has no " + s.family + " type";
        if (f && f->kind == FamilyKind::GgmlBlock)
            why += " (a ggml block format: export with --to gguf or --to llamacpp)";
        else if (s.family == "nf" || s.family == "bnb_fp4")
            why += " (bitsandbytes: --to hf-config writes its config)";
        else if (s.family == "fp8_e5m2")
            why += " (its float8 type is E4M3)";
        return makeError(spec(s) + ": " + why);
    }
    if (s.rounding == Rounding::Stochastic)
        c.warnings.push_back("dropped: " + spec(s) +
                             ": round=stochastic (compressed-tensors "
                             "rounds to nearest)");
    return c;
}

bool ctQuantizes(const ExportTensor& t, bool fromPlan) {
    if (!t.quantized() || t.tensor->shape.size() != 2 || isEmbeddingName(t.tensor->name))
        return false;
    return (fromPlan || !isLmHeadName(t.tensor->name)) && ctDivides(*t.scheme, t.tensor->shape[1]);
}

bool ctDivides(const Scheme& s, std::int64_t cols) {
    if (s.family == "nvfp4")
        return cols % 16 == 0;
    if (s.family == "mxfp4" || s.family == "mxfp8_e4m3")
        return cols % 32 == 0;
    return s.granularity != Granularity::Group || cols % s.groupSize == 0;
}

Result<ojson> ctQuantizationConfig(const ExportSelection& sel, std::vector<std::string>& warnings) {
    const Checkpoint& ckpt = *sel.checkpoint;
    struct Group {
        Scheme scheme;
        CtScheme ct;
        std::vector<std::string> modules;
    };
    std::vector<Group> groups;
    std::vector<std::string> ignore, droppedEmbeddings, notDivided;
    for (const ExportTensor& t : sel.tensors) {
        if (t.tensor->shape.size() != 2 || !t.tensor->name.ends_with(".weight"))
            continue;
        const std::string module = hfModuleName(ckpt, *t.tensor);
        const bool undivided = t.quantized() && !isEmbeddingName(t.tensor->name) &&
                               (sel.fromPlan || !isLmHeadName(t.tensor->name)) &&
                               !ctDivides(*t.scheme, t.tensor->shape[1]);
        if (!ctQuantizes(t, sel.fromPlan)) {
            if (t.quantized() && isEmbeddingName(t.tensor->name))
                droppedEmbeddings.push_back(module);
            else if (!isEmbeddingName(t.tensor->name))
                ignore.push_back(module);
            if (!undivided)
                continue;
            notDivided.push_back(module + " " + t.tensor->shapeString());
        }
        // Undivided layers still make their scheme's group (the config is meant for the model,
        // this checkpoint's odd layers are ignored), but are not its targets.
        auto it = std::find_if(groups.begin(), groups.end(),
                               [&](const Group& g) { return g.scheme == *t.scheme; });
        if (it == groups.end()) {
            auto ct = compressedTensorsScheme(*t.scheme);
            if (!ct)
                return ct.error();
            for (const auto& w : ct->warnings)
                warnings.push_back(w);
            it = groups.insert(groups.end(), Group{*t.scheme, *ct, {}});
        }
        if (!undivided)
            it->modules.push_back(module);
    }
    if (groups.size() > 1)
        std::erase_if(groups, [](const Group& g) { return g.modules.empty(); });
    if (groups.empty())
        return makeError("no Linear weight is quantized: nothing for compressed-tensors to do");
    if (!droppedEmbeddings.empty() && sel.fromPlan)
        warnings.push_back("dropped: embeddings stay dense (compressed-tensors quantizes Linear "
                           "layers): " +
                           droppedEmbeddings.front() +
                           (droppedEmbeddings.size() > 1 ? " and others" : ""));
    if (!notDivided.empty())
        warnings.push_back("kept dense: " + std::to_string(notDivided.size()) +
                           " layers whose columns the group size does not divide (compressed-"
                           "tensors needs whole groups), listed in ignore: " +
                           notDivided.front() + (notDivided.size() > 1 ? " and others" : ""));
    ojson cfg;
    cfg["quant_method"] = "compressed-tensors";
    std::string format = groups.front().ct.format;
    for (const auto& g : groups)
        if (g.ct.format != format)
            format = "mixed-precision";
    cfg["format"] = format;
    cfg["quantization_status"] = "compressed";
    cfg["global_compression_ratio"] = nullptr;
    cfg["kv_cache_scheme"] = nullptr;
    if (!sel.fromPlan && std::find(ignore.begin(), ignore.end(), "lm_head") == ignore.end())
        ignore.insert(ignore.begin(), "lm_head"); // llm-compressor's default, tied or not
    cfg["ignore"] = ignore;
    ojson groupsJson = ojson::object();
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const Group& g = groups[i];
        ojson targets = ojson::array();
        if (groups.size() == 1)
            targets.push_back("Linear");
        else
            for (const auto& m : g.modules)
                targets.push_back("re:^" + escapeRegex(m) + "$");
        groupsJson["group_" + std::to_string(i)] = {{"targets", targets},
                                                    {"weights", g.ct.weights},
                                                    {"input_activations", g.ct.inputActivations},
                                                    {"output_activations", nullptr},
                                                    {"format", g.ct.format}};
    }
    cfg["config_groups"] = groupsJson;
    return cfg;
}

} // namespace qs
