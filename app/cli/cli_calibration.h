#pragma once
// The CLI's activations (--calib ACT [--calib-tensor NAME]) and llama.cpp importance matrices
// (--imatrix FILE), shared by analyze and plan.

#include "methods/activation_source.h"
#include "methods/imatrix_file.h"
#include "quant/scheme.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace qs::cli {

struct CalibrationOptions {
    std::string path, tensor;
    std::string imatrix; // --imatrix FILE
};

// Adds --calib and --calib-tensor; `use` ends the --calib help ("needed by gptq and awq").
void addCalibrationOptions(CLI::App* cmd, CalibrationOptions& o, const std::string& use);

// The activations --calib names (synthetic:..., or the file's named or only tensor, which must
// be [tokens, in_features]); nullopt without --calib. Throws CliError with the reason.
std::optional<ActivationSource> loadCalibration(const CalibrationOptions& o);

// The importance matrix --imatrix names; nullopt without it. Throws CliError with the reason.
std::optional<ImatrixFile> loadImatrix(const CalibrationOptions& o);

// Throws CliError (kBadScheme) when `s` needs what the options do not give: activations
// (--calib), or for the imatrix option activations or an importance matrix (--imatrix).
void requireCalibration(const Scheme& s, const CalibrationOptions& o);

} // namespace qs::cli
