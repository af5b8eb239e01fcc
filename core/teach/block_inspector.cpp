#include "teach/block_inspector.h"

#include "quant/float_formats.h"
#include "quant/ggml_quant.h"
#include "quant/ggml_search.h"
#include "quant/int_quant.h"
#include "quant/mx_quant.h"
#include "quant/nf_quant.h"
#include "quant/normal_float.h"
#include "tensor/dtype.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace qs {
namespace {

constexpr float kE2M1Max = 6.0f;
constexpr float kE4M3Max = 448.0f;
constexpr float kE4M3Tiny = 0.015625f;      // 2^-6, torchao's clamp of the block scale
constexpr float kNvTensorDivisor = 2688.0f; // 448 * 6

Scheme schemeOf(BlockFormat f) {
    auto s = Scheme::parse(blockFormatSpec(f));
    return s ? s.value() : Scheme{};
}

void appendLe(std::vector<std::uint8_t>& out, std::uint32_t v, int bytes) {
    for (int k = 0; k < bytes; ++k)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}

// Places every element's code in the nibble its format uses; `first` is where the codes start.
void placeCodes(BlockWalk& w, std::size_t first) {
    const std::size_t n = w.elements.size();
    for (std::size_t i = 0; i < n; ++i) {
        ElementWalk& e = w.elements[i];
        switch (w.order) {
        case NibbleOrder::LowFirst:
        case NibbleOrder::HighFirst:
            e.byte = first + i / 2;
            e.highNibble = (i % 2 == 1) == (w.order == NibbleOrder::LowFirst);
            break;
        case NibbleOrder::HalfSplit:
            e.byte = first + i % 16;
            e.highNibble = i % 32 >= 16;
            break;
        case NibbleOrder::KQuant:
            e.byte = first + 32 * (i / 64) + i % 32;
            e.highNibble = i % 64 >= 32;
            break;
        }
    }
}

void packCodes(BlockWalk& w, std::size_t first) {
    placeCodes(w, first);
    for (const ElementWalk& e : w.elements) {
        auto& b = w.bytes[e.byte];
        b = static_cast<std::uint8_t>(e.highNibble ? (b & 0x0F) | (e.code << 4)
                                                   : (b & 0xF0) | (e.code & 0x0F));
    }
}

void finish(BlockWalk& w) {
    for (ElementWalk& e : w.elements) {
        e.reconstruction = e.codeValue * e.scale + e.offset;
        e.error = e.raw - e.reconstruction;
    }
    w.bitsPerWeight = 8.0 * static_cast<double>(w.bytes.size()) /
                      static_cast<double>(std::max<std::size_t>(1, w.elements.size()));
}

Result<BlockWalk> walkInt4(BlockWalk w, std::span<const float> x) {
    const Scheme s = schemeOf(BlockFormat::Int4);
    auto q = quantizeIntCodes(s, MatrixView{x.data(), 1, static_cast<std::int64_t>(x.size())});
    if (!q)
        return q.error();
    const float scale = q->scales[0];
    const int zero = q->zeros[0];
    const std::uint16_t half = floatToHalf(scale);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const int code = q->codes[i];
        w.elements.push_back({x[i], code, static_cast<float>(code - zero), scale});
    }
    const std::size_t codeBytes = x.size() / 2;
    w.bytes.assign(codeBytes, 0);
    packCodes(w, 0);
    appendLe(w.bytes, half, 2);
    w.bytes.push_back(static_cast<std::uint8_t>(zero));
    w.fields = {{FieldKind::Codes, 0, codeBytes},
                {FieldKind::Scale, codeBytes, 2},
                {FieldKind::ZeroPoint, codeBytes + 2, 1}};
    w.scales = {
        {FieldKind::Scale, -1, scale, half, 16},
        {FieldKind::ZeroPoint, -1, static_cast<double>(zero), static_cast<std::uint32_t>(zero), 4}};
    finish(w);
    // The zero-point is 4 bits of storage, not the byte it is shown in here.
    w.bitsPerWeight = (4.0 * x.size() + 16 + 4) / static_cast<double>(x.size());
    return w;
}

Result<BlockWalk> walkGgml(BlockWalk w, std::span<const float> x, GgmlType type) {
    const MatrixView m{x.data(), 1, static_cast<std::int64_t>(x.size())};
    auto packed = ggmlQuantizeRows(type, m);
    if (!packed)
        return packed.error();
    w.bytes.resize(packed->size());
    std::transform(packed->begin(), packed->end(), w.bytes.begin(),
                   [](std::byte b) { return std::to_integer<std::uint8_t>(b); });
    const auto& b = w.bytes;
    auto half = [&](std::size_t at) { return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8); };
    w.elements.resize(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
        w.elements[i].raw = x[i];
    if (type == GgmlType::Q4_0) {
        const float d = halfToFloat(half(0));
        w.scales = {{FieldKind::Scale, -1, d, half(0), 16}};
        w.fields = {{FieldKind::Scale, 0, 2}, {FieldKind::Codes, 2, 16}};
        placeCodes(w, 2);
        for (ElementWalk& e : w.elements) {
            e.code = e.highNibble ? b[e.byte] >> 4 : b[e.byte] & 0x0F;
            e.codeValue = static_cast<float>(e.code - 8);
            e.scale = d;
        }
    } else {
        const float d = halfToFloat(half(0));
        const float dmin = halfToFloat(half(2));
        w.scales = {{FieldKind::SuperScale, -1, d, half(0), 16},
                    {FieldKind::SuperMin, -1, dmin, half(2), 16}};
        w.fields = {{FieldKind::SuperScale, 0, 2},
                    {FieldKind::SuperMin, 2, 2},
                    {FieldKind::SubScales, 4, 12},
                    {FieldKind::Codes, 16, 128}};
        std::uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; ++j) {
            ggml::getScaleMinK4(j, b.data() + 4, &sc[j], &mn[j]);
            w.scales.push_back({FieldKind::SubScale, j, d * sc[j], sc[j], 6});
            w.scales.push_back({FieldKind::SubMin, j, dmin * mn[j], mn[j], 6});
        }
        placeCodes(w, 16);
        for (std::size_t i = 0; i < x.size(); ++i) {
            ElementWalk& e = w.elements[i];
            const int j = static_cast<int>(i / 32);
            e.subBlock = j;
            e.code = e.highNibble ? b[e.byte] >> 4 : b[e.byte] & 0x0F;
            e.codeValue = static_cast<float>(e.code);
            e.scale = d * static_cast<float>(sc[j]);
            e.offset = -(dmin * static_cast<float>(mn[j]));
        }
    }
    finish(w);
    // ggml's own decoder is the reference for the reconstruction (same float operations).
    std::vector<float> decoded(x.size());
    if (auto st = ggmlDequantize(type, *packed, decoded); !st)
        return st.error();
    for (std::size_t i = 0; i < x.size(); ++i) {
        w.elements[i].reconstruction = decoded[i];
        w.elements[i].error = x[i] - decoded[i];
    }
    return w;
}

Result<BlockWalk> walkNf4(BlockWalk w, std::span<const float> x) {
    const Scheme s = schemeOf(BlockFormat::NF4);
    auto q = quantizeBnbCodes(s, MatrixView{x.data(), 1, static_cast<std::int64_t>(x.size())});
    if (!q)
        return q.error();
    const float absmax = q->absmax[0];
    for (std::size_t i = 0; i < x.size(); ++i)
        w.elements.push_back({x[i], q->codes[i], q->codebook[q->codes[i]], absmax});
    const std::vector<std::uint8_t> packed = packNibblesHighFirst(q->codes);
    w.bytes.assign(packed.begin(), packed.end());
    placeCodes(w, 0);
    const auto bits = std::bit_cast<std::uint32_t>(absmax);
    appendLe(w.bytes, bits, 4);
    w.fields = {{FieldKind::Codes, 0, packed.size()}, {FieldKind::Absmax, packed.size(), 4}};
    w.scales = {{FieldKind::Absmax, -1, absmax, bits, 32}};
    finish(w);
    const std::vector<float> decoded = dequantizeBnb(q.value());
    for (std::size_t i = 0; i < x.size(); ++i) {
        w.elements[i].reconstruction = decoded[i];
        w.elements[i].error = x[i] - decoded[i];
    }
    return w;
}

Result<BlockWalk> walkMicroscaling(BlockWalk w, std::span<const float> x, float tensorAbsmax) {
    const bool nv = w.format == BlockFormat::NVFP4;
    float amax = 0.0f;
    for (float v : x)
        amax = std::max(amax, std::fabs(v));
    float scale = 0.0f;
    if (nv) {
        const float tensorAmax = tensorAbsmax > 0.0f ? tensorAbsmax : amax;
        const float pts = tensorAmax / kNvTensorDivisor;
        const float ratio = pts > 0.0f ? (amax / 6.0f) / pts : 0.0f;
        const std::uint8_t s8 = encodeE4M3(std::clamp(ratio, kE4M3Tiny, kE4M3Max));
        const float s8Value = decodeElement(ElementFormat::E4M3, s8);
        scale = pts * s8Value;
        w.bytes.push_back(s8);
        w.fields = {{FieldKind::BlockScale, 0, 1}, {FieldKind::Codes, 1, x.size() / 2}};
        w.scales = {{FieldKind::BlockScale, -1, s8Value, s8, 8},
                    {FieldKind::TensorScale, -1, pts, std::bit_cast<std::uint32_t>(pts), 32}};
    } else {
        const std::uint8_t e = mxScaleExponent(schemeOf(BlockFormat::MXFP4), amax);
        scale = e == 0xFF ? NAN : std::ldexp(1.0f, static_cast<int>(e) - 127);
        w.bytes.push_back(e);
        w.fields = {{FieldKind::SharedExponent, 0, 1}, {FieldKind::Codes, 1, x.size() / 2}};
        w.scales = {{FieldKind::SharedExponent, -1, scale, e, 8}};
    }
    const float inv = nv || !(scale > 0.0f) ? 0.0f : std::ldexp(1.0f, -std::ilogb(scale));
    for (float v : x) {
        // As mx_quant: MX multiplies by the exact reciprocal power of two, nvfp4 divides.
        const float t = scale > 0.0f ? (nv ? v / scale : v * inv) : 0.0f;
        const std::uint8_t code = encodeFp4E2M1(std::clamp(t, -kE2M1Max, kE2M1Max));
        w.elements.push_back(
            {v, code, decodeElement(ElementFormat::E2M1, code), scale > 0.0f ? scale : 0.0f});
    }
    w.bytes.resize(1 + x.size() / 2, 0);
    packCodes(w, 1);
    finish(w);
    return w;
}

} // namespace

std::string_view blockFormatName(BlockFormat f) {
    switch (f) {
    case BlockFormat::Int4:
        return "int4";
    case BlockFormat::Q4_0:
        return "q4_0";
    case BlockFormat::Q4_K:
        return "q4_k";
    case BlockFormat::NF4:
        return "nf4";
    case BlockFormat::MXFP4:
        return "mxfp4";
    case BlockFormat::NVFP4:
        return "nvfp4";
    }
    return "int4";
}

int blockElements(BlockFormat f) {
    switch (f) {
    case BlockFormat::Q4_K:
        return 256;
    case BlockFormat::NF4:
        return 64;
    case BlockFormat::NVFP4:
        return 16;
    default:
        return 32;
    }
}

std::string blockFormatSpec(BlockFormat f) {
    switch (f) {
    case BlockFormat::Int4:
        return "int4:g32";
    case BlockFormat::NF4:
        return "nf4:g64";
    default:
        return std::string(blockFormatName(f));
    }
}

NibbleOrder nibbleOrder(BlockFormat f) {
    switch (f) {
    case BlockFormat::Q4_0:
        return NibbleOrder::HalfSplit;
    case BlockFormat::Q4_K:
        return NibbleOrder::KQuant;
    case BlockFormat::NF4:
        return NibbleOrder::HighFirst;
    default:
        return NibbleOrder::LowFirst;
    }
}

Result<BlockWalk> inspectBlock(BlockFormat f, std::span<const float> group, float tensorAbsmax) {
    const auto n = static_cast<std::size_t>(blockElements(f));
    if (group.size() != n)
        return makeError(std::string(blockFormatName(f)) + " inspects blocks of " +
                         std::to_string(n) + " values, got " + std::to_string(group.size()));
    if (!std::all_of(group.begin(), group.end(), [](float v) { return std::isfinite(v); }))
        return makeError("the block holds a NaN or infinite value");
    BlockWalk w;
    w.format = f;
    w.order = nibbleOrder(f);
    switch (f) {
    case BlockFormat::Int4:
        return walkInt4(std::move(w), group);
    case BlockFormat::Q4_0:
        return walkGgml(std::move(w), group, GgmlType::Q4_0);
    case BlockFormat::Q4_K:
        return walkGgml(std::move(w), group, GgmlType::Q4_K);
    case BlockFormat::NF4:
        return walkNf4(std::move(w), group);
    case BlockFormat::MXFP4:
    case BlockFormat::NVFP4:
        return walkMicroscaling(std::move(w), group, tensorAbsmax);
    }
    return makeError("unknown block format");
}

int codeAt(const BlockWalk& w, std::size_t element) {
    const ElementWalk& e = w.elements.at(element);
    const std::uint8_t b = w.bytes.at(e.byte);
    return e.highNibble ? b >> 4 : b & 0x0F;
}

} // namespace qs
