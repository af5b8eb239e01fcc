#include "analysis/tensor_analysis.h"
#include "cli/cli_calibration.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "io/npy.h"

#include <filesystem>
#include <iostream>

namespace qs::cli {

Action addDequantCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "dequant", "Write a tensor's reconstruction (or its decoded values) as float32 .npy");
    struct Opts {
        std::string path, tensor, scheme, out;
        CalibrationOptions calib;
        bool json = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("PATH", o->path, "checkpoint file")->required();
    cmd->add_option("--tensor", o->tensor, "tensor name (exact)")->required();
    cmd->add_option("--scheme", o->scheme,
                    "reconstruct under this scheme; without it, the stored values");
    cmd->add_option("--out", o->out, "output .npy path")->required();
    addCalibrationOptions(cmd, o->calib,
                          "needed by gptq, awq and the ggml formats' imatrix option");
    cmd->add_flag("--json", o->json, "print one JSON document");
    return [=] {
        std::optional<Scheme> scheme;
        if (!o->scheme.empty()) {
            scheme = parseScheme(o->scheme);
            requireCalibration(*scheme, o->calib);
        }
        const Checkpoint ckpt = openCheckpoint(o->path);
        const TensorInfo* t = ckpt.find(o->tensor);
        if (!t)
            throw CliError{kNotFound, "tensor '" + o->tensor + "' not found in " + o->path};
        std::error_code ec;
        if (std::filesystem::exists(o->out) && std::filesystem::equivalent(o->out, o->path, ec))
            throw CliError{kOutputError, "refusing to overwrite the input file " + o->path};
        auto values = readTensor(ckpt, *t);
        std::vector<float> out;
        nlohmann::json j = {{"tensor", t->name}, {"shape", shapeJson(*t)}, {"out", o->out}};
        if (scheme) {
            AnalysisOptions opts;
            opts.keepReconstruction = true;
            const MatrixView w = matrixView(*t, values);
            // The layer's activations or its importance matrix entry, where the scheme needs them.
            auto calib = loadCalibration(o->calib);
            if (calib) {
                calib->prepare({w.cols});
                opts.activations = calib->forFeatures(w.cols);
            }
            const auto imatrix = loadImatrix(o->calib);
            std::optional<ImportanceWeights> importance;
            if (imatrix) {
                importance = imatrix->weightsFor(t->name);
                opts.importance = &*importance;
            }
            auto a = analyzeTensor(w, *scheme, opts, interruptProgress());
            throwIfInterrupted();
            if (!a)
                throw CliError{kBadScheme, t->name + ": " + a.message()};
            out = std::move(a->reconstruction);
            j["scheme"] = scheme->toString();
            j["bits_per_weight"] = a->cost.bitsPerWeight();
            j["sqnr_db"] = number(a->error.sqnrDb());
            if (a->outputError)
                j["out_rel_err"] = number(a->outputError->relative());
        } else {
            out = std::move(values);
            j["scheme"] = nullptr;
        }
        if (auto st = writeNpyFloat32(o->out, t->shape, out); !st)
            throw CliError{kOutputError, st.message()};
        if (o->json)
            printJson(j);
        else
            std::cout << "wrote " << o->out << ": " << t->name << " " << t->shapeString()
                      << (scheme ? " reconstructed under " + scheme->toString() : " as stored")
                      << "\n";
    };
}

} // namespace qs::cli
