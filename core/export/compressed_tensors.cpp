#include "export/compressed_tensors.h"

#include "analysis/tensor_analysis.h"
#include "export/ct_args.h"
#include "export/safetensors_writer.h"
#include "quant/float_formats.h"
#include "quant/group_quant.h"
#include "quant/int_quant.h"
#include "tensor/dtype.h"
#include "util/atomic_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace qs {
namespace {

namespace fs = std::filesystem;
using Blobs = std::vector<std::vector<std::byte>>;

template <class T> std::vector<std::byte> asBytes(const std::vector<T>& v) {
    std::vector<std::byte> b(v.size() * sizeof(T));
    if (!v.empty())
        std::memcpy(b.data(), v.data(), b.size());
    return b;
}

// compressed-tensors' pack_to_int32 of unsigned values [rows, cols] along the columns.
std::vector<std::int32_t> packRows(const std::vector<std::uint32_t>& u, std::int64_t rows,
                                   std::int64_t cols, int bits) {
    const std::int64_t pf = 32 / bits, words = (cols + pf - 1) / pf;
    std::vector<std::int32_t> out(static_cast<std::size_t>(rows * words), 0);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            auto& w = out[static_cast<std::size_t>(r * words + c / pf)];
            w = static_cast<std::int32_t>(
                static_cast<std::uint32_t>(w) |
                (u[static_cast<std::size_t>(r * cols + c)] << (bits * (c % pf))));
        }
    return out;
}

// The same along the rows (packed_dim=0), for zero-points [rows, groups].
std::vector<std::int32_t> packColumns(const std::vector<std::uint32_t>& u, std::int64_t rows,
                                      std::int64_t cols, int bits) {
    std::vector<std::uint32_t> t(u.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c)
            t[static_cast<std::size_t>(c * rows + r)] = u[static_cast<std::size_t>(r * cols + c)];
    const auto packed = packRows(t, cols, rows, bits); // [cols, words]
    const std::int64_t words = (rows + 32 / bits - 1) / (32 / bits);
    std::vector<std::int32_t> out(packed.size());
    for (std::int64_t c = 0; c < cols; ++c)
        for (std::int64_t w = 0; w < words; ++w)
            out[static_cast<std::size_t>(w * cols + c)] =
                packed[static_cast<std::size_t>(c * words + w)];
    return out;
}

std::vector<std::int64_t> scaleShape(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    if (s.granularity == Granularity::Tensor)
        return {1};
    if (s.granularity == Granularity::Channel)
        return {rows, 1};
    return {rows, cols / s.groupSize};
}

Result<Blobs> packInt(const Scheme& s, const std::vector<float>& w, std::int64_t rows,
                      std::int64_t cols) {
    auto q = quantizeIntCodes(s, MatrixView{w.data(), rows, cols});
    if (!q)
        return q.error();
    const int b = s.bits, half = 1 << (b - 1);
    const int shift = s.symmetric ? half : 0; // stored unsigned = code (asym) or code + half
    std::vector<std::uint32_t> u(q->codes.size());
    for (std::size_t i = 0; i < u.size(); ++i)
        u[i] = static_cast<std::uint32_t>(q->codes[i] + shift);
    Blobs out{asBytes(packRows(u, rows, cols, b)), asBytes(q->scales)};
    if (!s.symmetric) {
        std::vector<std::uint32_t> z(q->zeros.begin(), q->zeros.end());
        if (s.granularity == Granularity::Tensor)
            out.push_back({static_cast<std::byte>(static_cast<std::int8_t>(q->zeros[0] - half))});
        else
            out.push_back(asBytes(
                packColumns(z, rows, static_cast<std::int64_t>(q->scales.size()) / rows, b)));
    }
    out.push_back(asBytes(std::vector<std::int64_t>{rows, cols}));
    return out;
}

Result<Blobs> packFp8(const Scheme& s, const std::vector<float>& w, std::int64_t rows,
                      std::int64_t cols) {
    // The same groups and scales as the quantizer; codes from its reconstruction.
    auto rec = quantize(s, MatrixView{w.data(), rows, cols});
    if (!rec)
        return rec.error();
    auto nearest = [](float x, float scale, float) {
        return scale > 0.0f ? roundTripElement(ElementFormat::E4M3, x / scale) * scale : 0.0f;
    };
    auto g = quantizeScaledGroups(s, MatrixView{w.data(), rows, cols}, 448.0f, nearest, {});
    if (!g)
        return g.error();
    std::vector<std::byte> codes(static_cast<std::size_t>(rows * cols));
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            const std::size_t i = static_cast<std::size_t>(r * cols + c);
            const std::size_t gi = g->layout.wholeTensor
                                       ? 0
                                       : static_cast<std::size_t>(r * g->layout.groupsPerRow +
                                                                  c / g->layout.groupCols);
            const float scale = g->scales[gi];
            codes[i] = static_cast<std::byte>(
                scale > 0.0f ? encodeE4M3(rec->reconstruction[i] / scale) : 0);
        }
    for (float& sc : g->scales)
        if (!(sc > 0.0f))
            sc = 1.0f;
    return Blobs{std::move(codes), asBytes(g->scales)};
}

Result<Blobs> packNvfp4(const std::vector<float>& w, std::int64_t rows, std::int64_t cols) {
    // As quantizeMx: tensor scale amax/2688, block scale e4m3((amax_b/6)/pts), codes
    // e2m1(x / (pts * s8)).
    float amax = 0.0f;
    for (float v : w)
        amax = std::max(amax, std::fabs(v));
    if (!std::isfinite(amax))
        return makeError("nvfp4: the tensor holds NaN/Inf");
    const float pts = amax / 2688.0f;
    std::vector<std::byte> packed(static_cast<std::size_t>(rows * cols / 2), std::byte{0});
    std::vector<std::byte> scales(static_cast<std::size_t>(rows * cols / 16));
    for (std::int64_t b = 0; b < rows * cols / 16; ++b) {
        const float* x = w.data() + b * 16;
        float bmax = 0.0f;
        for (int k = 0; k < 16; ++k)
            bmax = std::max(bmax, std::fabs(x[k]));
        std::uint8_t s8code = 0;
        float scale = 0.0f;
        if (amax > 0.0f) {
            const float clamped = std::clamp((bmax / 6.0f) / pts, 0.015625f, 448.0f);
            s8code = encodeE4M3(clamped);
            scale = pts * decodeElement(ElementFormat::E4M3, s8code);
        }
        scales[static_cast<std::size_t>(b)] = static_cast<std::byte>(s8code);
        for (int k = 0; k < 16; ++k) {
            const std::uint8_t code =
                scale > 0.0f ? encodeFp4E2M1(std::clamp(x[k] / scale, -6.0f, 6.0f)) : 0;
            const std::size_t at = static_cast<std::size_t>(b * 16 + k);
            packed[at / 2] |= static_cast<std::byte>(at % 2 ? code << 4 : code);
        }
    }
    const float global = amax > 0.0f ? 2688.0f / amax : 1.0f;
    return Blobs{std::move(packed), std::move(scales), asBytes(std::vector<float>{global})};
}

std::string denseDtype(const TensorInfo& t) {
    if (t.storedType.empty() && (t.dtype == DType::F16 || t.dtype == DType::BF16))
        return std::string(dtypeName(t.dtype));
    return "F32";
}

std::vector<std::byte> encodeDense(const std::string& dtype, const std::vector<float>& v) {
    if (dtype == "F32")
        return asBytes(v);
    std::vector<std::uint16_t> h(v.size());
    for (std::size_t i = 0; i < v.size(); ++i)
        h[i] = dtype == "F16" ? floatToHalf(v[i]) : floatToBf16(v[i]);
    return asBytes(h);
}

} // namespace

Result<CompressedTensorsReport> exportCompressedTensors(const ExportSelection& sel,
                                                        const std::string& outPath,
                                                        const ProgressFn& progress) {
    const Checkpoint& ckpt = *sel.checkpoint;
    if (ckpt.format() == "gguf")
        return makeError("safetensors export reads Hugging Face checkpoints; " + ckpt.path() +
                         " is a GGUF (its tensors have llama.cpp names and order): use --to gguf");
    CompressedTensorsReport report;
    auto cfg = ctQuantizationConfig(sel, report.warnings);
    if (!cfg)
        return cfg.error();
    SafetensorsWriter st;
    st.setMetadata("format", "pt");
    for (const ExportTensor& et : sel.tensors) {
        const TensorInfo* t = et.tensor;
        const bool q = ctQuantizes(et, sel.fromPlan);
        if (!q) {
            const std::string dt = denseDtype(*t);
            auto shape = t->shape;
            auto produce = [&ckpt, t, dt]() -> Result<Blobs> {
                auto v = ckpt.readFloat(*t);
                if (!v)
                    return v.error();
                return Blobs{encodeDense(dt, *v)};
            };
            if (auto s = st.add({{t->name, dt, shape}}, produce); !s)
                return s.error();
            continue;
        }
        const Scheme s = *et.scheme;
        const std::int64_t rows = t->shape[0], cols = t->shape[1];
        const std::string base = t->name.substr(0, t->name.size() - 7); // ".weight"
        const std::string where = t->name + " (" + s.toString() + ")";
        std::vector<SafetensorsEntry> entries;
        SafetensorsWriter::Producer produce;
        if (s.family == "int") {
            entries.push_back(
                {base + ".weight_packed", "I32", {rows, (cols + 32 / s.bits - 1) / (32 / s.bits)}});
            const auto sshape = scaleShape(s, rows, cols);
            entries.push_back({base + ".weight_scale", "F32", sshape});
            if (!s.symmetric) {
                if (s.granularity == Granularity::Tensor)
                    entries.push_back({base + ".weight_zero_point", "I8", {1}});
                else
                    entries.push_back({base + ".weight_zero_point",
                                       "I32",
                                       {(rows + 32 / s.bits - 1) / (32 / s.bits), sshape[1]}});
            }
            entries.push_back({base + ".weight_shape", "I64", {2}});
            produce = [&ckpt, t, s, rows, cols]() -> Result<Blobs> {
                auto v = ckpt.readFloat(*t);
                if (!v)
                    return v.error();
                return packInt(s, *v, rows, cols);
            };
        } else if (s.family == "fp8_e4m3") {
            entries.push_back({base + ".weight", "F8_E4M3", {rows, cols}});
            entries.push_back({base + ".weight_scale", "F32", scaleShape(s, rows, cols)});
            produce = [&ckpt, t, s, rows, cols]() -> Result<Blobs> {
                auto v = ckpt.readFloat(*t);
                if (!v)
                    return v.error();
                return packFp8(s, *v, rows, cols);
            };
        } else if (s.family == "nvfp4") {
            entries.push_back({base + ".weight_packed", "U8", {rows, cols / 2}});
            entries.push_back({base + ".weight_scale", "F8_E4M3", {rows, cols / 16}});
            entries.push_back({base + ".weight_global_scale", "F32", {1}});
            produce = [&ckpt, t, rows, cols]() -> Result<Blobs> {
                auto v = ckpt.readFloat(*t);
                if (!v)
                    return v.error();
                return packNvfp4(*v, rows, cols);
            };
        } else {
            const bool calibrated = s.family == "gptq" || s.family == "awq" ||
                                    s.family == "autoround" || s.family == "smoothquant";
            return makeError(
                "safetensors: " + where + ": " +
                (calibrated ? "a calibrated method needs activations; quantize the model with "
                              "llm-compressor (--to llmcompressor writes the recipe) or export "
                              "the round-to-nearest int scheme"
                            : "Quantscope writes compressed-tensors weights for int, fp8_e4m3 "
                              "and nvfp4 schemes only"));
        }
        if (auto a = st.add(std::move(entries), std::move(produce)); !a)
            return a.error();
        ++report.quantizedTensors;
    }
    report.quantizationConfig = cfg->dump(2);

    const bool single = outPath.ends_with(".safetensors");
    const fs::path dir = single ? fs::path(outPath).parent_path() : fs::path(outPath);
    const std::string file = single ? outPath : (dir / "model.safetensors").string();
    if (single)
        st.setMetadata("quantization_config", cfg->dump());
    std::error_code ec;
    if (!single && !fs::is_directory(dir, ec) && !fs::create_directories(dir, ec))
        return makeError("cannot create the directory " + dir.string() + ": " + ec.message());
    if (auto s =
            writeFileAtomically(file, [&](std::ostream& out) { return st.write(out, progress); });
        !s)
        return s.error();
    report.files.push_back(file);
    if (!single) {
        nlohmann::ordered_json config = nlohmann::ordered_json::object();
        std::string text;
        if (auto it = ckpt.sidecars().find("config.json"); it != ckpt.sidecars().end())
            text = it->second;
        else if (std::ifstream in(fs::path(ckpt.path()).parent_path() / "config.json"); in) {
            std::stringstream ss;
            ss << in.rdbuf();
            text = ss.str();
        }
        if (!text.empty()) {
            try {
                config = nlohmann::ordered_json::parse(text);
            } catch (const std::exception&) {
                report.warnings.push_back("dropped: the source config.json is not valid JSON; "
                                          "config.json holds only the quantization_config");
            }
        }
        config["quantization_config"] = *cfg;
        const std::string cfgPath = (dir / "config.json").string();
        if (auto s = writeTextAtomically(cfgPath, config.dump(2) + "\n"); !s)
            return s.error();
        report.files.push_back(cfgPath);
    }
    return report;
}

} // namespace qs
