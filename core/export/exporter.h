#pragma once
// One entry point for every export target (the CLI's `export` and the GUI's Export dialog call
// it): checks that the output would not replace an input, runs the target's exporter, writes
// its files atomically (temporary file + rename) and reports what was written and what the
// target had to approximate or drop. Config targets can also be rendered without writing
// (previewExport) for a dialog's preview. Runs on the calling thread; cancellable through
// `progress` where the target writes weights.

#include "export/export_plan.h"

#include <string>
#include <vector>

namespace qs {

struct ImatrixFile;

struct ExportOptions {
    ConfigOptions config;   // names used by command-line and config targets
    std::string configJson; // gguf from safetensors: config.json text (else beside)
    std::uint32_t ggufAlignment = 32;
    std::string modelName;                // gguf general.name for non-GGUF sources
    const ImatrixFile* imatrix = nullptr; // gguf: for the imatrix option (not owned)
    ProgressFn progress;
};

struct ExportOutcome {
    std::string summary;
    std::vector<std::string> warnings;
    std::vector<std::string> files; // every file written
    std::string details;            // JSON object text with target-specific details
};

// `inputs`: every file the export reads (the checkpoint, the plan), never overwritten.
Result<ExportOutcome> runExport(ExportTarget target, const ExportSelection& selection,
                                const std::string& outPath, const std::vector<std::string>& inputs,
                                const ExportOptions& options = {});

// The text a config target would write (and its warnings), without writing anything; an
// error for targets that write weights or reports.
Result<ConfigExport> previewExport(ExportTarget target, const ExportSelection& selection,
                                   const ConfigOptions& options);

bool exportWritesWeights(ExportTarget target); // gguf, safetensors, report

} // namespace qs
