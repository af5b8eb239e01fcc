#pragma once
// What the Export dialog shows before anything is written: the target's labels and default
// file names, and for targets that write weights or reports, which files will be written and
// which tensors get which type. Pure functions of the selection; any thread.

#include "export/export_plan.h"

#include <QString>
#include <QStringList>

namespace qs {

struct ExportPreview {
    QString text;         // monospace preview: the file's content or the tensor layout
    QStringList warnings; // what the target approximates, drops or keeps
    QString summary;      // one line
};

// Every target, in menu order.
const std::vector<ExportTarget>& exportTargetsInMenuOrder();
QString exportTargetLabel(ExportTarget target); // "GGUF weights (llama.cpp)"
// A file name for `target` when exporting `checkpointPath` ("stories260K-q8_0.gguf").
QString defaultExportFileName(ExportTarget target, const QString& checkpointPath,
                              const QString& schemeTag, bool mixed);

// gguf, safetensors, report: the files OUT names and the tensor-by-tensor layout.
ExportPreview describeWeightExport(ExportTarget target, const ExportSelection& selection,
                                   const QString& outPath);
// Config targets: previewExport's text (side files appended) and warnings; an error otherwise.
ExportPreview describeConfigExport(ExportTarget target, const ExportSelection& selection,
                                   const ConfigOptions& options, QString* error);

} // namespace qs
