#pragma once
// The CLI's activations (--calib ACT [--calib-tensor NAME]), shared by analyze and plan.

#include "methods/activation_source.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace qs::cli {

struct CalibrationOptions {
    std::string path, tensor;
};

// Adds --calib and --calib-tensor; `use` ends the --calib help ("needed by gptq and awq").
void addCalibrationOptions(CLI::App* cmd, CalibrationOptions& o, const std::string& use);

// The activations --calib names (synthetic:..., or the file's named or only tensor, which must
// be [tokens, in_features]); nullopt without --calib. Throws CliError with the reason.
std::optional<ActivationSource> loadCalibration(const CalibrationOptions& o);

} // namespace qs::cli
