#include "plan/plan_edit.h"

#include "metrics/error_metrics.h"

#include <algorithm>
#include <cmath>
#include <regex>

namespace qs {

Status mergeMeasurements(PlanMeasurements& into, const PlanMeasurements& more) {
    if (into.tensors.empty() && into.candidates.empty()) {
        into = more;
        return Ok{};
    }
    if (into.tensors.size() != more.tensors.size())
        return makeError("cannot merge measurements of different tensor lists");
    for (size_t i = 0; i < into.tensors.size(); ++i)
        if (into.tensors[i].name != more.tensors[i].name)
            return makeError("cannot merge measurements: tensor " + std::to_string(i) + " is '" +
                             into.tensors[i].name + "' in one and '" + more.tensors[i].name +
                             "' in the other");
    std::vector<std::string> have;
    for (const auto& s : into.candidates)
        have.push_back(s.toString());
    const auto known = [&](const std::string& spec) {
        return std::find(have.begin(), have.end(), spec) != have.end();
    };
    for (size_t i = 0; i < more.tensors.size(); ++i) {
        auto& dst = into.tensors[i];
        if (!std::isfinite(dst.outSqRef)) // measured with the same activations, or none
            dst.outSqRef = more.tensors[i].outSqRef;
        for (const auto& o : more.tensors[i].options)
            if (!known(o.fallbackFor.empty() ? o.scheme.toString() : o.fallbackFor))
                dst.options.push_back(o);
        for (const auto& na : more.tensors[i].notApplicable)
            if (!known(na.substr(0, na.find(':'))))
                dst.notApplicable.push_back(na);
    }
    for (const auto& s : more.candidates)
        if (!known(s.toString()))
            into.candidates.push_back(s);
    return Ok{};
}

PlanMeasurements selectCandidates(const PlanMeasurements& m,
                                  const std::vector<Scheme>& candidates) {
    PlanMeasurements out = m;
    out.candidates = candidates;
    std::vector<std::string> specs;
    for (const auto& s : candidates)
        specs.push_back(s.toString());
    const auto wanted = [&](const PlanOption& o) {
        const std::string& key = o.fallbackFor.empty() ? o.scheme.toString() : o.fallbackFor;
        return std::find(specs.begin(), specs.end(), key) != specs.end();
    };
    for (auto& t : out.tensors) {
        if (t.pinned)
            continue;
        std::vector<PlanOption> kept;
        for (const auto& spec : specs) // candidate order, then fallbacks, as measured
            for (const auto& o : t.options)
                if (o.fallbackFor.empty() && o.scheme.toString() == spec)
                    kept.push_back(o);
        for (const auto& o : t.options)
            if (!o.fallbackFor.empty() && wanted(o))
                kept.push_back(o);
        t.options = std::move(kept);
    }
    return out;
}

std::optional<size_t> optionFor(const TensorMeasurement& t, const std::string& spec) {
    for (size_t k = 0; k < t.options.size(); ++k)
        if (t.options[k].fallbackFor.empty() && t.options[k].scheme.toString() == spec)
            return k;
    for (size_t k = 0; k < t.options.size(); ++k)
        if (t.options[k].fallbackFor == spec)
            return k;
    return std::nullopt;
}

Result<PlanMeasurements> pinTensors(const PlanMeasurements& m,
                                    const std::vector<PlanKeepRule>& rules) {
    std::vector<std::pair<std::regex, std::string>> compiled;
    for (const auto& r : rules) {
        auto s = Scheme::parse(r.spec);
        if (!s)
            return makeError("keep " + r.pattern + "=" + r.spec + ": " + s.message());
        try {
            compiled.emplace_back(std::regex(r.pattern, std::regex::ECMAScript), s->toString());
        } catch (const std::regex_error& e) {
            return makeError("keep " + r.pattern + ": not a valid regex (" + e.what() + ")");
        }
    }
    PlanMeasurements out = m;
    for (auto& t : out.tensors) {
        for (const auto& [re, spec] : compiled) {
            if (!std::regex_match(t.name, re))
                continue;
            const auto k = optionFor(t, spec);
            if (!k)
                return makeError("keep " + spec + " for " + t.name +
                                 ": that scheme was not measured; add it to the sweep first");
            PlanOption o = t.options[*k];
            t.options = {std::move(o)};
            t.pinned = true;
            break;
        }
    }
    for (size_t i = 0; i < rules.size(); ++i)
        out.keep.push_back({rules[i].pattern, compiled[i].second});
    return out;
}

PlanKeepRule exactNameRule(const std::string& name, const std::string& spec) {
    static const std::string kSpecial = R"(\^$.|?*+()[]{}/)";
    std::string pattern;
    for (char c : name) {
        if (kSpecial.find(c) != std::string::npos)
            pattern += '\\';
        pattern += c;
    }
    return {pattern, spec};
}

std::pair<std::uint64_t, std::uint64_t> planBitsRange(const PlanMeasurements& m) {
    std::uint64_t lo = 0, hi = 0;
    for (const auto& t : m.tensors) {
        std::uint64_t a = UINT64_MAX, b = 0;
        for (const auto& o : t.options)
            a = std::min(a, o.bits), b = std::max(b, o.bits);
        lo += a;
        hi += b;
    }
    return {lo, hi};
}

double optionSqnrDb(const TensorMeasurement& t, size_t k) {
    return sqnrDbFromSums(t.sumSqRef, t.options.at(k).sqErr);
}

} // namespace qs
