#include "export/llmcompressor_recipe.h"

#include "export/ct_args.h"

namespace qs {
namespace {

using ojson = nlohmann::ordered_json;

std::string option(const Scheme& s, const char* key, const std::string& fallback) {
    auto it = s.extra.find(key);
    return it == s.extra.end() ? fallback : it->second;
}

bool flag(const Scheme& s, const char* key) {
    auto it = s.extra.find(key);
    return it != s.extra.end() && it->second != "0" && it->second != "false";
}

std::string modifierFor(const std::string& family) {
    if (family == "gptq")
        return "GPTQModifier";
    if (family == "awq")
        return "AWQModifier";
    if (family == "int" || family == "fp8_e4m3" || family == "nvfp4" || family == "mxfp4" ||
        family == "mxfp8_e4m3" || family == "smoothquant")
        return "QuantizationModifier";
    return {};
}

} // namespace

Result<ConfigExport> exportLlmCompressorRecipe(const ExportSelection& sel, const ConfigOptions& o) {
    const auto dominant = sel.dominant();
    if (!dominant)
        return makeError("llmcompressor: nothing is quantized (only casts or kept tensors)");
    const Scheme& main = *dominant;
    const std::string modifier = modifierFor(main.family);
    if (modifier.empty())
        return makeError("llmcompressor: " + main.toString() + ": llm-compressor has no " +
                         main.family +
                         " modifier (it writes compressed-tensors: int, fp8, "
                         "nvfp4, mxfp4 via QuantizationModifier, GPTQModifier, AWQModifier)" +
                         (main.family == "autoround" ? "; --to autoround writes an AutoRound "
                                                       "command"
                                                     : ""));
    ConfigExport out;
    auto cfg = ctQuantizationConfig(sel, out.warnings);
    if (!cfg)
        return makeError("llmcompressor: " + cfg.message());
    for (const auto& g : sel.groups())
        if (!(g.scheme.family == main.family) && modifierFor(g.scheme.family) != modifier)
            out.warnings.push_back("approximated: " + std::to_string(g.tensors.size()) +
                                   " tensors planned as " + g.scheme.toString() +
                                   " are "
                                   "quantized by the recipe's " +
                                   modifier + " as well");

    const ojson& groups = (*cfg)["config_groups"];
    std::string preset;
    if (groups.size() == 1) {
        auto ct = compressedTensorsScheme(main);
        if (ct && !ct->preset.empty() && ct->weights["actorder"].is_null())
            preset = ct->preset;
    }
    auto quote = [](const std::string& s) { return ojson(s).dump(); };
    std::string y = "# llm-compressor recipe written by Quantscope for " + sel.checkpoint->path() +
                    "\n# Apply with: oneshot(model=MODEL, dataset=DATASET, recipe=\"" +
                    (o.outPath.empty() ? "recipe.yaml" : o.outPath) +
                    "\", max_seq_length=2048, num_calibration_samples=512)\n";
    y += "quant_stage:\n  quant_modifiers:\n";
    if (main.family == "smoothquant")
        y += "    SmoothQuantModifier:\n      smoothing_strength: " + option(main, "alpha", "0.5") +
             "\n";
    y += "    " + modifier + ":\n";
    if (preset.empty()) {
        y += "      config_groups:\n";
        for (auto it = groups.begin(); it != groups.end(); ++it) {
            y += "        " + it.key() + ":\n";
            y += "          targets: " + (*it)["targets"].dump() + "\n";
            y += "          weights: " + (*it)["weights"].dump() + "\n";
            if (!(*it)["input_activations"].is_null())
                y += "          input_activations: " + (*it)["input_activations"].dump() + "\n";
        }
    } else {
        y += "      targets: [\"Linear\"]\n      scheme: " + quote(preset) + "\n";
    }
    y += "      ignore: " + (*cfg)["ignore"].dump() + "\n";
    if (modifier == "GPTQModifier") {
        y += "      block_size: " + option(main, "block", "128") + "\n";
        y += "      dampening_frac: " + option(main, "damp", "0.01") + "\n";
        y += std::string("      actorder: ") +
             (flag(main, "act_order") ? (flag(main, "static_groups") ? "\"static\"" : "\"group\"")
                                      : "null") +
             "\n";
    } else if (modifier == "AWQModifier") {
        y += "      duo_scaling: true\n";
        if (flag(main, "no_clip"))
            out.warnings.push_back("dropped: " + main.toString() +
                                   ": no_clip (AWQModifier "
                                   "has no clip-search switch)");
    }
    out.content = y;
    out.summary = "llm-compressor recipe: " + modifier +
                  (preset.empty() ? " with " + std::to_string(groups.size()) + " config group(s)"
                                  : " scheme " + preset);
    return out;
}

} // namespace qs
