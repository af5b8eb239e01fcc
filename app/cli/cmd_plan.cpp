#include "analysis/tensor_analysis.h"
#include "cli/cli_calibration.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "metrics/error_metrics.h"
#include "plan/planner.h"
#include "util/atomic_file.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <regex>

namespace qs::cli {
namespace {

// "REGEX=SPEC": split at the first '=' whose right side is a valid spec, since specs may hold
// '=' themselves (clip=mse) and so, rarely, may a regex.
PlanKeepRule parseKeep(const std::string& text) {
    std::string why; // the spec's own error, after the first '='
    for (auto eq = text.find('='); eq != std::string::npos; eq = text.find('=', eq + 1)) {
        auto s = Scheme::parse(text.substr(eq + 1));
        if (eq > 0 && s)
            return {text.substr(0, eq), s->toString()};
        if (why.empty() && eq > 0)
            why = s.message();
    }
    throw CliError{kBadScheme, "--keep '" + text + "': expected REGEX=SPEC" +
                                   (why.empty() ? std::string() : " (" + why + ")")};
}

ImportanceRule parseImportance(const std::string& text) {
    const auto eq = text.rfind('=');
    if (eq == std::string::npos || eq == 0)
        throw CliError{kUsage, "--importance '" + text + "': expected REGEX=WEIGHT"};
    try {
        std::size_t used = 0;
        const double w = std::stod(text.substr(eq + 1), &used);
        if (used == text.size() - eq - 1 && w >= 0 && std::isfinite(w))
            return {text.substr(0, eq), w};
    } catch (...) {
    }
    throw CliError{kUsage, "--importance '" + text + "': the weight must be a number >= 0"};
}

// "4000000000", "3.5GiB", "4GB", "512MiB".
std::uint64_t parseBytes(const std::string& text) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (...) {
        throw CliError{kUsage, "--budget-bytes: '" + text + "' is not a size (e.g. 4GiB)"};
    }
    const std::string unit = text.substr(used);
    const std::pair<const char*, double> units[] = {{"", 1},
                                                    {"B", 1},
                                                    {"KB", 1e3},
                                                    {"MB", 1e6},
                                                    {"GB", 1e9},
                                                    {"TB", 1e12},
                                                    {"KiB", 1024.0},
                                                    {"MiB", 1048576.0},
                                                    {"GiB", 1073741824.0},
                                                    {"TiB", 1099511627776.0}};
    for (const auto& [name, mult] : units)
        if (unit == name && v > 0)
            return static_cast<std::uint64_t>(v * mult);
    throw CliError{kUsage, "--budget-bytes: '" + text + "' is not a size (e.g. 4GiB, 3.5GB)"};
}

// A point's error keys: the weights' ("rel_rmse", "sqnr_db") or the output's.
nlohmann::json pointJson(const ParetoPoint& p, double budgetBpw, PlanObjective objective) {
    const bool out = objective == PlanObjective::OutputError;
    nlohmann::json j = {{"bits_per_weight", p.bitsPerWeight},
                        {out ? "out_rel_err" : "rel_rmse", number(p.relRmse)},
                        {out ? "out_snr_db" : "sqnr_db", number(p.sqnrDb)},
                        {"bytes", p.bytes},
                        {"schemes", p.distinctSchemes}};
    if (!p.label.empty())
        j["scheme"] = p.label;
    if (!p.fallbacks.empty())
        j["fallbacks"] = p.fallbacks;
    if (budgetBpw > 0)
        j["fits_budget"] = p.bitsPerWeight <= budgetBpw;
    return j;
}

} // namespace

Action addPlanCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "plan", "Choose a scheme per tensor to minimise the error under a size budget");
    struct Opts {
        std::string path, out, budgetBytes, objective = "auto";
        CalibrationOptions calib;
        double budgetBpw = 0;
        std::vector<std::string> candidates, keep, importance;
        bool json = false, pareto = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("PATH", o->path, "checkpoint file or model folder")->required();
    auto* bpw =
        cmd->add_option("--budget-bpw", o->budgetBpw, "bits per weight over the quantized tensors")
            ->check(positiveNumber());
    cmd->add_option("--budget-bytes", o->budgetBytes,
                    "or the whole model's weight bytes (1-D tensors as stored included), e.g. "
                    "4GiB")
        ->excludes(bpw);
    cmd->add_option("--candidates", o->candidates, "schemes to choose from: SPEC,SPEC,...")
        ->required()
        ->delimiter(',');
    cmd->add_option("--keep", o->keep,
                    "REGEX=SPEC: tensors whose whole name matches get SPEC (repeatable; first "
                    "match wins), e.g. 'lm_head.*=q8_0'");
    cmd->add_option("--importance", o->importance,
                    "REGEX=WEIGHT: weigh the error of matching tensors (repeatable; default 1)");
    addCalibrationOptions(cmd, o->calib,
                          "with them each tensor's output error ||XW^T - XW^^T|| is measured "
                          "where the activations' width fits");
    cmd->add_option("--objective", o->objective,
                    "what to minimise: weight (squared weight error), output (squared output "
                    "error per token, the weight error where no activations fit; needs "
                    "--calib) or auto (output with --calib, else weight)")
        ->check(CLI::IsMember({"auto", "weight", "output"}));
    cmd->add_option("--out", o->out, "where to write PLAN.json")->required();
    cmd->add_flag("--pareto", o->pareto, "also print the error-vs-size curve of plans");
    cmd->add_flag("--json", o->json, "print one JSON document");
    return [=] {
        if (o->budgetBpw <= 0 && o->budgetBytes.empty())
            throw CliError{kUsage, "plan needs --budget-bpw B or --budget-bytes SIZE"};
        PlanRequest req;
        for (const auto& c : o->candidates)
            if (!c.empty())
                req.candidates.push_back(parseScheme(c));
        for (const auto& k : o->keep)
            req.keep.push_back(parseKeep(k));
        for (const auto& i : o->importance)
            req.importance.push_back(parseImportance(i));
        PlanBudget budget;
        budget.bitsPerWeight = o->budgetBpw;
        if (!o->budgetBytes.empty())
            budget.bytes = parseBytes(o->budgetBytes);
        if (o->objective == "output" && o->calib.path.empty() && o->calib.imatrix.empty())
            throw CliError{kUsage, "--objective output needs activations: pass --calib ACT or "
                                   "--imatrix FILE"};
        if (auto st = refuseOverwritingInputs(o->out, {o->path}); !st)
            throw CliError{kOutputError, st.message()};

        const Checkpoint ckpt = openCheckpoint(o->path);
        auto calib = loadCalibration(o->calib);
        const auto imatrix = loadImatrix(o->calib);
        req.imatrix = imatrix ? &*imatrix : nullptr;
        // What the output error is measured with, for the JSON and the text.
        const std::string inputs = calib     ? calib->label()
                                   : imatrix ? imatrix->path + ", an importance matrix"
                                             : std::string();
        if (calib) {
            std::vector<const TensorInfo*> quantized;
            for (const TensorInfo& t : ckpt.tensors())
                if (isQuantizable(t))
                    quantized.push_back(&t);
            calib->prepareFor(quantized);
            req.activationsFor = [&](std::int64_t features) {
                return calib->forFeatures(features);
            };
        }
        auto m = measurePlanCandidates(ckpt, req);
        if (!m)
            throw CliError{kBadScheme, m.message()};
        if (calib && !hasOutputError(*m))
            throw CliError{kUsage, "--calib " + o->calib.path + ": its " +
                                       std::to_string(calib->loadedFeatures()) +
                                       " features fit no quantized tensor's input width"};
        if (imatrix && !hasOutputError(*m))
            throw CliError{kUsage, "--imatrix " + imatrix->path +
                                       ": none of its entries is a quantized tensor of this "
                                       "checkpoint (by llama.cpp name and width)"};
        if (o->objective == "output" || (o->objective == "auto" && !inputs.empty()))
            m->objective = PlanObjective::OutputError;
        auto sol = solvePlan(*m, budget);
        if (!sol)
            throw CliError{kUsage, sol.message()};
        if (auto st = savePlan(o->out, sol->plan); !st)
            throw CliError{kOutputError, st.message()};

        const double budgetBpw = o->budgetBpw > 0
                                     ? o->budgetBpw
                                     : static_cast<double>((budget.bytes - m->keptBytes) * 8) /
                                           static_cast<double>(m->elements);
        // Rules that matched no quantized tensor (lm_head on a model with tied embeddings)
        // did nothing: said, not silently ignored.
        std::vector<std::string> unmatched;
        for (size_t r = 0; r < req.keep.size(); ++r) {
            const std::regex re(req.keep[r].pattern);
            if (std::none_of(m->tensors.begin(), m->tensors.end(), [&](const TensorMeasurement& t) {
                    return std::regex_match(t.name, re);
                }))
                unmatched.push_back(o->keep[r]);
        }
        const auto uniform = uniformPoints(*m);
        const auto curve = o->pareto ? paretoCurve(*m) : std::vector<ParetoPoint>{};
        nlohmann::json tensors = nlohmann::json::array();
        std::vector<std::string> header{"tensor", "shape", "scheme", "bpw", "rel_rmse"};
        if (!inputs.empty())
            header.push_back("out_rel_err");
        header.push_back("note");
        TextTable table(header);
        for (size_t i = 0; i < m->tensors.size(); ++i) {
            const auto& t = m->tensors[i];
            const auto& opt = t.options[sol->choice[i]];
            const double tb = static_cast<double>(opt.bits) / static_cast<double>(t.elements);
            const double rel = t.sumSqRef > 0 ? std::sqrt(opt.sqErr / t.sumSqRef) : 0;
            std::string note = t.pinned ? "kept by rule" : "";
            if (!opt.fallbackFor.empty())
                note = "llama.cpp fallback for " + opt.fallbackFor;
            nlohmann::json tj = {{"name", t.name},
                                 {"shape", t.shape},
                                 {"scheme", opt.scheme.toString()},
                                 {"bits_per_weight", tb},
                                 {"rel_rmse", number(rel)},
                                 {"pinned", t.pinned}};
            if (!opt.fallbackFor.empty())
                tj["fallback_for"] = opt.fallbackFor;
            if (!t.notApplicable.empty())
                tj["not_applicable"] = t.notApplicable;
            if (std::isfinite(opt.outRelErr))
                tj["out_rel_err"] = number(opt.outRelErr);
            tensors.push_back(tj);
            std::string shape = "[";
            for (size_t d = 0; d < t.shape.size(); ++d)
                shape += (d ? ", " : "") + std::to_string(t.shape[d]);
            std::vector<std::string> row{t.name, shape + "]", opt.scheme.toString(), fmt(tb, 5),
                                         fmt(rel, 4)};
            if (!inputs.empty())
                row.push_back(std::isfinite(opt.outRelErr) ? fmt(opt.outRelErr, 4) : "-");
            row.push_back(note);
            table.addRow(row);
        }
        if (o->json) {
            nlohmann::json kept = nlohmann::json::array();
            for (const auto& k : m->kept)
                kept.push_back(
                    {{"name", k.name}, {"shape", k.shape}, {"dtype", k.dtype}, {"bytes", k.bytes}});
            nlohmann::json j = {{"out", o->out},
                                {"budget_bpw", budgetBpw},
                                {"bits_per_weight", sol->bitsPerWeight},
                                {"rel_rmse", number(sol->relRmse)},
                                {"sqnr_db", number(sqnrDbFromSums(m->sumSqRef, sol->sqErr))},
                                {"bytes", (sol->bits + 7) / 8},
                                {"model_bytes", sol->modelBytes},
                                {"default", sol->plan.defaultSpec},
                                {"tensors", tensors},
                                {"kept", kept},
                                {"uniform", nlohmann::json::array()}};
            if (budget.bytes)
                j["budget_bytes"] = budget.bytes;
            j["objective"] =
                m->objective == PlanObjective::OutputError ? "output_error" : "weight_error";
            if (calib)
                j["calib"] = calib->label();
            if (imatrix)
                j["imatrix"] = imatrix->path;
            if (!inputs.empty())
                j["out_rel_err"] = number(sol->outRelErr);
            if (!unmatched.empty())
                j["unmatched_keep"] = unmatched;
            for (const auto& p : uniform)
                j["uniform"].push_back(pointJson(p, budgetBpw, m->objective));
            if (o->pareto) {
                j["pareto"] = nlohmann::json::array();
                for (const auto& p : curve)
                    j["pareto"].push_back(pointJson(p, 0, m->objective));
            }
            printJson(j);
            return;
        }
        table.print();
        std::cout << "\nPlan: " << fmt(sol->bitsPerWeight, 5) << " bits per weight (budget "
                  << fmt(budgetBpw, 5) << "), rel_rmse " << fmt(sol->relRmse, 4)
                  << (!inputs.empty() ? ", out_rel_err " + fmt(sol->outRelErr, 4) : std::string())
                  << ", " << humanBytes(sol->modelBytes) << " with " << m->kept.size()
                  << " 1-D tensors kept as stored; written to " << o->out << "\n";
        if (m->objective == PlanObjective::OutputError)
            std::cout << "Minimised the squared output error per token (" << inputs
                      << "; the weight error where "
                      << (calib ? "no activations fit" : "it has no entry") << ")\n";
        for (const auto& k : unmatched)
            std::cout << "note: --keep '" << k << "' matched no quantized tensor\n";
        std::cout << "\n";
        const std::string errName =
            m->objective == PlanObjective::OutputError ? "out_rel_err" : "rel_rmse";
        TextTable u({"uniform scheme", "bpw", errName, "fits budget"});
        for (const auto& p : uniform)
            u.addRow({uniformPointName(p), fmt(p.bitsPerWeight, 5), fmt(p.relRmse, 4),
                      p.bitsPerWeight <= budgetBpw ? "yes" : "no"});
        u.print();
        if (o->pareto) {
            std::cout << "\nPareto curve of plans:\n";
            TextTable c({"bpw", errName,
                         m->objective == PlanObjective::OutputError ? "out_snr_db" : "sqnr_db",
                         "schemes"});
            for (const auto& p : curve)
                c.addRow({fmt(p.bitsPerWeight, 5), fmt(p.relRmse, 4), fmt(p.sqnrDb, 4),
                          std::to_string(p.distinctSchemes)});
            c.print();
        }
    };
}

} // namespace qs::cli
