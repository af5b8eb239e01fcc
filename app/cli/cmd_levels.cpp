#include "cli/cli_common.h"
#include "cli/commands.h"
#include "quant/registry.h"

#include <algorithm>
#include <cmath>
#include <iostream>

namespace qs::cli {

Action addLevelsCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("levels", "Reconstruction levels of a scheme for a unit scale");
    auto spec = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("--scheme", *spec, "scheme spec")->required();
    cmd->add_flag("--json", *json, "print one JSON document");
    return [=] {
        const Scheme s = parseScheme(*spec);
        auto levels = unitLevels(s);
        if (!levels)
            throw CliError{kBadScheme, levels.message()};
        if (*json) {
            printJson({{"scheme", s.toString()}, {"levels", *levels}});
            return;
        }
        std::cout << s.toString() << ": " << levels->size() << " levels (unit scale)\n";
        for (size_t i = 0; i < levels->size(); ++i)
            std::cout << ((*levels)[i] < 0 ? "" : " ") << fmt((*levels)[i], 8)
                      << ((i + 1) % 8 ? "  " : "\n");
        if (levels->size() % 8)
            std::cout << "\n";
        // Code-valued tables (ggml's blocks, iq4_nl's kvalues) are not on [-1, 1]: say what the
        // numbers are.
        double widest = 0;
        for (double v : *levels)
            widest = std::max(widest, std::abs(v));
        const bool offset = levels->front() >= 0; // unsigned codes: an offset (zero point, min)
        if (widest > 1.5)
            std::cout << "(codes as stored: a weight is its level times its block's scale"
                      << (offset ? ", less the block's offset"
                          : widest > 100
                              ? ", so the scale is about the block's max |w| / " + fmt(widest, 4)
                              : std::string())
                      << ")\n";
    };
}

} // namespace qs::cli
