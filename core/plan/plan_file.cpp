#include "plan/plan_file.h"

#include "quant/scheme.h"
#include "util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace qs {

namespace {

constexpr size_t kMaxPlanBytes = 64u << 20; // a plan for 100k tensors is a few MB

Result<std::string> canonicalSpec(const std::string& spec, const std::string& where) {
    auto s = Scheme::parse(spec);
    if (!s)
        return makeError("plan: " + where + ": " + s.message());
    return s->toString();
}

double number(const nlohmann::ordered_json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

} // namespace

std::optional<std::string> Plan::specFor(std::string_view name) const {
    for (const auto& [n, spec] : tensors)
        if (n == name)
            return spec;
    if (!defaultSpec.empty())
        return defaultSpec;
    return std::nullopt;
}

Result<Plan> parsePlan(std::string_view text) {
    nlohmann::ordered_json j; // keeps the tensors in the file's order
    try {
        // Depth-limited: a plan is two levels deep; anything nested further is rejected.
        j = nlohmann::ordered_json::parse(
            text, [](int depth, nlohmann::ordered_json::parse_event_t, nlohmann::ordered_json&) {
                if (depth > 4)
                    throw std::runtime_error("nested too deeply");
                return true;
            });
    } catch (const std::exception& e) {
        return makeError(std::string("plan: not valid JSON: ") + e.what());
    }
    if (!j.is_object())
        return makeError("plan: the document is not a JSON object");
    Plan p;
    p.budgetBpw = number(j, "budget_bpw");
    p.budgetBytes = number(j, "budget_bytes");
    p.bitsPerWeight = number(j, "bits_per_weight");
    p.relRmse = number(j, "rel_rmse");
    if (auto it = j.find("out_rel_err"); it != j.end() && it->is_number())
        p.outRelErr = it->get<double>();
    if (auto it = j.find("objective"); it != j.end() && !it->is_null()) {
        if (!it->is_string() || (*it != kOutputErrorObjective && *it != "weight_error"))
            return makeError(std::string("plan: \"objective\" must be \"weight_error\" or \"") +
                             kOutputErrorObjective + "\"");
        if (*it == kOutputErrorObjective)
            p.objective = kOutputErrorObjective;
    }
    if (auto it = j.find("source"); it != j.end() && it->is_string())
        p.source = *it;
    if (auto it = j.find("default"); it != j.end() && !it->is_null()) {
        if (!it->is_string())
            return makeError("plan: \"default\" must be a scheme spec string");
        auto spec = canonicalSpec(it->get<std::string>(), "default");
        if (!spec)
            return spec.error();
        p.defaultSpec = *spec;
    }
    auto tensors = j.find("tensors");
    if (tensors == j.end() || !tensors->is_object())
        return makeError("plan: \"tensors\" must be an object mapping tensor names to specs");
    std::set<std::string> seen;
    for (auto it = tensors->begin(); it != tensors->end(); ++it) {
        if (!it.value().is_string())
            return makeError("plan: the spec for tensor " + it.key() + " is not a string");
        auto spec = canonicalSpec(it.value().get<std::string>(), "tensor " + it.key());
        if (!spec)
            return spec.error();
        if (!seen.insert(it.key()).second)
            return makeError("plan: tensor " + it.key() + " is listed twice");
        p.tensors.emplace_back(it.key(), *spec);
    }
    if (auto it = j.find("candidates"); it != j.end() && it->is_array())
        for (const auto& c : *it) {
            if (!c.is_string())
                return makeError("plan: \"candidates\" must hold spec strings");
            auto spec = canonicalSpec(c.get<std::string>(), "candidate");
            if (!spec)
                return spec.error();
            p.candidates.push_back(*spec);
        }
    if (auto it = j.find("keep"); it != j.end() && it->is_object())
        for (auto k = it->begin(); k != it->end(); ++k) {
            if (!k.value().is_string())
                return makeError("plan: \"keep\" values must be specs");
            auto spec = canonicalSpec(k.value().get<std::string>(), "keep " + k.key());
            if (!spec)
                return spec.error();
            p.keep.push_back({k.key(), *spec});
        }
    return p;
}

Result<Plan> loadPlan(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return makeError("cannot read the plan " + path);
    std::string text;
    text.resize(kMaxPlanBytes + 1);
    f.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(f.gcount()));
    if (text.size() > kMaxPlanBytes)
        return makeError("plan " + path + " is larger than 64 MiB");
    auto p = parsePlan(text);
    if (!p)
        return makeError(path + ": " + p.message());
    return p;
}

std::string planToJson(const Plan& p) {
    // ordered_json keeps the checkpoint's tensor order in the file.
    nlohmann::ordered_json j;
    if (p.budgetBpw > 0)
        j["budget_bpw"] = p.budgetBpw;
    if (p.budgetBytes > 0)
        j["budget_bytes"] = p.budgetBytes;
    j["bits_per_weight"] = p.bitsPerWeight;
    j["rel_rmse"] = p.relRmse;
    if (!p.objective.empty())
        j["objective"] = p.objective;
    if (std::isfinite(p.outRelErr))
        j["out_rel_err"] = p.outRelErr;
    j["default"] =
        p.defaultSpec.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.defaultSpec);
    if (!p.source.empty())
        j["source"] = p.source;
    if (!p.candidates.empty())
        j["candidates"] = p.candidates;
    if (!p.keep.empty()) {
        nlohmann::ordered_json k = nlohmann::ordered_json::object();
        for (const auto& r : p.keep)
            k[r.pattern] = r.spec;
        j["keep"] = k;
    }
    nlohmann::ordered_json t = nlohmann::ordered_json::object();
    for (const auto& [name, spec] : p.tensors)
        t[name] = spec;
    j["tensors"] = t;
    return j.dump(2) + "\n";
}

Status savePlan(const std::string& path, const Plan& plan) {
    return writeTextAtomically(path, planToJson(plan));
}

} // namespace qs
