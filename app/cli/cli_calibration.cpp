#include "cli/cli_calibration.h"

#include "cli/cli_common.h"
#include "quant/registry.h"

namespace qs::cli {

void addCalibrationOptions(CLI::App* cmd, CalibrationOptions& o, const std::string& use) {
    cmd->add_option("--calib", o.path,
                    "activations [tokens, in_features] (.npy or any supported file), or "
                    "synthetic:TOKENS:OUTLIERS:SCALE[:SEED] for Gaussian tokens with OUTLIERS "
                    "input channels scaled by SCALE; " +
                        use);
    auto* tensor = cmd->add_option("--calib-tensor", o.tensor,
                                   "the activation tensor's name when --calib holds several");
    cmd->add_option("--imatrix", o.imatrix,
                    "a llama.cpp importance matrix (llama-imatrix's imatrix.gguf or imatrix.dat): "
                    "the ggml formats' imatrix option (q4_k:imatrix) quantizes with it as "
                    "llama-quantize --imatrix does, and every scheme reports the output error it "
                    "implies")
        ->excludes(cmd->get_option("--calib"))
        ->excludes(tensor);
}

std::optional<ImatrixFile> loadImatrix(const CalibrationOptions& o) {
    if (o.imatrix.empty())
        return std::nullopt;
    auto f = readImatrixFile(o.imatrix);
    if (!f)
        throw CliError{kBadFile, "--imatrix " + f.message()};
    return std::move(*f);
}

void requireCalibration(const Scheme& s, const CalibrationOptions& o) {
    if (!needsActivations(s) || !o.path.empty())
        return;
    const bool ggml = findFamily(s.family)->kind == FamilyKind::GgmlBlock;
    if (ggml && !o.imatrix.empty())
        return;
    throw CliError{kBadScheme, s.toString() + " needs activations: pass --calib ACT" +
                                   (ggml ? std::string(" or --imatrix FILE") : std::string())};
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
