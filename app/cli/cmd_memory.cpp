#include "cli/cli_common.h"
#include "cli/commands.h"
#include "plan/memory_model.h"

#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

namespace qs::cli {
namespace {

// "8030261248", "8.03e9", "8B", "500M", "1.5T" (decimal multipliers, as model sizes are quoted).
std::uint64_t parseCount(const std::string& text) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (...) {
        throw CliError{kUsage, "--params: '" + text + "' is not a number (e.g. 8030261248, 7B)"};
    }
    std::string suffix = text.substr(used);
    double mult = 1;
    if (suffix == "K" || suffix == "k")
        mult = 1e3;
    else if (suffix == "M" || suffix == "m")
        mult = 1e6;
    else if (suffix == "B" || suffix == "b" || suffix == "G" || suffix == "g")
        mult = 1e9;
    else if (suffix == "T" || suffix == "t")
        mult = 1e12;
    else if (!suffix.empty())
        throw CliError{kUsage, "--params: unknown suffix '" + suffix + "' (K, M, B or T)"};
    v *= mult;
    if (!(v >= 1) || v > 1e16)
        throw CliError{kUsage, "--params: '" + text + "' is not a plausible parameter count"};
    return static_cast<std::uint64_t>(std::llround(v));
}

std::string readText(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw CliError{kBadFile, "cannot read " + path};
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string grouped(std::uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<size_t>(i), ",");
    return s;
}

nlohmann::json archJson(const ModelArchitecture& a) {
    nlohmann::json j = {
        {"model_type", a.modelType},   {"hidden_size", a.hiddenSize},
        {"layers", a.numLayers},       {"heads", a.numHeads},
        {"kv_heads", a.numKvHeads},    {"head_dim", a.headDim},
        {"vocab_size", a.vocabSize},   {"tied_embeddings", a.tiedEmbeddings},
        {"dtype", dtypeName(a.dtype)}, {"kv_elements_per_token_per_layer", a.kvElementsPerToken()}};
    if (a.isMla())
        j["mla"] = {{"q_lora_rank", a.qLoraRank},
                    {"kv_lora_rank", a.kvLoraRank},
                    {"qk_rope_head_dim", a.qkRopeHeadDim},
                    {"qk_nope_head_dim", a.qkNopeHeadDim},
                    {"v_head_dim", a.vHeadDim}};
    if (a.numExperts > 0) {
        std::int64_t moeLayers = 0;
        for (bool b : a.moeLayers)
            moeLayers += b;
        j["moe"] = {{"experts", a.numExperts},
                    {"experts_per_token", a.expertsPerToken},
                    {"moe_intermediate_size", a.moeIntermediateSize},
                    {"shared_experts", a.numSharedExperts},
                    {"shared_expert_intermediate_size", a.sharedExpertIntermediateSize},
                    {"moe_layers", moeLayers}};
    }
    std::int64_t sliding = 0, window = 0;
    for (auto w : a.layerWindow)
        if (w > 0)
            ++sliding, window = std::max(window, w);
    if (sliding > 0)
        j["sliding_window"] = {{"window", window}, {"layers", sliding}};
    return j;
}

void printText(const std::string& what, const ModelDescription& m, const MemoryOptions& o,
               const MemoryEstimate& e, const std::string& weightsAs) {
    std::cout << what << ": " << grouped(e.params) << " parameters";
    if (m.arch)
        std::cout << " (" << m.arch->modelType << ", " << m.arch->numLayers << " layers)";
    std::cout << "\nmode " << memoryModeName(o.mode) << ", weights " << weightsAs << ", context "
              << o.context << " x batch " << o.batch;
    if (o.mode == MemoryMode::Inference)
        std::cout << ", KV cache " << kvDtypeName(o.kvDtype);
    std::cout << "\n\n";
    TextTable t({"component", "bytes", "size", "note"});
    t.addRow({"weights", grouped(e.weightsBytes), humanBytes(e.weightsBytes),
              fmt(e.bitsPerWeight, 4) + " bits per parameter"});
    if (o.mode == MemoryMode::Inference)
        t.addRow({"kv cache", grouped(e.kvCacheBytes), humanBytes(e.kvCacheBytes),
                  m.arch ? grouped(e.kvBytesPerToken) + " bytes per token" : "needs config.json"});
    if (e.adapterParams)
        t.addRow(
            {"lora adapters", grouped(e.adapterBytes), humanBytes(e.adapterBytes),
             grouped(e.adapterParams) + " fp32 parameters, rank " + std::to_string(o.loraRank)});
    if (o.mode != MemoryMode::Inference) {
        t.addRow({"gradients", grouped(e.gradientBytes), humanBytes(e.gradientBytes), ""});
        t.addRow({"optimizer", grouped(e.optimizerBytes), humanBytes(e.optimizerBytes),
                  o.mode == MemoryMode::Train ? "Adam: 2 fp32 moments + fp32 master"
                                              : "Adam: 2 fp32 moments"});
    }
    t.addRow({"activations", grouped(e.activationBytes), humanBytes(e.activationBytes),
              m.arch ? (o.gradientCheckpointing ? "with gradient checkpointing" : "estimate")
                     : "needs config.json"});
    t.addRow({"total", grouped(e.totalBytes), humanBytes(e.totalBytes), ""});
    t.print();
    std::cout << "\nWeights by role:\n";
    TextTable r({"role", "params", "size"});
    for (const auto& rb : e.weightsByRole)
        r.addRow({std::string(tensorRoleName(rb.role)), grouped(rb.params), humanBytes(rb.bytes)});
    r.print();
    std::cout << "\n";
    TextTable g({"gpu", "memory", "usable", "fits", "needed"});
    for (const auto& f : e.fits)
        g.addRow({std::string(f.gpu->name), humanBytes(f.gpu->memoryBytes),
                  humanBytes(f.gpu->usableBytes), f.fits ? "yes" : "no",
                  f.count ? std::to_string(f.count) : std::string("-")});
    g.print();
    for (const auto& n : e.notes)
        std::cout << "note: " << n << "\n";
}

} // namespace

Action addMemoryCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "memory", "Memory to serve or fine-tune a model, and which common GPUs hold it");
    struct Opts {
        std::string path, config, params, scheme, plan, kvDtype = "f16", mode = "inference";
        std::int64_t context = 4096, batch = 1;
        int loraRank = 16;
        std::vector<std::string> loraTargets;
        bool json = false, mtp = false, checkpointing = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("PATH", o->path, "checkpoint file or model folder (parameters counted)");
    cmd->add_option("--config", o->config, "a Hugging Face config.json (parameters computed)");
    cmd->add_option("--params", o->params, "only a parameter count, e.g. 8030261248 or 7B");
    auto* scheme = cmd->add_option("--scheme", o->scheme, "weights under this scheme spec");
    cmd->add_option("--plan", o->plan, "weights under this plan (PLAN.json)")->excludes(scheme);
    CLI::Option* contextGiven =
        cmd->add_option("--context", o->context,
                        "tokens per sequence (default 4096, or the model's maximum if lower)")
            ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
    cmd->add_option("--batch", o->batch, "sequences (default 1)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20));
    cmd->add_option("--kv-dtype", o->kvDtype, "KV cache element type")
        ->check(CLI::IsMember({"f16", "bf16", "fp8", "q8_0", "q4_0"}));
    cmd->add_option("--mode", o->mode, "inference, train, lora or qlora")
        ->check(CLI::IsMember({"inference", "train", "lora", "qlora"}));
    cmd->add_option("--lora-rank", o->loraRank, "LoRA rank (default 16)")
        ->check(CLI::Range(1, 65536));
    cmd->add_option("--lora-targets", o->loraTargets,
                    "modules LoRA adapts, e.g. q_proj,v_proj (default: every attention and MLP "
                    "matrix)")
        ->delimiter(',');
    cmd->add_flag("--grad-checkpointing", o->checkpointing,
                  "training stores only each layer's input");
    cmd->add_flag("--mtp", o->mtp, "count DeepSeek's multi-token-prediction module");
    cmd->add_flag("--json", o->json, "print one JSON document");
    return [=] {
        const int sources = !o->path.empty() + !o->config.empty() + !o->params.empty();
        if (sources != 1)
            throw CliError{kUsage, "memory needs exactly one of PATH, --config or --params"};
        ModelDescription model;
        std::string what;
        if (!o->config.empty()) {
            auto d = describeConfig(readText(o->config), o->mtp);
            if (!d)
                throw CliError{kBadFile, o->config + ": " + d.message()};
            model = std::move(d).value();
            what = o->config;
        } else if (!o->params.empty()) {
            model = describeParameterCount(parseCount(o->params));
            what = "a model";
        } else {
            model = describeCheckpoint(openCheckpoint(o->path));
            what = o->path;
        }
        MemoryOptions opts;
        opts.mode = *memoryModeFromName(o->mode);
        opts.kvDtype = *kvDtypeFromName(o->kvDtype);
        opts.context = o->context;
        // The model's own limit: the default 4096 is cut to it, and a longer --context is priced
        // as asked but flagged (a 512-token model cannot run 4096 tokens).
        const std::int64_t maxContext = model.arch ? model.arch->maxContext : 0;
        std::string contextNote;
        if (maxContext > 0 && opts.context > maxContext) {
            if (contextGiven->count() == 0) {
                opts.context = maxContext;
                contextNote = "context " + std::to_string(maxContext) +
                              ": the model's max_position_embeddings, below the default 4096";
            } else {
                contextNote = "context " + std::to_string(opts.context) +
                              " is past the model's max_position_embeddings of " +
                              std::to_string(maxContext);
            }
        }
        opts.batch = o->batch;
        opts.loraRank = o->loraRank;
        opts.loraTargets = o->loraTargets;
        opts.gradientCheckpointing = o->checkpointing;
        std::optional<Plan> plan;
        std::string weightsAs = "as stored";
        if (!o->scheme.empty()) {
            opts.scheme = parseScheme(o->scheme);
            weightsAs = opts.scheme->toString();
        } else if (!o->plan.empty()) {
            auto p = loadPlan(o->plan);
            if (!p)
                throw CliError{kBadFile, p.message()};
            plan = std::move(p).value();
            opts.plan = &*plan;
            weightsAs = "plan " + o->plan;
        } else if (opts.mode == MemoryMode::Qlora) {
            weightsAs = "nf4:g64:dq (QLoRA base)";
        }
        auto est = estimateMemory(model, opts);
        if (!est) {
            const bool usage = opts.mode == MemoryMode::Train && (opts.scheme || opts.plan);
            throw CliError{usage ? kUsage : kBadScheme, est.message()};
        }
        MemoryEstimate e = std::move(est).value();
        if (!contextNote.empty())
            e.notes.push_back(contextNote);
        if (!o->json) {
            printText(what, model, opts, e, weightsAs);
            return;
        }
        nlohmann::json fits = nlohmann::json::array();
        for (const auto& f : e.fits)
            fits.push_back({{"name", f.gpu->name},
                            {"memory_bytes", f.gpu->memoryBytes},
                            {"usable_bytes", f.gpu->usableBytes},
                            {"fits", f.fits},
                            {"count", f.count}});
        nlohmann::json roles = nlohmann::json::array();
        for (const auto& rb : e.weightsByRole)
            roles.push_back(
                {{"role", tensorRoleName(rb.role)}, {"params", rb.params}, {"bytes", rb.bytes}});
        nlohmann::json j = {{"source", model.source},
                            {"mode", memoryModeName(opts.mode)},
                            {"params", e.params},
                            {"weights_bytes", e.weightsBytes},
                            {"kv_cache_bytes", e.kvCacheBytes},
                            {"activation_bytes", e.activationBytes},
                            {"total_bytes", e.totalBytes},
                            {"fits", fits},
                            {"bits_per_weight", number(e.bitsPerWeight)},
                            {"quantized_params", e.quantizedParams},
                            {"weights_by_role", roles},
                            {"kv_bytes_per_token", e.kvBytesPerToken},
                            {"kv_dtype", kvDtypeName(opts.kvDtype)},
                            {"context", opts.context},
                            {"batch", opts.batch},
                            {"gradient_bytes", e.gradientBytes},
                            {"optimizer_bytes", e.optimizerBytes},
                            {"adapter_params", e.adapterParams},
                            {"adapter_bytes", e.adapterBytes},
                            {"notes", e.notes}};
        if (opts.scheme)
            j["scheme"] = opts.scheme->toString();
        if (plan)
            j["plan"] = o->plan;
        if (model.mtpParams)
            j["mtp_params"] = model.mtpParams;
        if (model.arch)
            j["architecture"] = archJson(*model.arch);
        printJson(j);
    };
}

} // namespace qs::cli
