#pragma once
// Editing measured plans without measuring again, for the GUI: measurements of further
// candidates merge into those already taken (the sweep cache of an open file), and keep rules
// (REGEX=SPEC, or one tensor's exact name) pin tensors to an option already measured, so the
// budget slider and hand edits re-solve in milliseconds. Pure functions; any thread.

#include "plan/planner.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qs {

// Appends `more`'s candidates and options to `into` (the same checkpoint's tensors, in the same
// order; candidates `into` already has are skipped). Errors when the tensor lists differ.
Status mergeMeasurements(PlanMeasurements& into, const PlanMeasurements& more);

// `m` restricted to the measurements of `candidates` (in that order): what the solver sees when
// the user unticks a measured scheme. Tensors keep the fallbacks of the candidates kept.
PlanMeasurements selectCandidates(const PlanMeasurements& m, const std::vector<Scheme>& candidates);

// Pins every tensor whose whole name matches a rule (first rule wins) to the option that realises
// the rule's spec (the spec itself, or llama.cpp's fallback for it). An invalid regex, an unknown
// spec, or a spec not measured for a matching tensor is an error naming it; the rules are
// recorded in the result's `keep`.
Result<PlanMeasurements> pinTensors(const PlanMeasurements& m,
                                    const std::vector<PlanKeepRule>& rules);

// A rule that matches exactly the tensor `name` (regex metacharacters escaped).
PlanKeepRule exactNameRule(const std::string& name, const std::string& spec);

// The option of `t` that realises candidate `spec` (itself first, else its fallback).
std::optional<size_t> optionFor(const TensorMeasurement& t, const std::string& spec);

// The bits of the cheapest and of the richest mix of the measured options.
std::pair<std::uint64_t, std::uint64_t> planBitsRange(const PlanMeasurements& m);

// 10 log10(sum w^2 / sum err^2) of option k; +inf for an exact option.
double optionSqnrDb(const TensorMeasurement& t, size_t k);

} // namespace qs
