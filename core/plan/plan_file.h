#pragma once
// A mixed-precision plan as a value, and its JSON form (DESIGN.md `plan` contract):
// {"budget_bpw", "bits_per_weight", "rel_rmse", "default", "tensors": {name: spec}}.
// Extra fields Quantscope writes (and reads back when present): "budget_bytes", "candidates",
// "keep" (REGEX=SPEC rules), "source" (the checkpoint the plan was made for), "objective"
// ("output_error" for a plan that minimised the output error; absent: the weights' error) and
// "out_rel_err" (the plan's relative output error, where activations were given).

#include "util/result.h"

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qs {

struct PlanKeepRule {
    std::string pattern; // ECMAScript regex matched against the whole tensor name
    std::string spec;    // canonical scheme spec
};

inline constexpr const char* kOutputErrorObjective = "output_error";

struct Plan {
    double budgetBpw = 0.0;   // 0 when the budget was given in bytes
    double budgetBytes = 0.0; // 0 when the budget was given in bits per weight
    double bitsPerWeight = 0.0;
    double relRmse = 0.0;
    std::string objective; // empty (the weights' squared error) or kOutputErrorObjective
    double outRelErr = std::numeric_limits<double>::quiet_NaN(); // NaN: not measured
    std::string defaultSpec;                                  // for tensors the plan does not name
    std::vector<std::pair<std::string, std::string>> tensors; // name -> spec, checkpoint order
    std::vector<std::string> candidates;
    std::vector<PlanKeepRule> keep;
    std::string source;

    // The spec the plan gives `name`: its own entry, else the default; nullopt when neither.
    std::optional<std::string> specFor(std::string_view name) const;
};

// Parses and validates (every spec must parse with Scheme::parse; names unique).
Result<Plan> parsePlan(std::string_view json);
Result<Plan> loadPlan(const std::string& path);
std::string planToJson(const Plan& plan);                   // pretty-printed, ends with a newline
Status savePlan(const std::string& path, const Plan& plan); // atomically

} // namespace qs
