#include "quant/ggml_quant.h"

#include "quant/ggml_rows.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <atomic>
#include <mutex>
#include <string>

namespace qs {
namespace {

using QuantRowFn = void (*)(const float*, void*, std::int64_t, const float*);
using DequantFn = void (*)(const void*, float*, std::int64_t);

struct GgmlCodec {
    GgmlType type;
    std::string_view family; // scheme family name; empty: decode only
    QuantRowFn quantize;     // the quantize_<type> path (weights optional)
    DequantFn dequantize;
};

constexpr GgmlCodec kCodecs[] = {
    {GgmlType::Q4_0, "q4_0", ggml::quantizeQ4_0, ggml::dequantizeQ4_0},
    {GgmlType::Q4_1, "q4_1", ggml::quantizeQ4_1, ggml::dequantizeQ4_1},
    {GgmlType::Q5_0, "q5_0", ggml::quantizeQ5_0, ggml::dequantizeQ5_0},
    {GgmlType::Q5_1, "q5_1", ggml::quantizeQ5_1, ggml::dequantizeQ5_1},
    {GgmlType::Q8_0, "q8_0", ggml::quantizeQ8_0, ggml::dequantizeQ8_0},
    {GgmlType::Q8_1, "", nullptr, ggml::dequantizeQ8_1},
    {GgmlType::Q2_K, "q2_k", ggml::quantizeQ2_K, ggml::dequantizeQ2_K},
    {GgmlType::Q3_K, "q3_k", ggml::quantizeQ3_K, ggml::dequantizeQ3_K},
    {GgmlType::Q4_K, "q4_k", ggml::quantizeQ4_K, ggml::dequantizeQ4_K},
    {GgmlType::Q5_K, "q5_k", ggml::quantizeQ5_K, ggml::dequantizeQ5_K},
    {GgmlType::Q6_K, "q6_k", ggml::quantizeQ6_K, ggml::dequantizeQ6_K},
    {GgmlType::Q8_K, "", nullptr, ggml::dequantizeQ8_K},
    {GgmlType::IQ4_NL, "iq4_nl", ggml::quantizeIq4Nl, ggml::dequantizeIq4Nl},
    {GgmlType::IQ4_XS, "iq4_xs", ggml::quantizeIq4Xs, ggml::dequantizeIq4Xs},
    {GgmlType::IQ2_XXS, "", nullptr, ggml::dequantizeIq2Xxs},
    {GgmlType::IQ2_XS, "", nullptr, ggml::dequantizeIq2Xs},
    {GgmlType::IQ2_S, "", nullptr, ggml::dequantizeIq2S},
    {GgmlType::IQ3_XXS, "", nullptr, ggml::dequantizeIq3Xxs},
    {GgmlType::IQ3_S, "", nullptr, ggml::dequantizeIq3S},
    {GgmlType::IQ1_S, "", nullptr, ggml::dequantizeIq1S},
    {GgmlType::IQ1_M, "", nullptr, ggml::dequantizeIq1M},
    {GgmlType::TQ1_0, "", nullptr, ggml::dequantizeTq1_0},
    {GgmlType::TQ2_0, "", nullptr, ggml::dequantizeTq2_0},
    {GgmlType::MXFP4, "", nullptr, ggml::dequantizeMxfp4},
    {GgmlType::NVFP4, "", nullptr, ggml::dequantizeNvfp4},
    {GgmlType::Q1_0, "", nullptr, ggml::dequantizeQ1_0},
    {GgmlType::Q2_0, "", nullptr, ggml::dequantizeQ2_0},
};

const GgmlCodec* codecFor(GgmlType t) {
    for (const auto& c : kCodecs)
        if (c.type == t)
            return &c;
    return nullptr;
}

std::string typeName(GgmlType t) {
    const auto* tr = ggmlTypeTraits(t);
    return tr ? tr->name : "ggml type " + std::to_string(static_cast<std::uint32_t>(t));
}

void referenceRow(GgmlType t, const float* x, void* dst, std::int64_t n) {
    if (t == GgmlType::IQ4_NL)
        ggml::quantizeIq4NlRef(x, dst, n);
    else
        codecFor(t)->quantize(x, dst, n, nullptr);
}

} // namespace

std::optional<GgmlType> ggmlTypeForFamily(std::string_view family) {
    for (const auto& c : kCodecs)
        if (!c.family.empty() && c.family == family)
            return c.type;
    return std::nullopt;
}

bool ggmlCanQuantize(GgmlType t) {
    const auto* c = codecFor(t);
    return c && c->quantize;
}

bool ggmlCanDequantize(GgmlType t) {
    return codecFor(t) != nullptr;
}

std::optional<std::size_t> ggmlRowBytes(GgmlType t, std::int64_t cols) {
    const auto* tr = ggmlTypeTraits(t);
    if (!tr || cols < 0 || cols % tr->blockSize != 0)
        return std::nullopt;
    return static_cast<std::size_t>(cols / tr->blockSize) *
           static_cast<std::size_t>(tr->bytesPerBlock);
}

Result<std::vector<std::byte>> ggmlQuantizeRows(GgmlType t, MatrixView m,
                                                std::span<const float> columnWeights,
                                                GgmlQuantPath path, const ProgressFn& progress) {
    const auto rowBytes = ggmlRowBytes(t, m.cols);
    std::vector<std::byte> out(rowBytes ? *rowBytes * static_cast<std::size_t>(m.rows) : 0);
    if (auto st = ggmlQuantizeRowsInto(t, m, out, columnWeights, path, progress); !st)
        return st.error();
    return out;
}

Status ggmlQuantizeRowsInto(GgmlType t, MatrixView m, std::span<std::byte> out,
                            std::span<const float> columnWeights, GgmlQuantPath path,
                            const ProgressFn& progress) {
    if (!ggmlCanQuantize(t))
        return makeError("no quantizer for " + typeName(t));
    const auto* tr = ggmlTypeTraits(t);
    const auto rowBytes = ggmlRowBytes(t, m.cols);
    if (!rowBytes)
        return makeError(typeName(t) + ": rows of " + std::to_string(m.cols) +
                         " are not a multiple of " + std::to_string(tr->blockSize));
    if (!columnWeights.empty()) {
        if (path == GgmlQuantPath::Reference)
            return makeError(typeName(t) + ": the reference quantizer takes no importance weights");
        if (static_cast<std::int64_t>(columnWeights.size()) != m.cols)
            return makeError(typeName(t) + ": " + std::to_string(columnWeights.size()) +
                             " importance weights for rows of " + std::to_string(m.cols));
    }
    if (out.size() != *rowBytes * static_cast<std::size_t>(m.rows))
        return makeError(typeName(t) + ": an output of " + std::to_string(out.size()) +
                         " bytes for " + std::to_string(m.rows) + " rows of " +
                         std::to_string(*rowBytes));
    const float* qw = columnWeights.empty() ? nullptr : columnWeights.data();
    std::atomic<bool> cancelled{false};
    std::atomic<std::int64_t> rowsDone{0};
    std::mutex progressMutex; // the callback is never called concurrently
    tbb::parallel_for(
        tbb::blocked_range<std::int64_t>(0, m.rows),
        [&](const tbb::blocked_range<std::int64_t>& rr) {
            if (cancelled.load(std::memory_order_relaxed))
                return;
            for (std::int64_t r = rr.begin(); r != rr.end(); ++r) {
                const float* x = m.data + r * m.cols;
                void* dst = out.data() + static_cast<std::size_t>(r) * *rowBytes;
                if (path == GgmlQuantPath::Reference)
                    referenceRow(t, x, dst, m.cols);
                else
                    codecFor(t)->quantize(x, dst, m.cols, qw);
            }
            const auto done = rowsDone.fetch_add(static_cast<std::int64_t>(rr.size())) +
                              static_cast<std::int64_t>(rr.size());
            if (progress) {
                std::lock_guard lock(progressMutex);
                if (!progress(static_cast<double>(done) / static_cast<double>(m.rows)))
                    cancelled = true;
            }
        });
    if (cancelled)
        return cancelledError();
    return Ok{};
}

Status ggmlDequantize(GgmlType t, std::span<const std::byte> blocks, std::span<float> out) {
    const auto* c = codecFor(t);
    if (!c)
        return makeError("cannot decode " + typeName(t) + " yet");
    const auto* tr = ggmlTypeTraits(t);
    const auto n = static_cast<std::int64_t>(out.size());
    if (n % tr->blockSize != 0)
        return makeError(typeName(t) + ": " + std::to_string(n) +
                         " elements are not whole blocks of " + std::to_string(tr->blockSize));
    const std::int64_t nBlocks = n / tr->blockSize;
    if (blocks.size() != static_cast<std::size_t>(nBlocks * tr->bytesPerBlock))
        return makeError(typeName(t) + ": " + std::to_string(blocks.size()) + " bytes for " +
                         std::to_string(n) + " elements, expected " +
                         std::to_string(nBlocks * tr->bytesPerBlock));
    constexpr std::int64_t kBlocksPerTask = 4096;
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, nBlocks, kBlocksPerTask),
                      [&](const tbb::blocked_range<std::int64_t>& br) {
                          c->dequantize(blocks.data() + br.begin() * tr->bytesPerBlock,
                                        out.data() + br.begin() * tr->blockSize,
                                        static_cast<std::int64_t>(br.size()) * tr->blockSize);
                      });
    return Ok{};
}

} // namespace qs
