#pragma once
// One function per subcommand; each registers its options on the CLI11 app and returns the
// action to run after parsing.

#include <CLI/CLI.hpp>

#include <functional>

namespace qs::cli {

using Action = std::function<void()>;

Action addInfoCommand(CLI::App& app);
Action addStatsCommand(CLI::App& app);
Action addAnalyzeCommand(CLI::App& app);
Action addDequantCommand(CLI::App& app);
Action addLevelsCommand(CLI::App& app);
Action addExportCommand(CLI::App& app);
Action addMemoryCommand(CLI::App& app);
Action addPlanCommand(CLI::App& app);
Action addBenchCommand(CLI::App& app);

} // namespace qs::cli
