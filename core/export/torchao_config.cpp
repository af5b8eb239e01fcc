#include "export/torchao_config.h"

#include "export/llamacpp_command.h"

#include <nlohmann/json.hpp>

#include <set>

namespace qs {
namespace {

using ojson = nlohmann::ordered_json;

struct TorchaoChoice {
    std::string cls;
    std::string args;             // Python keyword arguments
    ojson data = ojson::object(); // config_to_dict "_data"
    int version = 1;
    std::set<std::string> imports;      // from torchao.quantization
    std::set<std::string> protoImports; // from torchao.prototype.mx_formats
    std::vector<std::string> warnings;
};

ojson dtypeJson(const std::string& name) {
    return {{"_type", "torch.dtype"}, {"_data", name}};
}

Result<TorchaoChoice> choose(const Scheme& s) {
    TorchaoChoice c;
    const std::string spec = s.toString();
    if (s.family == "int") {
        if (s.symmetric && !s.fullRange)
            c.warnings.push_back("approximated: " + spec +
                                 ": torchao's symmetric scale is "
                                 "absmax/((2^b-1)/2) over [-2^(b-1), 2^(b-1)-1] (Quantscope's "
                                 "range=full), not absmax/(2^(b-1)-1)");
        if (s.clip != Clip::MinMax)
            c.warnings.push_back("dropped: " + spec + ": clipping (torchao uses min/max)");
        if (s.bits == 8 && s.granularity == Granularity::Channel && s.symmetric) {
            c.cls = "Int8WeightOnlyConfig";
            c.version = 2;
            c.imports = {c.cls};
            return c;
        }
        c.cls = "IntxWeightOnlyConfig";
        c.version = 2;
        std::string gran;
        ojson granJson;
        if (s.granularity == Granularity::Group) {
            gran = "PerGroup(" + std::to_string(s.groupSize) + ")";
            granJson = {
                {"_type", "PerGroup"}, {"_version", 1}, {"_data", {{"group_size", s.groupSize}}}};
            c.imports.insert("PerGroup");
        } else if (s.granularity == Granularity::Channel) {
            gran = "PerAxis(0)";
            granJson = {{"_type", "PerAxis"}, {"_version", 1}, {"_data", {{"axis", 0}}}};
            c.imports.insert("PerAxis");
        } else {
            gran = "PerTensor()";
            granJson = {{"_type", "PerTensor"}, {"_version", 1}, {"_data", ojson::object()}};
            c.imports.insert("PerTensor");
        }
        const std::string mapping = s.symmetric ? "SYMMETRIC" : "ASYMMETRIC";
        c.args = "weight_dtype=torch.int" + std::to_string(s.bits) + ", granularity=" + gran +
                 ", mapping_type=MappingType." + mapping;
        c.data = {{"weight_dtype", dtypeJson("int" + std::to_string(s.bits))},
                  {"granularity", granJson},
                  {"mapping_type", {{"_type", "MappingType"}, {"_data", mapping}}}};
        c.imports.insert({c.cls, "MappingType"});
        return c;
    }
    if (s.family == "hqq" && s.bits == 4 && s.granularity == Granularity::Group) {
        c.cls = "Int4WeightOnlyConfig";
        c.version = 2;
        c.args =
            "group_size=" + std::to_string(s.groupSize) + ", int4_choose_qparams_algorithm=\"hqq\"";
        c.data = {{"group_size", s.groupSize}, {"int4_choose_qparams_algorithm", "hqq"}};
        c.imports = {c.cls};
        c.warnings.push_back("approximated: " + spec +
                             ": torchao's HQQ qparams solver is its own "
                             "port of HQQ (same objective, its own iteration settings)");
        return c;
    }
    if (s.family == "fp8_e4m3" || s.family == "fp8_e5m2") {
        const std::string dt = s.family == "fp8_e4m3" ? "float8_e4m3fn" : "float8_e5m2";
        c.cls = "Float8WeightOnlyConfig";
        c.version = 2;
        c.args = "weight_dtype=torch." + dt;
        c.data = {{"weight_dtype", dtypeJson(dt)}};
        c.imports = {c.cls};
        if (s.granularity != Granularity::Channel)
            c.warnings.push_back("approximated: " + spec +
                                 ": torchao's float8 weight-only "
                                 "config scales per output channel");
        return c;
    }
    if (s.family == "fp6_e3m2" || s.family == "fp6_e2m3") {
        const int e = s.family == "fp6_e3m2" ? 3 : 2;
        c.cls = "FPXWeightOnlyConfig";
        c.args = "ebits=" + std::to_string(e) + ", mbits=" + std::to_string(5 - e);
        c.data = {{"ebits", e}, {"mbits", 5 - e}};
        c.imports = {c.cls};
        if (s.granularity != Granularity::Channel)
            c.warnings.push_back("approximated: " + spec +
                                 ": FPXWeightOnlyConfig (FP6-LLM) "
                                 "scales per output channel");
        return c;
    }
    if (s.family == "nvfp4") {
        c.cls = "NVFP4WeightOnlyConfig";
        c.protoImports = {c.cls};
        return c;
    }
    if (s.family == "mxfp4" || s.family == "mxfp8_e4m3") {
        c.cls = "MXDynamicActivationMXWeightConfig";
        const std::string dt = s.family == "mxfp4" ? "float4_e2m1fn_x2" : "float8_e4m3fn";
        const char* modes[] = {"FLOOR", "CEIL", "EVEN", "RCEIL"};
        const std::string mode = modes[static_cast<int>(s.scaleRule)];
        c.args = "activation_dtype=torch." + dt + ", weight_dtype=torch." + dt +
                 ", block_size=32, scaling_mode=ScaleCalculationMode." + mode;
        c.data = {{"activation_dtype", dtypeJson(dt)},
                  {"weight_dtype", dtypeJson(dt)},
                  {"block_size", 32},
                  {"scaling_mode", {{"_type", "ScaleCalculationMode"}, {"_data", mode}}}};
        c.protoImports = {c.cls, "ScaleCalculationMode"};
        c.warnings.push_back("approximated: " + spec +
                             ": torchao's MX inference config also "
                             "quantizes activations (dynamic MX); it has no weight-only MX config");
        return c;
    }
    return makeError(spec + ": torchao has no config for the " + s.family + " family" +
                     (s.family == "gptq" || s.family == "awq"
                          ? " here (calibrated: --to llmcompressor writes a recipe)"
                          : ""));
}

} // namespace

Result<ConfigExport> exportTorchao(const ExportSelection& sel, const ConfigOptions& o) {
    const auto groups = sel.groups();
    if (groups.empty())
        return makeError("torchao: nothing is quantized (only casts or kept tensors)");
    ConfigExport out;
    std::vector<std::pair<const SchemeGroup*, TorchaoChoice>> choices;
    std::set<std::string> imports{"quantize_"}, proto;
    for (const auto& g : groups) {
        auto c = choose(g.scheme);
        if (!c)
            return makeError("torchao: " + c.message());
        for (const auto& w : c->warnings)
            out.warnings.push_back(w);
        imports.insert(c->imports.begin(), c->imports.end());
        proto.insert(c->protoImports.begin(), c->protoImports.end());
        choices.emplace_back(&g, *c);
    }
    auto expr = [](const TorchaoChoice& c) { return c.cls + "(" + c.args + ")"; };
    const auto kept = sel.keptMatrices();
    const bool fqn = groups.size() > 1 || sel.fromPlan;
    if (fqn)
        imports.insert("FqnToConfig");
    std::string py = "# torchao: quantize a loaded model in place (Quantscope export of " +
                     sel.checkpoint->path() + ")\nimport torch\n";
    std::string list;
    for (const auto& i : imports)
        list += (list.empty() ? "" : ", ") + i;
    py += "from torchao.quantization import " + list + "\n";
    if (!proto.empty()) {
        std::string p;
        for (const auto& i : proto)
            p += (p.empty() ? "" : ", ") + i;
        py += "from torchao.prototype.mx_formats import " + p + "\n";
    }
    py += "from transformers import AutoModelForCausalLM\n\n";
    py += "model = AutoModelForCausalLM.from_pretrained(\"" +
          (o.modelPath.empty() ? modelLocation(*sel.checkpoint) : o.modelPath) +
          "\", torch_dtype=torch.bfloat16)\n";
    if (!fqn) {
        py += "config = " + expr(choices.front().second) + "\n";
    } else {
        // The largest group is the default; every other module is listed by name.
        std::size_t main = 0;
        for (std::size_t i = 1; i < choices.size(); ++i)
            if (choices[i].first->elements > choices[main].first->elements)
                main = i;
        py += "config = FqnToConfig({\n";
        for (std::size_t i = 0; i < choices.size(); ++i) {
            if (i == main)
                continue;
            for (const TensorInfo* t : choices[i].first->tensors)
                py += "    \"" + hfModuleName(*sel.checkpoint, *t) +
                      "\": " + expr(choices[i].second) + ",\n";
        }
        for (const TensorInfo* t : kept)
            if (!isEmbeddingName(t->name))
                py += "    \"" + hfModuleName(*sel.checkpoint, *t) + "\": None,\n";
        py += "    \"_default\": " + expr(choices[main].second) + ",\n})\n";
    }
    py += "quantize_(model, config)\n";
    py += "# or at load time: TorchAoConfig(quant_type=config) as quantization_config\n";
    out.content = py;
    out.summary =
        fqn ? "torchao FqnToConfig snippet (" + std::to_string(groups.size()) + " configs)"
            : "torchao " + choices.front().second.cls + " snippet";
    return out;
}

Result<std::string> torchaoHfConfig(const ExportSelection& sel,
                                    std::vector<std::string>& warnings) {
    const auto dominant = sel.dominant();
    if (!dominant)
        return makeError("nothing is quantized");
    auto c = choose(*dominant);
    if (!c)
        return makeError(c.message() + "; no transformers quantization method represents it");
    for (const auto& w : c->warnings)
        warnings.push_back(w);
    for (const auto& g : sel.groups())
        if (!(g.scheme == *dominant))
            warnings.push_back("approximated: " + std::to_string(g.tensors.size()) +
                               " tensors planned as " + g.scheme.toString() + " get " +
                               dominant->toString() + " (use --to torchao for FqnToConfig)");
    ojson skip = ojson::array();
    for (const TensorInfo* t : sel.keptMatrices())
        if (!isEmbeddingName(t->name))
            skip.push_back(hfModuleName(*sel.checkpoint, *t));
    ojson qc = {{"quant_method", "torchao"},
                {"quant_type",
                 {{"default", {{"_type", c->cls}, {"_version", c->version}, {"_data", c->data}}}}},
                {"quant_type_kwargs", ojson::object()},
                {"modules_to_not_convert", skip.empty() ? ojson(nullptr) : skip},
                {"include_input_output_embeddings", false},
                {"untie_embedding_weights", false}};
    return ojson{{"quantization_config", qc}}.dump(2) + "\n";
}

} // namespace qs
