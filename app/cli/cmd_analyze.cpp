#include "analysis/stream_analysis.h"
#include "analysis/tensor_analysis.h"
#include "cli/cli_calibration.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "metrics/output_error.h"
#include "plan/scheme_cost.h"

#include <iostream>
#include <map>
#include <set>

namespace qs::cli {
namespace {

struct Totals {
    ErrorMetrics error;
    StorageCost cost;
    std::uint64_t tensors = 0;
    std::uint64_t notApplicable = 0; // tensors the scheme does not apply to, left out above
    std::set<std::string> fallbacks; // what llama.cpp stores those as instead
    bool llamaStops = false;         // or llama-quantize has no fallback and stops
    OutputErrorSums output;          // over the tensors with activations of their width
    std::uint64_t outputTensors = 0;
};

// "q4_k: n/a for 36 of 36 tensors, left out of its totals (llama.cpp stores them as q5_0)".
std::string notApplicableNote(const std::string& spec, const Totals& tot) {
    std::string note = spec + ": n/a for " + std::to_string(tot.notApplicable) + " of " +
                       std::to_string(tot.notApplicable + tot.tensors) + " tensors, left out of " +
                       (tot.tensors ? "its totals" : "the totals");
    if (!tot.fallbacks.empty()) {
        std::string names;
        for (const auto& f : tot.fallbacks)
            names += (names.empty() ? "" : " or ") + f;
        note += " (llama.cpp stores them as " + names + "; `plan` counts that)";
    }
    if (tot.llamaStops)
        note += "; llama-quantize has no fallback for " + spec + " on them and stops";
    return note;
}

} // namespace

Action addAnalyzeCommand(CLI::App& app) {
    auto* cmd =
        app.add_subcommand("analyze", "Error metrics per tensor x scheme, and whole-model totals");
    struct Opts {
        std::string path, regex, backend = "auto";
        CalibrationOptions calib;
        std::vector<std::string> schemes;
        bool json = false, all = false;
        int threads = 0;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("PATH", o->path, "checkpoint file")->required();
    cmd->add_option("--scheme", o->schemes, "scheme spec, e.g. int4:g64 (repeatable)")->required();
    cmd->add_option("--tensor", o->regex, "only tensors whose name matches this regex");
    addCalibrationOptions(cmd, o->calib, "needed by gptq and awq");
    cmd->add_option("--backend", o->backend, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    cmd->add_flag("--all", o->all, "also quantize 1-D tensors (norms, biases)");
    cmd->add_flag("--json", o->json, "print one JSON document");
    cmd->add_option("--threads", o->threads, "CPU worker threads (default: all cores)")
        ->check(CLI::Range(1, 1024));
    return [=] {
        withThreads(o->threads, [&] {
            std::vector<Scheme> schemes;
            for (const auto& spec : o->schemes) {
                Scheme s = parseScheme(spec);
                const FamilyInfo* f = findFamily(s.family);
                if (!f->implemented())
                    throw CliError{kBadScheme, "scheme " + s.toString() + ": the " + s.family +
                                                   " family is not implemented yet"};
                requireCalibration(s, o->calib);
                schemes.push_back(std::move(s));
            }
            const BackendStatus backend = useBackend(o->backend);
            const Checkpoint ckpt = openCheckpoint(o->path);
            const auto selected = selectTensors(ckpt, o->regex);
            auto calib = loadCalibration(o->calib);
            const auto imatrix = loadImatrix(o->calib);
            const bool outputColumn = calib || imatrix;

            nlohmann::json results = nlohmann::json::array(), kept = nlohmann::json::array();
            std::map<std::string, Totals> totals;
            std::uint64_t keptBytes = 0;
            std::vector<std::string> problems; // why a row has no numbers
            std::size_t onDevice = 0;          // results the CUDA engine computed
            std::vector<std::string> header{"tensor",   "shape",   "scheme",      "bpw",
                                            "rel_rmse", "sqnr_db", "max_abs_err", "cosine"};
            if (outputColumn)
                header.push_back("out_rel_err");
            TextTable table(header);
            std::vector<const TensorInfo*> quantized;
            for (const TensorInfo* t : selected) {
                if (!o->all && !isQuantizable(*t)) {
                    kept.push_back({{"name", t->name},
                                    {"shape", shapeJson(*t)},
                                    {"dtype", t->typeName()},
                                    {"bytes", t->nbytes}});
                    keptBytes += t->nbytes;
                    continue;
                }
                quantized.push_back(t);
            }
            auto emit = [&](const TensorInfo* t, const Scheme& s, const Result<TensorAnalysis>& a) {
                nlohmann::json r = {
                    {"name", t->name}, {"shape", shapeJson(*t)}, {"scheme", s.toString()}};
                if (!a) {
                    const bool na = a.error().kind == ErrorKind::NotApplicable;
                    r["error"] = a.message();
                    r["applicable"] = !na;
                    results.push_back(r);
                    table.addRow({t->name, t->shapeString(), s.toString(), na ? "n/a" : "error",
                                  "-", "-", "-", "-"});
                    problems.push_back(t->name + " under " + s.toString() + ": " + a.message());
                    if (na) {
                        auto& tot = totals[s.toString()];
                        ++tot.notApplicable;
                        const std::int64_t cols = t->shape.empty() ? 1 : t->shape.back();
                        if (cols > 0) {
                            auto stored = resolvedStorageCost(s, t->numel() / cols, cols);
                            if (stored && !(stored->scheme == s))
                                tot.fallbacks.insert(stored->scheme.toString());
                            tot.llamaStops |= !stored &&
                                              stored.error().kind == ErrorKind::NotApplicable &&
                                              !llamaCppFallback(s);
                        }
                    }
                    return;
                }
                const auto& m = a->error;
                r.update({{"mse", number(m.mse())},
                          {"rmse", number(m.rmse())},
                          {"rel_rmse", number(m.relRmse())},
                          {"sqnr_db", number(m.sqnrDb())},
                          {"max_abs_err", number(m.maxAbsErr)},
                          {"cosine", number(m.cosine())},
                          {"bits_per_weight", a->cost.bitsPerWeight()},
                          {"bytes", a->cost.bytes()},
                          {"backend", a->backend}});
                onDevice += a->backend == "cuda" ? 1 : 0;
                if (!a->diagnostics.empty()) {
                    auto& d = r["diagnostics"] = nlohmann::json::object();
                    for (const auto& diag : a->diagnostics)
                        d[diag.key] = number(diag.value);
                }
                if (a->outputError)
                    r["out_rel_err"] = number(a->outputError->relative());
                results.push_back(r);
                auto& tot = totals[s.toString()];
                tot.error.merge(m);
                tot.cost.merge(a->cost);
                ++tot.tensors;
                if (a->outputError) {
                    tot.output.err += a->outputError->err;
                    tot.output.ref += a->outputError->ref;
                    ++tot.outputTensors;
                }
                std::vector<std::string> row{t->name,
                                             t->shapeString(),
                                             s.toString(),
                                             fmt(a->cost.bitsPerWeight(), 5),
                                             fmt(m.relRmse(), 4),
                                             fmt(m.sqnrDb(), 4),
                                             fmt(m.maxAbsErr, 4),
                                             fmt(m.cosine(), 6)};
                if (outputColumn)
                    row.push_back(a->outputError ? fmt(a->outputError->relative(), 4) : "-");
                table.addRow(row);
            };
            // Tensors stream through a bounded pipeline: big ones in chunks of rows where every
            // scheme allows, the next piece decoded while the current one is analysed.
            StreamOptions stream;
            stream.imatrix = imatrix ? &*imatrix : nullptr;
            if (calib) {
                calib->prepareFor(quantized);
                stream.activationsFor = [&](std::int64_t features) {
                    return calib->forFeatures(features);
                };
            }
            auto done = analyzeStreamed(
                ckpt, quantized, schemes, stream,
                [&](StreamedTensor&& st) {
                    if (!st.read.ok())
                        throw CliError{kBadFile, st.read.message()};
                    for (std::size_t k = 0; k < schemes.size(); ++k)
                        emit(st.tensor, schemes[k], st.results[k]);
                },
                interruptProgress());
            throwIfInterrupted();
            if (!done)
                throw CliError{kFailure, done.message()};
            nlohmann::json totalsJson = nlohmann::json::array();
            std::vector<std::string> totalHeader{"scheme",      "tensors",  "bpw",    "bytes",
                                                 "model bytes", "rel_rmse", "sqnr_db"};
            if (outputColumn)
                totalHeader.push_back("out_rel_err");
            TextTable totalTable(totalHeader);
            std::vector<std::string> notes; // schemes that did not apply to every tensor
            for (const Scheme& s : schemes) {
                const auto it = totals.find(s.toString());
                if (it == totals.end())
                    continue;
                const Totals& tot = it->second;
                if (tot.notApplicable)
                    notes.push_back(notApplicableNote(s.toString(), tot));
                if (tot.tensors == 0) {
                    totals.erase(it);
                    continue;
                }
                nlohmann::json tj = {{"scheme", s.toString()},
                                     {"not_applicable", tot.notApplicable},
                                     {"tensors", tot.tensors},
                                     {"elements", tot.cost.elements},
                                     {"bits_per_weight", tot.cost.bitsPerWeight()},
                                     {"bytes", tot.cost.bytes()},
                                     {"model_bytes", tot.cost.bytes() + keptBytes},
                                     {"rel_rmse", number(tot.error.relRmse())},
                                     {"sqnr_db", number(tot.error.sqnrDb())}};
                std::vector<std::string> row{s.toString(),
                                             std::to_string(tot.tensors),
                                             fmt(tot.cost.bitsPerWeight(), 5),
                                             humanBytes(tot.cost.bytes()),
                                             humanBytes(tot.cost.bytes() + keptBytes),
                                             fmt(tot.error.relRmse(), 4),
                                             fmt(tot.error.sqnrDb(), 4)};
                // The whole model's output error: sqrt(sum ||X(W-W^)^T||^2 / sum ||XW^T||^2)
                // over the tensors the activations fit (how many: out_tensors).
                if (tot.outputTensors > 0) {
                    tj["out_rel_err"] = number(tot.output.relative());
                    tj["out_tensors"] = tot.outputTensors;
                }
                if (outputColumn)
                    row.push_back(tot.outputTensors ? fmt(tot.output.relative(), 4) : "-");
                totalsJson.push_back(tj);
                totalTable.addRow(row);
                totals.erase(it);
            }
            // Every pair n/a or failed (q6_k on 64-wide rows, activations of the wrong width):
            // the output says which, and the exit code that nothing was measured.
            const bool nothing = !quantized.empty() && totalsJson.empty();
            auto failIfNothing = [&] {
                if (nothing)
                    throw CliError{kFailure,
                                   "nothing measured: " +
                                       (!notes.empty()      ? notes.front()
                                        : !problems.empty() ? problems.front()
                                                            : std::string("no result came back"))};
            };
            if (o->json) {
                nlohmann::json j = {{"path", ckpt.path()},
                                    {"backend", std::string(backendName(backend.active))},
                                    {"device", backend.device},
                                    {"results", results},
                                    {"totals", totalsJson},
                                    {"kept", kept}};
                if (calib)
                    j["calib"] = calib->label();
                if (imatrix)
                    j["imatrix"] = {{"path", imatrix->path},
                                    {"format", imatrix->format},
                                    {"entries", imatrix->entries.size()},
                                    {"chunks", imatrix->chunks}};
                printJson(j);
                failIfNothing();
                return;
            }
            table.print();
            for (const auto& p : problems)
                std::cout << "  " << p << "\n";
            std::cout << "\nTotals over the quantized tensors";
            if (!kept.empty())
                std::cout << " (" << kept.size() << " 1-D tensors kept as stored, "
                          << humanBytes(keptBytes) << ")";
            std::cout << ":\n";
            totalTable.print();
            for (const auto& n : notes)
                std::cout << "  " << n << "\n";
            if (imatrix) {
                std::size_t missing = 0;
                for (const TensorInfo* t : quantized)
                    missing += imatrix->find(t->name) ? 0 : 1;
                std::cout << "\nout_rel_err from " << imatrix->path << " (" << imatrix->format
                          << ", " << imatrix->entries.size() << " entries, " << imatrix->chunks
                          << " chunks): the expected output error for inputs of its mean squares, "
                             "columns taken as uncorrelated; "
                          << missing << " of " << quantized.size()
                          << " tensors have no entry (imatrix schemes quantize them without, as "
                             "llama-quantize does)\n";
            }
            if (backend.active == Backend::Cuda)
                std::cout << "\nComputed on CUDA (" << backend.device << "): " << onDevice << " of "
                          << results.size() << " results; the rest on the CPU\n";
            else
                std::cout << "\nComputed on the CPU: " << backend.device << "\n";
            failIfNothing();
        });
    };
}

} // namespace qs::cli
