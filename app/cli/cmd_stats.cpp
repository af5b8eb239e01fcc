#include "cli/cli_common.h"
#include "cli/commands.h"
#include "methods/matrix_imbalance.h"
#include "metrics/distribution_stats.h"

#include <iostream>

namespace qs::cli {

Action addStatsCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("stats", "Distribution statistics per tensor");
    auto path = std::make_shared<std::string>();
    auto regex = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("PATH", *path, "checkpoint file")->required();
    cmd->add_option("--tensor", *regex, "only tensors whose name matches this regex");
    cmd->add_flag("--json", *json, "print one JSON document");
    return [=] {
        const Checkpoint ckpt = openCheckpoint(*path);
        const auto selected = selectTensors(ckpt, *regex);
        nlohmann::json rows = nlohmann::json::array();
        TextTable table({"name", "shape", "dtype", "bpw", "mean", "std", "min", "max", "kurtosis",
                         "absmax", "outliers", "imbalance"});
        for (const TensorInfo* t : selected) {
            const auto values = readTensor(ckpt, *t);
            const auto s = computeDistributionStats(values);
            // SINQ's imbalance says how uneven row and column spreads are; it is a matrix notion.
            const bool matrix = t->shape.size() == 2 && t->rows() >= 2 && t->cols() >= 2;
            const double imbalance =
                matrix ? matrixImbalance({values.data(), t->rows(), t->cols()}) : 0.0;
            rows.push_back(
                {{"name", t->name},
                 {"shape", shapeJson(*t)},
                 {"dtype", t->typeName()},
                 {"numel", t->numel()},
                 {"bits_per_weight", t->bitsPerWeight()},
                 {"mean", number(s.mean)},
                 {"std", number(s.std)},
                 {"min", number(s.min)},
                 {"max", number(s.max)},
                 {"kurtosis", number(s.kurtosis)},
                 {"skew", number(s.skew)},
                 {"absmax", number(s.absmax)},
                 {"outlier_share", number(s.outlierShare)},
                 {"outlier_sigmas", kOutlierSigmas},
                 {"zero_share", number(s.count ? double(s.zeros) / double(s.count) : 0.0)},
                 {"non_finite", s.nonFinite},
                 {"sinq_imbalance", matrix ? number(imbalance) : nlohmann::json()}});
            table.addRow({t->name, t->shapeString(), t->typeName(), fmt(t->bitsPerWeight(), 5),
                          fmt(s.mean, 4), fmt(s.std, 4), fmt(s.min, 4), fmt(s.max, 4),
                          fmt(s.kurtosis, 4), fmt(s.absmax, 4),
                          fmt(100.0 * s.outlierShare, 3) + "%", matrix ? fmt(imbalance, 4) : "-"});
        }
        if (*json) {
            printJson({{"path", ckpt.path()}, {"tensors", rows}});
            return;
        }
        table.print();
        std::cout
            << "\nstd and kurtosis are population moments (kurtosis is excess); outliers = "
               "share of "
               "values beyond 3 std of the mean; imbalance = SINQ's matrix imbalance (largest over "
               "smallest row/column std, 2-D tensors).\n";
    };
}

} // namespace qs::cli
