#pragma once
// The analysis of an export selection (every quantized tensor under its scheme: error metrics
// and storage, as `analyze` computes them) written as a report, the format chosen by OUT's
// extension:
//   .csv  one row per (tensor, scheme), a header line, numbers in full precision;
//   .json {"source", "generator", "created", "schemes", "plan", "results": [...],
//          "totals": [...]} (results as analyze --json);
//   .h5 / .hdf5  one 1-D dataset per metric (/mse, /rmse, /rel_rmse, /sqnr_db, /max_abs_err,
//          /cosine, /bits_per_weight, /bytes) plus /tensor, /scheme and /shape string datasets,
//          all the same length; root attributes source, generator, created, schemes, plan, and a
//          "description" attribute on every dataset.
// Tensors a scheme does not apply to (a ggml block that does not divide the rows, a calibrated
// family without activations) appear with empty metrics (NaN in HDF5) and the reason.

#include "export/export_plan.h"

namespace qs {

struct ReportExport {
    std::size_t rows = 0;
    std::vector<std::string> warnings;
};

Result<ReportExport> exportReport(const ExportSelection& selection, const std::string& outPath,
                                  const ProgressFn& progress = {});

} // namespace qs
