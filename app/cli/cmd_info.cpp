#include "cli/cli_common.h"
#include "cli/commands.h"

#include <iostream>

namespace qs::cli {

Action addInfoCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("info", "Format, metadata and tensors of a checkpoint");
    auto path = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("PATH", *path, "checkpoint file")->required();
    cmd->add_flag("--json", *json, "print one JSON document");
    return [=] {
        const Checkpoint ckpt = openCheckpoint(*path);
        if (*json) {
            nlohmann::json j;
            j["path"] = ckpt.path();
            j["format"] = ckpt.format();
            j["metadata"] = ckpt.metadata();
            j["parameters"] = ckpt.totalParameters();
            j["bytes"] = ckpt.totalBytes();
            auto& ts = j["tensors"] = nlohmann::json::array();
            for (const auto& t : ckpt.tensors())
                ts.push_back({{"name", t.name},
                              {"shape", shapeJson(t)},
                              {"dtype", t.typeName()},
                              {"numel", t.numel()},
                              {"bytes", t.nbytes},
                              {"bits_per_weight", t.bitsPerWeight()}});
            printJson(j);
            return;
        }
        std::cout << ckpt.path() << ": " << ckpt.format() << ", " << ckpt.tensors().size()
                  << " tensors, " << ckpt.totalParameters() << " parameters, "
                  << humanBytes(ckpt.totalBytes()) << "\n";
        for (const auto& [k, v] : ckpt.metadata())
            std::cout << "  " << k << " = " << v << "\n";
        std::cout << "\n";
        // dtype is the stored type (a GGUF "Q4_K" too); bpw is what the stored bytes really cost
        TextTable table({"name", "shape", "dtype", "numel", "bytes", "bpw"});
        for (const auto& t : ckpt.tensors())
            table.addRow({t.name, t.shapeString(), t.typeName(), std::to_string(t.numel()),
                          std::to_string(t.nbytes), fmt(t.bitsPerWeight(), 5)});
        table.print();
    };
}

} // namespace qs::cli
