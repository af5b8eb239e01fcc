#include "export/export_plan.h"

#include "analysis/tensor_analysis.h"
#include "export/llama_names.h"
#include "quant/registry.h"

#include <algorithm>
#include <array>
#include <set>

namespace qs {
namespace {

constexpr std::array<std::pair<std::string_view, ExportTarget>, 11> kTargets{{
    {"gguf", ExportTarget::Gguf},
    {"safetensors", ExportTarget::Safetensors},
    {"hf-config", ExportTarget::HfConfig},
    {"llmcompressor", ExportTarget::LlmCompressor},
    {"llamacpp", ExportTarget::LlamaCpp},
    {"autoround", ExportTarget::AutoRound},
    {"torchao", ExportTarget::Torchao},
    {"mlx", ExportTarget::Mlx},
    {"openvino", ExportTarget::OpenVino},
    {"ort-genai", ExportTarget::OrtGenAi},
    {"report", ExportTarget::Report},
}};

bool isCast(const Scheme& s) {
    const FamilyInfo* f = findFamily(s.family);
    return f && f->kind == FamilyKind::Cast;
}

} // namespace

std::optional<ExportTarget> exportTargetFromName(std::string_view name) {
    for (const auto& [n, t] : kTargets)
        if (n == name)
            return t;
    return std::nullopt;
}

std::string_view exportTargetName(ExportTarget t) {
    for (const auto& [n, v] : kTargets)
        if (v == t)
            return n;
    return "?";
}

std::string exportTargetNames() {
    std::string s;
    for (const auto& [n, t] : kTargets)
        s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
}

bool ExportTensor::quantized() const {
    return scheme && !isCast(*scheme);
}

std::vector<SchemeGroup> ExportSelection::groups() const {
    std::vector<SchemeGroup> out;
    for (const auto& t : tensors) {
        if (!t.quantized())
            continue;
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const SchemeGroup& g) { return g.scheme == *t.scheme; });
        if (it == out.end())
            it = out.insert(out.end(), SchemeGroup{*t.scheme, {}, 0});
        it->tensors.push_back(t.tensor);
        it->elements += static_cast<std::uint64_t>(t.tensor->numel());
    }
    return out;
}

std::optional<Scheme> ExportSelection::dominant() const {
    const auto g = groups();
    if (g.empty())
        return std::nullopt;
    return std::max_element(
               g.begin(), g.end(),
               [](const SchemeGroup& a, const SchemeGroup& b) { return a.elements < b.elements; })
        ->scheme;
}

std::vector<const TensorInfo*> ExportSelection::keptMatrices() const {
    std::vector<const TensorInfo*> out;
    for (const auto& t : tensors)
        if (!t.quantized() && isQuantizable(*t.tensor))
            out.push_back(t.tensor);
    return out;
}

Result<ExportSelection> selectForExport(const Checkpoint& ckpt, const Scheme& scheme) {
    ExportSelection sel;
    sel.checkpoint = &ckpt;
    for (const auto& t : ckpt.tensors())
        sel.tensors.push_back(
            {&t, isQuantizable(t) ? std::optional<Scheme>(scheme) : std::nullopt});
    return sel;
}

Result<ExportSelection> selectForExport(const Checkpoint& ckpt, const Plan& plan) {
    std::vector<std::string> missing;
    for (const auto& [name, spec] : plan.tensors)
        if (!ckpt.find(name))
            missing.push_back(name);
    if (!missing.empty()) {
        std::string list;
        for (std::size_t i = 0; i < missing.size() && i < 3; ++i)
            list += (i ? ", " : "") + missing[i];
        if (missing.size() > 3)
            list += ", ... (" + std::to_string(missing.size()) + " in all)";
        return makeError(
            "the plan does not apply to " + ckpt.path() + ": it names tensors the " +
            "file lacks: " + list +
            (plan.source.empty() ? "" : " (the plan was made for " + plan.source + ")"));
    }
    ExportSelection sel;
    sel.checkpoint = &ckpt;
    sel.fromPlan = true;
    std::set<std::string> named;
    for (const auto& [name, spec] : plan.tensors)
        named.insert(name);
    for (const auto& t : ckpt.tensors()) {
        std::optional<std::string> spec;
        if (named.count(t.name) || isQuantizable(t))
            spec = plan.specFor(t.name);
        std::optional<Scheme> scheme;
        if (spec) {
            auto s = Scheme::parse(*spec);
            if (!s)
                return makeError("plan: " + t.name + ": " + s.message());
            scheme = *s;
        }
        sel.tensors.push_back({&t, scheme});
    }
    return sel;
}

std::string hfModuleName(const Checkpoint& ckpt, const TensorInfo& t) {
    std::string name = t.name;
    if (ckpt.format() == "gguf")
        if (auto hf = ggufToHfName(name))
            name = *hf;
    for (const char* suffix : {".weight", ".bias"})
        if (name.ends_with(suffix))
            return name.substr(0, name.size() - std::string_view(suffix).size());
    return name;
}

bool isEmbeddingName(const std::string& name) {
    for (const char* k : {"embed_tokens", "wte", "word_embeddings", "tok_embeddings", "token_embd"})
        if (name.find(k) != std::string::npos)
            return true;
    return false;
}

bool isLmHeadName(const std::string& name) {
    return name.starts_with("lm_head") || name == "output.weight";
}

std::string escapeRegex(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos)
            out += '\\';
        out += c;
    }
    return out;
}

} // namespace qs
