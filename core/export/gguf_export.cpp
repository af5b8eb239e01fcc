#include "export/gguf_export.h"

#include "export/gguf_writer.h"
#include "export/llama_names.h"
#include "io/gguf_reader.h"
#include "io/mapped_file.h"
#include "plan/scheme_cost.h"
#include "quant/ggml_quant.h"
#include "tensor/dtype.h"
#include "util/atomic_file.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace qs {
namespace {

namespace fs = std::filesystem;

std::vector<std::byte> floatBytesAs(GgmlType t, const std::vector<float>& v) {
    std::vector<std::byte> out(v.size() * (t == GgmlType::F32 ? 4 : 2));
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (t == GgmlType::F32) {
            std::memcpy(out.data() + 4 * i, &v[i], 4);
            continue;
        }
        const std::uint16_t h = t == GgmlType::F16 ? floatToHalf(v[i]) : floatToBf16(v[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
    }
    return out;
}

std::optional<GgmlType> castType(const Scheme& s) {
    if (s.family == "f32")
        return GgmlType::F32;
    if (s.family == "f16")
        return GgmlType::F16;
    if (s.family == "bf16")
        return GgmlType::BF16;
    return std::nullopt;
}

std::string listSome(const std::vector<std::string>& names) {
    std::string s;
    for (std::size_t i = 0; i < names.size() && i < 4; ++i)
        s += (i ? ", " : "") + names[i];
    if (names.size() > 4)
        s += ", ... (" + std::to_string(names.size()) + " in all)";
    return s;
}

// One tensor of the output: where its values come from and what it becomes.
struct Planned {
    const TensorInfo* source = nullptr;
    std::string name;
    std::vector<std::int64_t> shape;
    GgmlType type = GgmlType::F32;
    bool verbatim = false; // GGUF source bytes copied as stored
    int unpermuteHeads = 0;
    const std::vector<float>* importance = nullptr; // the imatrix option's entry, if any
};

Result<std::string> findConfig(const Checkpoint& ckpt, const GgufExportOptions& o) {
    if (!o.configJson.empty())
        return o.configJson;
    if (auto it = ckpt.sidecars().find("config.json"); it != ckpt.sidecars().end())
        return it->second;
    fs::path p(ckpt.path());
    const fs::path cfg = (fs::is_directory(p) ? p : p.parent_path()) / "config.json";
    std::ifstream in(cfg);
    if (!in)
        return makeError("GGUF export of " + ckpt.path() +
                         " needs its config.json (none beside it; pass --config)");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

std::uint32_t llamaFileType(GgmlType t) {
    switch (t) {
    case GgmlType::F32:
        return 0;
    case GgmlType::F16:
        return 1;
    case GgmlType::Q4_0:
        return 2;
    case GgmlType::Q4_1:
        return 3;
    case GgmlType::Q8_0:
        return 7;
    case GgmlType::Q5_0:
        return 8;
    case GgmlType::Q5_1:
        return 9;
    case GgmlType::Q2_K:
        return 10;
    case GgmlType::Q3_K:
        return 12;
    case GgmlType::Q4_K:
        return 15;
    case GgmlType::Q5_K:
        return 17;
    case GgmlType::Q6_K:
        return 18;
    case GgmlType::IQ4_NL:
        return 25;
    case GgmlType::IQ4_XS:
        return 30;
    case GgmlType::BF16:
        return 32;
    default:
        return 0;
    }
}

Result<GgufExportReport> exportGguf(const ExportSelection& sel, const std::string& outPath,
                                    const GgufExportOptions& o) {
    const Checkpoint& ckpt = *sel.checkpoint;
    const bool fromGguf = ckpt.format() == "gguf";
    GgufExportReport report;
    GgufWriter w;
    if (auto st = w.setAlignment(o.alignment); !st)
        return st.error();

    std::shared_ptr<const MappedFile> sourceFile;
    std::optional<MappedConfig> config;
    std::map<std::string, std::uint32_t> storedIds; // GGUF source: tensor -> ggml type id
    if (fromGguf) {
        auto f = MappedFile::open(ckpt.path());
        if (!f)
            return f.error();
        sourceFile = *f;
        auto g = parseGguf(sourceFile->bytes());
        if (!g)
            return makeError(ckpt.path() + ": " + g.message());
        for (const GgufKv& kv : g->metadata) {
            if (kv.key == "general.alignment" || kv.key == "general.file_type" ||
                kv.key == "general.quantization_version")
                continue;
            if (auto st = w.copyPair(kv, sourceFile->bytes()); !st)
                return st.error();
        }
        for (const auto& e : g->tensors)
            storedIds[e.name] = e.typeId;
    } else {
        auto text = findConfig(ckpt, o);
        if (!text)
            return text.error();
        const std::string name =
            o.modelName.empty() ? fs::path(ckpt.path()).stem().string() : o.modelName;
        auto m = mapHfConfig(*text, name);
        if (!m)
            return m.error();
        config = *m;
        for (const auto& v : config->metadata) {
            switch (v.kind) {
            case GgufMetaValue::Kind::String:
                w.setString(v.key, v.s);
                break;
            case GgufMetaValue::Kind::U32:
                w.setU32(v.key, v.u);
                break;
            case GgufMetaValue::Kind::F32:
                w.setF32(v.key, v.f);
                break;
            case GgufMetaValue::Kind::Bool:
                w.setBool(v.key, v.b);
                break;
            }
        }
        w.setString("tokenizer.ggml.model", "none");
        report.warnings.push_back("dropped: the tokenizer (Hugging Face tokenizers are not "
                                  "converted; the GGUF has tokenizer.ggml.model = none, so "
                                  "llama.cpp loads it without a vocabulary)");
    }

    std::vector<Planned> planned;
    std::vector<std::string> notDivisible, fellBack, unmapped, requantized, noImportance;
    std::map<GgmlType, std::uint64_t> elementsByType;
    for (const ExportTensor& et : sel.tensors) {
        const TensorInfo& t = *et.tensor;
        Planned p{&t, t.name, t.shape};
        if (!fromGguf) {
            auto g = hfToGgufName(t.name);
            if (!g) {
                unmapped.push_back(t.name);
                continue;
            }
            p.name = *g;
            if (config->arch.permuteQk && t.shape.size() == 2) {
                if (p.name.ends_with("attn_q.weight"))
                    p.unpermuteHeads = config->arch.heads;
                else if (p.name.ends_with("attn_k.weight"))
                    p.unpermuteHeads = config->arch.kvHeads;
            }
        }
        if (p.shape.empty())
            p.shape = {1};
        if (!et.scheme) {
            p.type = GgmlType::F32;
            if (fromGguf) {
                p.verbatim = true;
                const auto id = storedIds.find(t.name);
                const GgmlTypeTraits* tr =
                    id == storedIds.end() ? nullptr : ggmlTypeTraits(GgmlType(id->second));
                if (!tr)
                    return makeError("gguf: " + t.name + " is stored as " + t.typeName() +
                                     ", which this build cannot copy");
                p.type = tr->type;
            }
        } else if (auto c = castType(*et.scheme)) {
            p.type = *c;
        } else if (auto g = ggmlTypeForFamily(et.scheme->family)) {
            p.type = *g;
            if (!ggmlTensorBytes(p.type, p.shape)) {
                // llama_tensor_get_type: a k-quant's fallback type, F16 where that block does not
                // divide the rows either; the 32-block types have none (llama-quantize stops).
                std::optional<GgmlType> fallback;
                if (const auto next = llamaCppFallback(*et.scheme)) {
                    fallback = ggmlTypeForFamily(next->family);
                    if (fallback && !ggmlTensorBytes(*fallback, p.shape))
                        fallback = GgmlType::F16;
                }
                if (fallback) {
                    p.type = *fallback;
                    fellBack.push_back(p.name + " " + t.shapeString() + " as " +
                                       ggmlTypeTraits(p.type)->name);
                } else {
                    notDivisible.push_back(p.name + " " + t.shapeString());
                    p.type = GgmlType::F32;
                }
            } else if (!t.storedType.empty()) {
                requantized.push_back(p.name + " (" + t.storedType + ")");
            }
        } else {
            return makeError("gguf: " + t.name + " is planned as " + et.scheme->toString() +
                             ", which is not a ggml type; GGUF stores ggml's block formats "
                             "(q4_0, q4_k, q8_0, ...): choose one of them");
        }
        if (et.scheme && needsActivations(*et.scheme) && ggmlTypeTraits(p.type)->quantized) {
            // The imatrix option: llama-quantize --imatrix, the fallback type included.
            if (!o.imatrix)
                return makeError("gguf: " + t.name + " is planned as " + et.scheme->toString() +
                                 ": it needs an importance matrix (llama-imatrix's output: "
                                 "--imatrix FILE, or the Model tab's Activations) to quantize "
                                 "with as llama-quantize --imatrix does; or plan " +
                                 et.scheme->family + " without it");
            p.importance = o.imatrix->find(p.name);
            if (!p.importance)
                noImportance.push_back(p.name);
            else if (static_cast<std::int64_t>(p.importance->size()) != p.shape.back())
                return makeError("gguf: " + o.imatrix->path + " has " +
                                 std::to_string(p.importance->size()) + " values for " + p.name +
                                 ", whose rows have " + std::to_string(p.shape.back()) +
                                 " (llama-quantize stops too)");
        }
        if (p.verbatim && t.nbytes != ggmlTensorBytes(p.type, p.shape).value_or(0))
            return makeError("gguf: cannot copy " + t.name + " (stored as " + t.typeName() +
                             ") verbatim");
        if (ggmlTypeTraits(p.type)->quantized && !p.verbatim)
            ++report.quantizedTensors;
        elementsByType[p.type] += static_cast<std::uint64_t>(t.numel());
        planned.push_back(std::move(p));
    }
    if (!fellBack.empty())
        report.warnings.push_back("fell back: " + std::to_string(fellBack.size()) +
                                  " tensors whose rows the block does not divide take llama.cpp's "
                                  "fallback type, as llama-quantize does: " +
                                  listSome(fellBack));
    if (!notDivisible.empty())
        report.warnings.push_back(
            "kept F32: " + std::to_string(notDivisible.size()) +
            " tensors whose rows the block does not divide stay unquantized; llama-quantize has "
            "no fallback for such a type and would stop (Unsupported tensor size): " +
            listSome(notDivisible));
    if (!noImportance.empty())
        report.warnings.push_back(
            "without an importance matrix (no entry in " + o.imatrix->path +
            "; quantized without one, as llama-quantize does): " + listSome(noImportance));
    if (!unmapped.empty())
        report.warnings.push_back("dropped: " + std::to_string(unmapped.size()) +
                                  " tensors llama.cpp has no name for: " + listSome(unmapped));
    if (!requantized.empty())
        report.warnings.push_back(
            "approximated: " + std::to_string(requantized.size()) +
            " tensors are requantized from an already quantized type: " + listSome(requantized));

    GgmlType mainType = GgmlType::F32;
    std::uint64_t best = 0;
    bool anyQuantized = false;
    for (const auto& [type, n] : elementsByType) {
        const bool q = ggmlTypeTraits(type)->quantized;
        anyQuantized |= q;
        if (q && n > best) {
            best = n;
            mainType = type;
        }
    }
    if (!anyQuantized && elementsByType.count(GgmlType::F16))
        mainType = GgmlType::F16;
    report.fileType = llamaFileType(mainType);
    w.setU32("general.file_type", report.fileType);
    if (anyQuantized)
        w.setU32("general.quantization_version", 2);

    for (const Planned& p : planned) {
        auto produce = [&ckpt, &sourceFile, p]() -> Result<std::vector<std::byte>> {
            const TensorInfo& t = *p.source;
            if (p.verbatim) {
                const auto b = sourceFile->bytes().subspan(t.offset, t.nbytes);
                return std::vector<std::byte>(b.begin(), b.end());
            }
            auto v = ckpt.readFloat(t);
            if (!v)
                return v.error();
            const std::int64_t cols = p.shape.back();
            const std::int64_t rows = cols ? t.numel() / cols : 0;
            if (p.unpermuteHeads > 0)
                *v = unpermuteQk(*v, rows, cols, p.unpermuteHeads);
            if (!ggmlTypeTraits(p.type)->quantized)
                return floatBytesAs(p.type, *v);
            return ggmlQuantizeRows(p.type, MatrixView{v->data(), rows, cols},
                                    p.importance ? std::span<const float>(*p.importance)
                                                 : std::span<const float>());
        };
        if (auto st = w.addTensor(p.name, p.shape, p.type, produce); !st)
            return st.error();
        report.tensorTypes.emplace_back(p.name, ggmlTypeTraits(p.type)->name);
    }
    auto st =
        writeFileAtomically(outPath, [&](std::ostream& out) { return w.write(out, o.progress); });
    if (!st)
        return st.error();
    std::error_code ec;
    report.fileBytes = fs::file_size(outPath, ec);
    return report;
}

} // namespace qs
