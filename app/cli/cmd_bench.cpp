#include "analysis/bench.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "quant/registry.h"

#include <iostream>
#include <optional>
#include <regex>

namespace qs::cli {
namespace {

std::pair<std::int64_t, std::int64_t> parseShape(const std::string& text) {
    static const std::regex re(R"((\d{1,9})[xX](\d{1,9}))");
    std::smatch m;
    if (!std::regex_match(text, m, re))
        throw CliError{kUsage, "--shape must be ROWSxCOLS (e.g. 4096x4096), not '" + text + "'"};
    const std::int64_t rows = std::stoll(m[1]), cols = std::stoll(m[2]);
    if (rows < 1 || cols < 1 || rows * cols > (std::int64_t{1} << 32))
        throw CliError{kUsage, "--shape " + text + ": between 1 and 2^32 elements, please"};
    return {rows, cols};
}

} // namespace

Action addBenchCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "bench", "Time one tensor's analysis (quantize, metrics, error histogram) under a scheme");
    struct Opts {
        std::string scheme, shape, dtype = "f32", backend = "auto", stage = "analysis";
        int repeat = 10, warmup = 2, bins = 256, threads = 0;
        std::uint64_t seed = 1;
        bool json = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("--scheme", o->scheme, "scheme spec, e.g. int4:g128")->required();
    cmd->add_option("--shape", o->shape, "ROWSxCOLS of the synthetic tensor")->required();
    cmd->add_option("--dtype", o->dtype, "stored input type: f32, bf16 or f16")
        ->check(CLI::IsMember({"f32", "bf16", "f16"}));
    cmd->add_option("--backend", o->backend, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    cmd->add_option("--repeat", o->repeat, "timed repeats (the median is reported)")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--warmup", o->warmup, "untimed runs first")->check(CLI::Range(0, 100));
    cmd->add_option("--bins", o->bins, "error histogram bins (0: none)")
        ->check(CLI::Range(0, 1 << 16));
    cmd->add_option("--threads", o->threads, "CPU worker threads (default: all cores)")
        ->check(CLI::Range(1, 4096));
    cmd->add_option("--stage", o->stage,
                    "analysis (quantize, reconstruct, metrics, error histogram) or quantize "
                    "(ggml block types only: the bytes ggml's quantizer writes)")
        ->check(CLI::IsMember({"analysis", "quantize"}));
    cmd->add_option("--seed", o->seed, "seed of the synthetic Gaussian weights");
    cmd->add_flag("--json", o->json, "print one JSON document");
    return [=] {
        BenchRequest req;
        req.scheme = parseScheme(o->scheme);
        const FamilyInfo* f = findFamily(req.scheme.family);
        if (!f->implemented())
            throw CliError{kBadScheme, "scheme " + req.scheme.toString() + ": the " +
                                           req.scheme.family + " family is not implemented yet"};
        if (needsActivations(req.scheme))
            throw CliError{kBadScheme, req.scheme.toString() +
                                           " needs activations; bench times calibration-free "
                                           "schemes"};
        std::tie(req.rows, req.cols) = parseShape(o->shape);
        req.dtype = o->dtype == "bf16" ? DType::BF16 : o->dtype == "f16" ? DType::F16 : DType::F32;
        req.repeat = o->repeat;
        req.warmup = o->warmup;
        req.seed = o->seed;
        req.histogramBins = o->bins;
        req.threads = o->threads;
        req.quantizeOnly = o->stage == "quantize";
        // The device's kernels where it has them for the scheme; else the CPU (a note says so
        // when CUDA was asked for).
        const BackendStatus backend = useBackend(o->backend);
        std::optional<Result<BenchResult>> onDevice;
        if (DeviceEngine* dev = activeDeviceEngine(); dev && !req.quantizeOnly) {
            if (dev->covers(req.scheme, req.rows, req.cols))
                onDevice = dev->bench(req, interruptProgress());
            else if (o->backend == "cuda")
                std::cerr << "quantscope-cli: note: " << req.scheme.toString()
                          << " has no CUDA kernels yet; timing the CPU\n";
        }
        if (backend.active == Backend::Cuda && !onDevice)
            selectBackend(Backend::Cpu); // analyzeTensor must not hand the CPU bench to the GPU
        auto r = onDevice ? std::move(*onDevice) : runCpuBench(req, interruptProgress());
        throwIfInterrupted();
        if (!r)
            throw CliError{r.error().kind == ErrorKind::NotApplicable ? kBadScheme : kFailure,
                           r.message()};
        const double vsRead = r->readMedianMs > 0 ? r->medianMs / r->readMedianMs : 0;
        const bool cuda = r->backend == "cuda";
        if (o->json) {
            nlohmann::json j = {{"scheme", req.scheme.toString()},
                                {"shape", {req.rows, req.cols}},
                                {"dtype", o->dtype},
                                {"backend", r->backend},
                                {"device", r->device},
                                {"stage", o->stage},
                                {"threads", r->threads},
                                {"path", req.quantizeOnly ? "ggml quantizer"
                                         : r->fused       ? "fused"
                                                          : "separate passes"},
                                {"repeat", req.repeat},
                                {"warmup", req.warmup},
                                {"histogram_bins", req.histogramBins},
                                {"times_ms", r->timesMs},
                                {"median_ms", r->medianMs},
                                {"elements", r->elements},
                                {"input_bytes", r->inputBytes},
                                {"input_gbps", r->inputGbps()},
                                {"read_ms", r->readMedianMs},
                                {"read_gbps", r->readGbps()},
                                {"vs_read", vsRead},
                                {"gbps_per_thread", r->inputGbps() / r->threads},
                                {"sqnr_db", req.quantizeOnly ? nlohmann::json(nullptr)
                                                             : number(r->error.sqnrDb())}};
            if (cuda) {
                j["copy_gbps"] = r->copyGbps;
                j["copy_fraction"] = r->copyGbps > 0 ? r->inputGbps() / r->copyGbps : 0.0;
            }
            printJson(j);
            return;
        }
        std::cout << "bench " << req.scheme.toString() << " on " << req.rows << "x" << req.cols
                  << " " << o->dtype << " (" << r->elements << " elements, "
                  << humanBytes(r->inputBytes) << ")\n"
                  << "  device     " << (cuda ? "CUDA: " : "CPU: ") << r->device << ", "
                  << (req.quantizeOnly ? "ggml's quantizer only"
                      : r->fused       ? "fused path"
                                       : "separate passes")
                  << "\n"
                  << "  median     " << fmt(r->medianMs, 4) << " ms over " << req.repeat
                  << (req.repeat == 1 ? " run" : " runs") << " -> " << fmt(r->inputGbps(), 4)
                  << " GB/s of input (" << fmt(r->inputGbps() / r->threads, 4)
                  << " GB/s per thread)\n"
                  << (cuda ? "  copy       " : "  one read   ") << fmt(r->readMedianMs, 4)
                  << " ms (" << fmt(r->readGbps(), 4) << " GB/s); the analysis takes "
                  << fmt(vsRead, 3) << "x that\n";
        if (cuda)
            std::cout << "  bandwidth  " << fmt(100.0 * r->inputGbps() / r->copyGbps, 3)
                      << "% of the device's measured copy bandwidth\n";
        if (!req.quantizeOnly)
            std::cout << "  sqnr       " << fmt(r->error.sqnrDb(), 5) << " dB\n";
    };
}

} // namespace qs::cli
