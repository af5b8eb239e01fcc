#include "cli/cli_calibration.h"

#include "cli/cli_common.h"

namespace qs::cli {

void addCalibrationOptions(CLI::App* cmd, CalibrationOptions& o, const std::string& use) {
    cmd->add_option("--calib", o.path,
                    "activations [tokens, in_features] (.npy or any supported file), or "
                    "synthetic:TOKENS:OUTLIERS:SCALE[:SEED] for Gaussian tokens with OUTLIERS "
                    "input channels scaled by SCALE; " +
                        use);
    cmd->add_option("--calib-tensor", o.tensor,
                    "the activation tensor's name when --calib holds several");
}

std::optional<ActivationSource> loadCalibration(const CalibrationOptions& o) {
    const std::string& path = o.path;
    if (path.empty())
        return std::nullopt;
    if (path.starts_with(kSyntheticCalibrationPrefix)) {
        auto spec = parseSyntheticCalibration(path);
        if (!spec)
            throw CliError{kUsage, "--calib " + spec.message()};
        return ActivationSource::synthetic(*spec, path);
    }
    const Checkpoint ckpt = openCheckpoint(path);
    const TensorInfo* t = nullptr;
    if (!o.tensor.empty()) {
        t = ckpt.find(o.tensor);
        if (!t)
            throw CliError{kNotFound, "activation tensor '" + o.tensor + "' not found in " + path};
    } else if (ckpt.tensors().size() == 1) {
        t = &ckpt.tensors().front();
    } else {
        throw CliError{kUsage, path + " holds " + std::to_string(ckpt.tensors().size()) +
                                   " tensors; name the activations with --calib-tensor"};
    }
    if (t->shape.size() != 2)
        throw CliError{kBadFile, "activations must be [tokens, in_features]; '" + t->name +
                                     "' is " + t->shapeString()};
    return ActivationSource::loaded(readTensor(ckpt, *t), t->shape[0], t->shape[1],
                                    path + ":" + t->name);
}

} // namespace qs::cli
