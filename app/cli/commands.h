#pragma once
// One function per subcommand; each registers its options on the CLI11 app and returns the
// action to run after parsing.

#include <CLI/CLI.hpp>

#include <cmath>
#include <functional>
#include <string>

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

// A finite number greater than 0; its error is one line ("must be a number greater than 0, not
// 'abc'"), where CLI::PositiveNumber printed its range's 300-digit upper bound.
inline CLI::Validator positiveNumber() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            double v = 0;
            std::size_t used = 0;
            try {
                v = std::stod(text, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != text.size() || !std::isfinite(v) || !(v > 0))
                return "must be a number greater than 0, not '" + text + "'";
            return {};
        },
        "POSITIVE");
}

} // namespace qs::cli
