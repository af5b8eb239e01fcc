#include "quant/scheme.h"

#include "quant/registry.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace qs {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    for (;;) {
        const size_t pos = s.find(sep, start);
        out.push_back(s.substr(start, pos - start));
        if (pos == std::string_view::npos)
            break;
        start = pos + 1;
    }
    return out;
}

bool parseNumber(std::string_view s, double& out) {
    if (s.empty())
        return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool parseInt(std::string_view s, long long& out) {
    if (s.empty())
        return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

std::string formatNumber(double v) {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, p);
}

std::string validOptions(const FamilyInfo& f) {
    std::vector<std::string> v;
    if (f.hasGranularity())
        v.insert(v.end(), {"gN", "channel", "tensor"});
    if (f.hasSymmetry)
        v.insert(v.end(), {"sym", "asym"});
    if (f.name == "int")
        v.push_back("range=full");
    if (f.acceptsDq())
        v.push_back("dq");
    if (f.acceptsClip())
        v.push_back("clip=minmax|mse|pN");
    if (f.acceptsRound())
        v.insert(v.end(), {"round=nearest|stochastic", "seed=N"});
    if (f.acceptsScaleRule())
        v.push_back("scale=floor|ceil|even|rceil");
    if (f.name == "mulaw")
        v.push_back("muN");
    if (f.name == "alaw")
        v.push_back("aN");
    for (auto k : f.extraOptions())
        v.emplace_back(k);
    if (v.empty())
        return "none";
    std::string s;
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + v[i];
    return s;
}

} // namespace

std::string_view granularityName(Granularity g) {
    switch (g) {
    case Granularity::Tensor:
        return "tensor";
    case Granularity::Channel:
        return "channel";
    case Granularity::Group:
        return "group";
    case Granularity::Block:
        return "block";
    }
    return "tensor";
}

Result<Scheme> Scheme::parse(std::string_view specIn) {
    const std::string spec = lower(specIn);
    const std::string quoted = "'" + std::string(specIn) + "'";
    if (spec.empty())
        return makeError("empty scheme spec; expected FAMILY[BITS][:OPTION]..., e.g. int4:g128");
    const auto parts = split(spec, ':');
    const std::string_view head = parts[0];

    Scheme s;
    const FamilyInfo* fam = findFamily(head);
    if (fam) {
        if (!fam->fixedBits())
            return makeError("scheme " + quoted + ": " + std::string(fam->name) +
                             " needs a bit width " + std::to_string(fam->minBits) + ".." +
                             std::to_string(fam->maxBits) + ", e.g. " + std::string(fam->name) +
                             "4");
        s.bits = fam->elementBits;
    } else {
        size_t digits = head.size();
        while (digits > 0 && std::isdigit(static_cast<unsigned char>(head[digits - 1])))
            --digits;
        const std::string_view name = head.substr(0, digits);
        fam = digits < head.size() ? findFamily(name) : nullptr;
        if (!fam || fam->fixedBits())
            return makeError("unknown scheme family in " + quoted +
                             "; valid families: " + familyNamesList());
        long long bits = 0;
        if (!parseInt(head.substr(digits), bits) || bits < fam->minBits || bits > fam->maxBits)
            return makeError("scheme " + quoted + ": " + std::string(fam->name) + " takes " +
                             std::to_string(fam->minBits) + ".." + std::to_string(fam->maxBits) +
                             " bits");
        s.bits = static_cast<int>(bits);
    }
    s.family = std::string(fam->name);
    s.granularity = fam->blockSize ? Granularity::Block : fam->defaultGranularity;
    s.groupSize = fam->blockSize ? fam->blockSize : fam->defaultGroupSize;
    s.symmetric = fam->defaultSymmetric;
    if (s.family == "mulaw")
        s.familyParam = 255.0;
    else if (s.family == "alaw")
        s.familyParam = 87.6;

    auto bad = [&](std::string_view opt) {
        return makeError("scheme " + quoted + ": option '" + std::string(opt) +
                         "' is not valid for " + std::string(fam->name) +
                         "; valid options: " + validOptions(*fam));
    };
    bool symGiven = false;
    for (size_t i = 1; i < parts.size(); ++i) {
        const std::string_view opt = parts[i];
        const size_t eq = opt.find('=');
        const std::string_view key = opt.substr(0, eq);
        const std::string_view val =
            eq == std::string_view::npos ? std::string_view{} : opt.substr(eq + 1);
        long long n = 0;
        double x = 0;
        if (opt.empty()) {
            return makeError("scheme " + quoted + ": empty option (two ':' in a row?)");
        } else if (fam->hasGranularity() && opt.size() > 1 && opt[0] == 'g' &&
                   parseInt(opt.substr(1), n)) {
            if (n < 1 || n > (1LL << 30))
                return makeError("scheme " + quoted + ": group size must be between 1 and 2^30");
            s.granularity = Granularity::Group;
            s.groupSize = static_cast<int>(n);
        } else if (fam->hasGranularity() && opt == "channel") {
            s.granularity = Granularity::Channel;
            s.groupSize = 0;
        } else if (fam->hasGranularity() && opt == "tensor") {
            s.granularity = Granularity::Tensor;
            s.groupSize = 0;
        } else if (fam->hasSymmetry && (opt == "sym" || opt == "asym")) {
            s.symmetric = opt == "sym";
            symGiven = true;
        } else if (s.family == "int" && key == "range" && val == "full") {
            s.fullRange = true;
        } else if (fam->acceptsDq() && opt == "dq") {
            s.doubleQuant = true;
        } else if (fam->acceptsClip() && key == "clip") {
            // A later clip replaces an earlier one whole: the percentile too, or the printed
            // spec would not parse back to the same scheme (found by fuzzing).
            if (val == "minmax") {
                s.clip = Clip::MinMax;
                s.clipPercentile = Scheme{}.clipPercentile;
            } else if (val == "mse") {
                s.clip = Clip::Mse;
                s.clipPercentile = Scheme{}.clipPercentile;
            } else if (val.size() > 1 && val[0] == 'p' && parseNumber(val.substr(1), x) && x > 0 &&
                       x <= 100) {
                s.clip = x == 100 ? Clip::MinMax : Clip::Percentile;
                s.clipPercentile = x;
            } else {
                return makeError("scheme " + quoted +
                                 ": clip must be minmax, mse or pN with 0 < N <= 100");
            }
        } else if (fam->acceptsRound() && key == "round") {
            if (val == "nearest")
                s.rounding = Rounding::Nearest;
            else if (val == "stochastic")
                s.rounding = Rounding::Stochastic;
            else
                return makeError("scheme " + quoted + ": round must be nearest or stochastic");
        } else if (fam->acceptsRound() && key == "seed" && parseInt(val, n) && n >= 0) {
            s.extra["seed"] = std::string(val);
        } else if (fam->acceptsScaleRule() && key == "scale") {
            if (val == "floor")
                s.scaleRule = MxScaleRule::Floor;
            else if (val == "ceil")
                s.scaleRule = MxScaleRule::Ceil;
            else if (val == "even")
                s.scaleRule = MxScaleRule::Even;
            else if (val == "rceil")
                s.scaleRule = MxScaleRule::RCeil;
            else
                return makeError("scheme " + quoted + ": scale must be floor, ceil, even or rceil");
        } else if (s.family == "mulaw" && opt.size() > 2 && opt.substr(0, 2) == "mu" &&
                   parseNumber(opt.substr(2), x)) {
            if (!(x > 0 && x <= 1e6))
                return makeError("scheme " + quoted + ": mu must be positive");
            s.familyParam = x;
        } else if (s.family == "alaw" && opt.size() > 1 && opt[0] == 'a' &&
                   parseNumber(opt.substr(1), x)) {
            if (!(x >= 1 && x <= 1e6))
                return makeError("scheme " + quoted + ": A must be at least 1");
            s.familyParam = x;
        } else {
            const auto keys = fam->extraOptions();
            if (std::find(keys.begin(), keys.end(), key) == keys.end())
                return bad(opt);
            if (key == kImatrixOption && eq != std::string_view::npos)
                return makeError("scheme " + quoted + ": imatrix takes no value");
            s.extra[std::string(key)] = std::string(val);
        }
    }
    if (s.fullRange && !s.symmetric)
        return makeError("scheme " + quoted +
                         ": range=full applies to symmetric int only (add :sym)");
    if (s.extra.count("seed") && s.rounding != Rounding::Stochastic)
        return makeError("scheme " + quoted + ": seed applies to round=stochastic only");
    (void)symGiven;
    return s;
}

std::string Scheme::toString() const {
    const FamilyInfo* fam = findFamily(family);
    if (!fam)
        return family;
    std::string out = fam->fixedBits() ? family : family + std::to_string(bits);
    auto add = [&](const std::string& opt) { out += ":" + opt; };
    if (fam->hasGranularity()) {
        if (granularity == Granularity::Group)
            add("g" + std::to_string(groupSize));
        else
            add(std::string(granularityName(granularity)));
    }
    if (fam->hasSymmetry && symmetric != fam->defaultSymmetric)
        add(symmetric ? "sym" : "asym");
    if (fullRange)
        add("range=full");
    if (doubleQuant)
        add("dq");
    if (clip == Clip::Mse)
        add("clip=mse");
    else if (clip == Clip::Percentile)
        add("clip=p" + formatNumber(clipPercentile));
    if (rounding == Rounding::Stochastic)
        add("round=stochastic");
    if (fam->acceptsScaleRule() && scaleRule != MxScaleRule::Floor)
        add(scaleRule == MxScaleRule::Ceil   ? "scale=ceil"
            : scaleRule == MxScaleRule::Even ? "scale=even"
                                             : "scale=rceil");
    if (family == "mulaw")
        add("mu" + formatNumber(familyParam));
    else if (family == "alaw")
        add("a" + formatNumber(familyParam));
    for (const auto& [k, v] : extra)
        add(v.empty() ? k : k + "=" + v);
    return out;
}

} // namespace qs
