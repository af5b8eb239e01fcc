#include "dialogs/export_preview.h"

#include "export/exporter.h"
#include "number_format.h"
#include "plan/scheme_cost.h"
#include "quant/registry.h"

#include <QDir>
#include <QFileInfo>
#include <QObject>

namespace qs {
namespace {

constexpr int kMaxListedTensors = 60; // per group; a 7B model has hundreds

QString shapeText(const TensorInfo& t) {
    QStringList dims;
    for (auto d : t.shape)
        dims << QString::number(d);
    return QLatin1Char('[') + dims.join(QStringLiteral(", ")) + QLatin1Char(']');
}

void listTensors(QStringList& lines, const std::vector<const TensorInfo*>& tensors) {
    int shown = 0;
    for (const TensorInfo* t : tensors) {
        if (++shown > kMaxListedTensors) {
            lines << QObject::tr("    … and %1 more").arg(tensors.size() - kMaxListedTensors);
            break;
        }
        lines << QObject::tr("    %1  %2  (stored %3)")
                     .arg(QString::fromStdString(t->name), shapeText(*t),
                          QString::fromStdString(t->typeName()));
    }
}

QString stem(const QString& checkpointPath) {
    const QFileInfo info(checkpointPath);
    QString s = info.isDir() ? info.fileName() : info.completeBaseName();
    if (s.endsWith(QStringLiteral(".safetensors.index")))
        s.chop(18);
    return s.isEmpty() ? QStringLiteral("model") : s;
}

} // namespace

const std::vector<ExportTarget>& exportTargetsInMenuOrder() {
    static const std::vector<ExportTarget> kTargets = {
        ExportTarget::Gguf,          ExportTarget::Safetensors, ExportTarget::HfConfig,
        ExportTarget::LlmCompressor, ExportTarget::LlamaCpp,    ExportTarget::AutoRound,
        ExportTarget::Torchao,       ExportTarget::Mlx,         ExportTarget::OpenVino,
        ExportTarget::OrtGenAi,      ExportTarget::Report};
    return kTargets;
}

QString exportTargetLabel(ExportTarget t) {
    switch (t) {
    case ExportTarget::Gguf:
        return QObject::tr("GGUF weights (llama.cpp)");
    case ExportTarget::Safetensors:
        return QObject::tr("compressed-tensors safetensors (vLLM, transformers)");
    case ExportTarget::HfConfig:
        return QObject::tr("Hugging Face quantization_config");
    case ExportTarget::LlmCompressor:
        return QObject::tr("llm-compressor recipe (YAML)");
    case ExportTarget::LlamaCpp:
        return QObject::tr("llama-quantize command");
    case ExportTarget::AutoRound:
        return QObject::tr("AutoRound command / layer_config");
    case ExportTarget::Torchao:
        return QObject::tr("torchao config snippet (Python)");
    case ExportTarget::Mlx:
        return QObject::tr("MLX mlx_lm.convert command");
    case ExportTarget::OpenVino:
        return QObject::tr("OpenVINO optimum-cli command");
    case ExportTarget::OrtGenAi:
        return QObject::tr("ONNX Runtime GenAI builder command");
    case ExportTarget::Report:
        return QObject::tr("Analysis report (CSV, JSON or HDF5)");
    }
    return QString::fromLatin1(exportTargetName(t));
}

QString defaultExportFileName(ExportTarget t, const QString& checkpointPath,
                              const QString& schemeTag, bool mixed) {
    QString tag = schemeTag;
    tag.replace(QLatin1Char(':'), QLatin1Char('-'));
    const QString base = stem(checkpointPath) + QLatin1Char('-') + tag;
    const QString script = mixed ? QStringLiteral(".py") : QStringLiteral(".sh");
    switch (t) {
    case ExportTarget::Gguf:
        return base + QStringLiteral(".gguf");
    case ExportTarget::Safetensors:
        return base + QStringLiteral("-ct");
    case ExportTarget::HfConfig:
        return QStringLiteral("quantization_config.json");
    case ExportTarget::LlmCompressor:
        return QStringLiteral("recipe.yaml");
    case ExportTarget::LlamaCpp:
        return QStringLiteral("llama-quantize.sh");
    case ExportTarget::AutoRound:
        return QStringLiteral("autoround") + script;
    case ExportTarget::Torchao:
        return QStringLiteral("torchao_config.py");
    case ExportTarget::Mlx:
        return QStringLiteral("mlx_convert") + script;
    case ExportTarget::OpenVino:
        return QStringLiteral("openvino_export.sh");
    case ExportTarget::OrtGenAi:
        return QStringLiteral("ort_genai_build.sh");
    case ExportTarget::Report:
        return base + QStringLiteral("-report.csv");
    }
    return base;
}

ExportPreview describeWeightExport(ExportTarget t, const ExportSelection& sel,
                                   const QString& outPath) {
    ExportPreview p;
    QStringList lines;
    lines << QObject::tr("Writes:");
    if (t == ExportTarget::Safetensors && !outPath.endsWith(QStringLiteral(".safetensors"))) {
        lines << QStringLiteral("  ") + QDir(outPath).filePath(QStringLiteral("model.safetensors"));
        lines << QStringLiteral("  ") + QDir(outPath).filePath(QStringLiteral("config.json")) +
                     QObject::tr("  (with quantization_config)");
    } else {
        lines << QStringLiteral("  ") + outPath;
    }
    lines << QString();
    const auto groups = sel.groups();
    if (t == ExportTarget::Report) {
        std::size_t n = 0;
        for (const auto& g : groups)
            n += g.tensors.size();
        lines << QObject::tr("One row of metrics per quantized tensor (%1 tensors), by scheme:")
                     .arg(n);
    } else {
        lines << QObject::tr("Quantized:");
    }
    // GGUF: where a ggml block does not divide a tensor's rows, a k-quant takes llama.cpp's
    // fallback type (gguf_export.h); the other types have none and the tensor stays F32.
    std::vector<const TensorInfo*> blockMisfits, fellBack;
    for (const auto& g : groups) {
        std::vector<const TensorInfo*> fits = g.tensors;
        const FamilyInfo* family = findFamily(g.scheme.family);
        if (t == ExportTarget::Gguf && family && family->blockSize > 0) {
            fits.clear();
            const bool hasFallback = llamaCppFallback(g.scheme).has_value();
            for (const TensorInfo* x : g.tensors)
                (x->cols() % family->blockSize == 0 ? fits
                 : hasFallback                      ? fellBack
                                                    : blockMisfits)
                    .push_back(x);
        }
        std::uint64_t elements = 0;
        for (const TensorInfo* x : fits)
            elements += static_cast<std::uint64_t>(x->numel());
        lines << QObject::tr("  %1 — %2 tensors, %3 weights")
                     .arg(QString::fromStdString(g.scheme.toString()))
                     .arg(fits.size())
                     .arg(formatCountShort(static_cast<std::int64_t>(elements)));
        listTensors(lines, fits);
    }
    if (!fellBack.empty()) {
        lines << QString()
              << QObject::tr("llama.cpp's fallback type (the block does not divide their rows; "
                             "q4_k takes q5_0, or F16 where that does not divide them either):");
        listTensors(lines, fellBack);
    }
    if (!blockMisfits.empty()) {
        lines << QString()
              << QObject::tr("Stay F32 (the block does not divide their rows; llama-quantize has "
                             "no fallback for the type and would stop):");
        listTensors(lines, blockMisfits);
    }
    if (groups.empty())
        lines << QObject::tr("  nothing: the scheme quantizes no tensor of this checkpoint");
    std::vector<const TensorInfo*> kept;
    for (const auto& e : sel.tensors)
        if (!e.quantized())
            kept.push_back(e.tensor);
    if (t != ExportTarget::Report && !kept.empty()) {
        lines << QString() << QObject::tr("Not quantized (kept as stored or cast):");
        listTensors(lines, kept);
    }
    p.text = lines.join(QLatin1Char('\n'));
    if (!blockMisfits.empty())
        p.warnings << QObject::tr("kept F32: %1 tensors whose rows the block does not divide "
                                  "(llama-quantize would stop on them)")
                          .arg(blockMisfits.size());
    if (!fellBack.empty())
        p.warnings << QObject::tr("fell back: %1 tensors take llama.cpp's fallback type")
                          .arg(fellBack.size());
    if (!sel.keptMatrices().empty())
        p.warnings
            << QObject::tr("kept: %1 matrices stay unquantized").arg(sel.keptMatrices().size());
    p.summary = QObject::tr("%1 quantized tensors, %2 kept")
                    .arg(sel.tensors.size() - kept.size() - blockMisfits.size())
                    .arg(kept.size() + blockMisfits.size());
    return p;
}

ExportPreview describeConfigExport(ExportTarget t, const ExportSelection& sel,
                                   const ConfigOptions& options, QString* error) {
    ExportPreview p;
    auto r = previewExport(t, sel, options);
    if (!r) {
        if (error)
            *error = QString::fromStdString(r.message());
        return p;
    }
    p.text = QString::fromStdString(r->content);
    for (const auto& side : r->sideFiles)
        p.text +=
            QObject::tr("\n\n──── side file %1 ────\n").arg(QString::fromStdString(side.path)) +
            QString::fromStdString(side.content);
    for (const auto& w : r->warnings)
        p.warnings << QString::fromStdString(w);
    p.summary = QString::fromStdString(r->summary);
    return p;
}

} // namespace qs
