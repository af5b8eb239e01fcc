#include "cli/cli_common.h"
#include "cli/commands.h"
#include "export/exporter.h"
#include "methods/imatrix_file.h"
#include "plan/plan_file.h"

#include <fstream>
#include <iostream>
#include <sstream>

namespace qs::cli {

Action addExportCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "export", "Export a scheme or plan: GGUF or compressed-tensors weights, tool configs and "
                  "commands, or the analysis as a report");
    struct Opts {
        std::string path, plan, scheme, to, out, config, model, outputDir, computeDtype, name,
            imatrix;
        std::uint32_t alignment = 32;
        bool json = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("PATH", o->path, "checkpoint file or model folder")->required();
    auto* plan = cmd->add_option("--plan", o->plan, "a plan file (quantscope-cli plan)");
    auto* scheme = cmd->add_option("--scheme", o->scheme, "one scheme for every 2-D tensor");
    plan->excludes(scheme);
    cmd->add_option("--to", o->to, "target: " + exportTargetNames())->required();
    cmd->add_option("--out", o->out,
                    "output file (safetensors: a folder, or a .safetensors file; report: "
                    ".csv, .json or .h5)")
        ->required();
    cmd->add_option("--config", o->config, "gguf from safetensors: the model's config.json");
    cmd->add_option("--alignment", o->alignment, "gguf: data alignment (default 32)");
    cmd->add_option("--name", o->name, "gguf: general.name for a non-GGUF source");
    cmd->add_option("--model", o->model, "commands: the model path or hub id the tool loads");
    cmd->add_option("--output-dir", o->outputDir, "commands: where the tool writes its result");
    cmd->add_option("--compute-dtype", o->computeDtype,
                    "hf-config bitsandbytes: compute dtype (default: the model's, else bfloat16)");
    cmd->add_option("--imatrix", o->imatrix,
                    "gguf: the llama.cpp importance matrix (llama-imatrix's output) the imatrix "
                    "option (q4_k:imatrix) quantizes with; llamacpp: the file the command passes "
                    "to llama-quantize --imatrix");
    cmd->add_flag("--json", o->json, "print one JSON document");
    return [=] {
        if (o->plan.empty() == o->scheme.empty())
            throw CliError{kUsage, "export needs exactly one of --plan PLAN.json or --scheme SPEC"};
        const auto target = exportTargetFromName(o->to);
        if (!target)
            throw CliError{kUsage, "unknown --to target '" + o->to + "'; choose one of " +
                                       exportTargetNames()};
        std::optional<Scheme> uniform;
        if (!o->scheme.empty())
            uniform = parseScheme(o->scheme);
        std::optional<Plan> p;
        if (!o->plan.empty()) {
            auto loaded = loadPlan(o->plan);
            if (!loaded)
                throw CliError{kBadFile, loaded.message()};
            p = std::move(loaded).value();
        }
        const Checkpoint ckpt = openCheckpoint(o->path);
        auto sel = uniform ? selectForExport(ckpt, *uniform) : selectForExport(ckpt, *p);
        if (!sel)
            throw CliError{kNotFound, sel.message()};
        ExportOptions opts;
        opts.config.modelPath = o->model;
        opts.config.outputDir = o->outputDir;
        opts.config.computeDtype = o->computeDtype;
        opts.ggufAlignment = o->alignment;
        opts.modelName = o->name;
        opts.config.imatrixPath = o->imatrix;
        std::vector<std::string> inputs{o->path};
        std::optional<ImatrixFile> imatrix;
        if (!o->imatrix.empty() && *target == ExportTarget::Gguf) {
            auto f = readImatrixFile(o->imatrix);
            if (!f)
                throw CliError{kBadFile, "--imatrix " + f.message()};
            imatrix = std::move(*f);
            opts.imatrix = &*imatrix;
            inputs.push_back(o->imatrix);
        }
        if (!o->plan.empty())
            inputs.push_back(o->plan);
        if (!o->config.empty()) {
            inputs.push_back(o->config);
            std::ifstream in(o->config);
            if (!in)
                throw CliError{kBadFile, "cannot read --config " + o->config};
            std::stringstream ss;
            ss << in.rdbuf();
            opts.configJson = ss.str();
        }
        auto r = runExport(*target, *sel, o->out, inputs, opts);
        if (!r) {
            const std::string& m = r.message();
            const bool io = m.starts_with("cannot write") || m.starts_with("cannot move") ||
                            m.starts_with("error while writing") ||
                            m.starts_with("cannot create") || m.starts_with("refusing");
            throw CliError{io ? kOutputError : kBadScheme,
                           m.starts_with(o->to) ? m : "export --to " + o->to + ": " + m};
        }
        if (o->json) {
            nlohmann::json j = {{"target", o->to},   {"path", ckpt.path()},
                                {"out", o->out},     {"summary", r->summary},
                                {"files", r->files}, {"warnings", r->warnings}};
            if (uniform)
                j["scheme"] = uniform->toString();
            else
                j["plan"] = o->plan;
            j["details"] = nlohmann::json::parse(r->details);
            printJson(j);
            return;
        }
        std::cout << "wrote " << o->out << ": " << r->summary << "\n";
        for (std::size_t i = 1; i < r->files.size(); ++i)
            std::cout << "wrote " << r->files[i] << "\n";
        for (const auto& w : r->warnings)
            std::cout << "  " << w << "\n";
    };
}

} // namespace qs::cli
