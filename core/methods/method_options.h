#pragma once
// Reading the numeric family options of calibrated methods ("damp=0.01", "block=128") from a
// Scheme's extras, with an error that names the option when a value does not parse.

#include "quant/scheme.h"
#include "util/result.h"

#include <charconv>
#include <cmath>
#include <string>

namespace qs {

// The option's value, `fallback` when absent; an error when present but not a number in
// [lo, hi].
inline Result<double> numericOption(const Scheme& s, const std::string& key, double fallback,
                                    double lo, double hi) {
    const auto it = s.extra.find(key);
    if (it == s.extra.end())
        return fallback;
    double v = 0;
    const auto& text = it->second;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(v) || v < lo ||
        v > hi)
        return makeError("scheme " + s.toString() + ": " + key + " must be a number in [" +
                         std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
}

// A bare flag ("act_order") or key=1/true; key=0/false reads as off.
inline bool flagOption(const Scheme& s, const std::string& key) {
    const auto it = s.extra.find(key);
    return it != s.extra.end() && it->second != "0" && it->second != "false";
}

} // namespace qs
