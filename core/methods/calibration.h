#pragma once
// Synthetic activations for calibrated methods, for teaching and for trying GPTQ/AWQ without
// data: tokens x features, each channel N(0, 1) and correlated with the others through a shared
// rank-8 component (half of the variance), as real layer inputs are; then `outliers` channels
// (chosen by the seed) multiplied by `outlierScale`, the few large input channels LLM
// activations show and that activation-aware methods exist for. Spelled
// "synthetic:TOKENS:OUTLIERS:SCALE[:SEED]" on the command line. Pure functions, thread-safe.

#include "util/result.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace qs {

struct SyntheticCalibration {
    std::int64_t tokens = 512;
    std::int64_t outliers = 4; // channels scaled by outlierScale (clamped to the features)
    double outlierScale = 20.0;
    std::uint64_t seed = 0;
};

inline constexpr std::string_view kSyntheticCalibrationPrefix = "synthetic:";

// Parses "synthetic:TOKENS:OUTLIERS:SCALE[:SEED]"; an error that names the bad field otherwise.
Result<SyntheticCalibration> parseSyntheticCalibration(std::string_view spec);

// Row-major [spec.tokens, features]; the same spec and features always give the same values.
std::vector<float> syntheticActivations(const SyntheticCalibration& spec, std::int64_t features);

// The channels syntheticActivations() scales, sorted.
std::vector<std::int64_t> syntheticOutlierChannels(const SyntheticCalibration& spec,
                                                   std::int64_t features);

} // namespace qs
