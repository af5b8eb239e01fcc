// quantscope-cli: the headless face of the core. Readable text by default, exactly one JSON
// document on stdout with --json; on error a non-zero exit code (< 128) and one stderr line.

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "util/huge_pages.h"
#include "util/malloc_tuning.h"

#ifdef QS_HAVE_CUDA
#include "cuda/cuda_engine.h"
#endif

#include <exception>
#include <iostream>
#include <vector>

int main(int argc, char** argv) {
    using namespace qs::cli;
#ifdef QS_HAVE_CUDA
    qs::cuda::registerCudaEngine();
#endif
    CLI::App app{"Quantscope: explore what quantization does to neural-network weights"};
    app.name("quantscope-cli");
    app.require_subcommand(1);
    app.set_version_flag("--version", "quantscope-cli 0.1.0");
    std::vector<std::pair<CLI::App*, Action>> commands;
    auto add = [&](Action (*fn)(CLI::App&)) {
        Action a = fn(app);
        commands.emplace_back(app.get_subcommands({}).back(), std::move(a));
    };
    add(addInfoCommand);
    add(addStatsCommand);
    add(addAnalyzeCommand);
    add(addDequantCommand);
    add(addLevelsCommand);
    add(addExportCommand);
    add(addMemoryCommand);
    add(addPlanCommand);
    add(addBenchCommand);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string msg = e.what();
        std::cerr << "quantscope-cli: " << msg << " (see --help)\n";
        return kUsage;
    }
    // The commands that analyse tensors allocate large buffers: with huge pages (re-executes).
    for (const char* heavy : {"stats", "analyze", "dequant", "export", "plan", "bench"})
        if (app.got_subcommand(heavy)) {
            qs::runWithHugePages(argv);
            qs::keepLargeBuffersMapped();
            break;
        }
    installInterruptHandler();
    try {
        for (auto& [sub, action] : commands)
            if (sub->parsed())
                action();
    } catch (const CliError& e) {
        std::cerr << "quantscope-cli: " << e.message << "\n";
        return e.code;
    } catch (const std::bad_alloc&) {
        std::cerr << "quantscope-cli: out of memory\n";
        return kFailure;
    } catch (const std::exception& e) {
        std::cerr << "quantscope-cli: " << e.what() << "\n";
        return kFailure;
    }
    return kOk;
}
