#include "project/project_file.h"

#include "quant/scheme.h"
#include "util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>

namespace qs {

namespace {

constexpr int kMaxDepth = 3;          // document → view/sweep → value (→ spec)
constexpr std::size_t kMaxPaths = 16; // checkpoints opened together
constexpr std::size_t kMaxCompareSchemes = 3;
constexpr std::size_t kMaxSweepSchemes = 64;
constexpr std::size_t kMaxTextLength = 4096;       // a path, a tensor name, a spec
constexpr std::size_t kMaxBlobLength = 256u << 10; // base64 window state

using Json = nlohmann::json;

Error fieldError(const std::string& field, const std::string& why) {
    return makeError("project: \"" + field + "\" " + why);
}

Result<std::string> text(const Json& j, const char* key, const std::string& field,
                         std::size_t maxLength = kMaxTextLength) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return std::string();
    if (!it->is_string())
        return fieldError(field, "must be a string");
    std::string s = it->get<std::string>();
    if (s.size() > maxLength)
        return fieldError(field, "is longer than " + std::to_string(maxLength) + " characters");
    return s;
}

Result<std::string> canonicalSpec(const std::string& spec, const std::string& field) {
    if (spec.empty())
        return spec;
    auto s = Scheme::parse(spec);
    if (!s)
        return fieldError(field, "is not a scheme: " + s.message());
    return s->toString();
}

bool isBase64(const std::string& s) {
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=')
            return false;
    return true;
}

Result<std::vector<std::string>> textList(const Json& j, const char* key, std::size_t maxCount,
                                          const std::string& field) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return out;
    if (!it->is_array())
        return fieldError(field, "must be an array of strings");
    if (it->size() > maxCount)
        return fieldError(field, "holds more than " + std::to_string(maxCount) + " entries");
    for (const auto& v : *it) {
        if (!v.is_string() || v.get_ref<const std::string&>().empty())
            return fieldError(field, "must hold non-empty strings");
        if (v.get_ref<const std::string&>().size() > kMaxTextLength)
            return fieldError(field, "holds an entry longer than " +
                                         std::to_string(kMaxTextLength) + " characters");
        out.push_back(v.get<std::string>());
    }
    return out;
}

// A list of scheme specs, each validated and made canonical.
Result<std::vector<std::string>> specList(const Json& j, const char* key, std::size_t maxCount,
                                          const std::string& field) {
    auto specs = textList(j, key, maxCount, field);
    if (!specs)
        return specs.error();
    for (auto& spec : *specs) {
        auto c = canonicalSpec(spec, field);
        if (!c)
            return c.error();
        spec = *c;
    }
    return specs;
}

Status readView(const Json& view, Project& p) {
    if (!view.is_object())
        return fieldError("view", "must be an object");
    auto tab = text(view, "tab", "view.tab", 32);
    if (!tab)
        return tab.error();
    for (char c : *tab)
        if (!std::islower(static_cast<unsigned char>(c)))
            return fieldError("view.tab", "must be a lower-case tab name such as \"tensor\"");
    p.activeTab = *tab;
    if (auto it = view.find("log_histogram"); it != view.end() && !it->is_null()) {
        if (!it->is_boolean())
            return fieldError("view.log_histogram", "must be true or false");
        p.logHistogram = it->get<bool>();
    }
    auto state = text(view, "window_state", "view.window_state", kMaxBlobLength);
    if (!state)
        return state.error();
    auto geometry = text(view, "window_geometry", "view.window_geometry", kMaxBlobLength);
    if (!geometry)
        return geometry.error();
    if (!isBase64(*state))
        return fieldError("view.window_state", "must be base64");
    if (!isBase64(*geometry))
        return fieldError("view.window_geometry", "must be base64");
    p.windowState = *state;
    p.windowGeometry = *geometry;
    return Ok{};
}

Status readSweep(const Json& sweep, Project& p) {
    if (!sweep.is_object())
        return fieldError("sweep", "must be an object");
    auto schemes = specList(sweep, "schemes", kMaxSweepSchemes, "sweep.schemes");
    if (!schemes)
        return schemes.error();
    p.sweepSchemes = std::move(schemes).value();
    auto activations = text(sweep, "activations", "sweep.activations");
    if (!activations)
        return activations.error();
    auto tensor = text(sweep, "activations_tensor", "sweep.activations_tensor");
    if (!tensor)
        return tensor.error();
    p.activations = *activations;
    p.activationsTensor = *tensor;
    return Ok{};
}

} // namespace

Result<Project> parseProject(std::string_view json) {
    if (json.size() > kMaxProjectBytes)
        return makeError("project: the document is larger than 1 MiB");
    Json j;
    try {
        j = Json::parse(json, [](int depth, Json::parse_event_t, Json&) {
            if (depth > kMaxDepth)
                throw std::runtime_error("nested too deeply");
            return true;
        });
    } catch (const std::exception& e) {
        return makeError(std::string("project: not valid JSON: ") + e.what());
    }
    if (!j.is_object())
        return makeError("project: the document is not a JSON object");
    auto version = j.find("quantscope_project");
    if (version == j.end() || !version->is_number_integer())
        return makeError("project: not a Quantscope project (no \"quantscope_project\" version)");
    if (version->get<std::int64_t>() != kProjectVersion)
        return makeError("project: version " + version->dump() +
                         " is not supported (this "
                         "Quantscope reads version " +
                         std::to_string(kProjectVersion) + ")");
    Project p;
    auto paths = textList(j, "paths", kMaxPaths, "paths");
    if (!paths)
        return paths.error();
    p.paths = std::move(paths).value();
    auto compare = specList(j, "compare_schemes", kMaxCompareSchemes, "compare_schemes");
    if (!compare)
        return compare.error();
    p.compareSchemes = std::move(compare).value();
    auto tensor = text(j, "tensor", "tensor");
    if (!tensor)
        return tensor.error();
    p.tensor = *tensor;
    auto scheme = text(j, "scheme", "scheme");
    if (!scheme)
        return scheme.error();
    auto canonical = canonicalSpec(*scheme, "scheme");
    if (!canonical)
        return canonical.error();
    p.scheme = *canonical;
    auto plan = text(j, "plan", "plan");
    if (!plan)
        return plan.error();
    p.planPath = *plan;
    if (auto view = j.find("view"); view != j.end() && !view->is_null())
        if (auto st = readView(*view, p); !st)
            return st.error();
    if (auto sweep = j.find("sweep"); sweep != j.end() && !sweep->is_null())
        if (auto st = readSweep(*sweep, p); !st)
            return st.error();
    return p;
}

Result<Project> loadProject(const std::string& path) {
    namespace fs = std::filesystem;
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return makeError("cannot read the project " + path);
    std::string data(kMaxProjectBytes + 1, '\0');
    f.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(f.gcount()));
    if (data.size() > kMaxProjectBytes)
        return makeError("project " + path + " is larger than 1 MiB");
    auto p = parseProject(data);
    if (!p)
        return makeError(path + ": " + p.message());
    const fs::path base = fs::absolute(fs::path(path)).parent_path();
    auto resolve = [&](std::string& s) {
        if (!s.empty() && fs::path(s).is_relative())
            s = (base / s).lexically_normal().string();
    };
    for (auto& c : p->paths)
        resolve(c);
    resolve(p->planPath);
    if (!p->activations.starts_with("synthetic:"))
        resolve(p->activations);
    return p;
}

std::string projectToJson(const Project& p) {
    nlohmann::ordered_json j;
    j["quantscope_project"] = kProjectVersion;
    j["paths"] = p.paths;
    j["tensor"] = p.tensor;
    j["scheme"] = p.scheme;
    j["compare_schemes"] = p.compareSchemes;
    j["plan"] = p.planPath;
    j["sweep"] = {{"schemes", p.sweepSchemes},
                  {"activations", p.activations},
                  {"activations_tensor", p.activationsTensor}};
    j["view"] = {{"tab", p.activeTab},
                 {"log_histogram", p.logHistogram},
                 {"window_state", p.windowState},
                 {"window_geometry", p.windowGeometry}};
    return j.dump(2) + "\n";
}

Status saveProject(const std::string& path, const Project& project) {
    return writeTextAtomically(path, projectToJson(project));
}

} // namespace qs
