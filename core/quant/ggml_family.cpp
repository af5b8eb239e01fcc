#include "quant/ggml_family.h"

#include "quant/ggml_quant.h"
#include "quant/ggml_rows.h"
#include "quant/ggml_search.h"
#include "util/buffer_recycler.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <string>

namespace qs {
namespace {

// How a block's bits divide (per block): codes, sub-block scales, sub-block mins, super-block
// scales. Their sum is the block size in bits (checked by the tests).
struct GgmlLayout {
    GgmlType type;
    int elementBits;
    int scaleBits, zeroBits, extraBits; // per block
    int groupsPerBlock;                 // scale groups (sub-blocks) per block
    int codeMin, codeMax;               // unit-scale levels are codeMin..codeMax (non-iq types)
};

constexpr GgmlLayout kLayouts[] = {
    {GgmlType::Q4_0, 4, 16, 0, 0, 1, -8, 7},
    {GgmlType::Q4_1, 4, 16, 16, 0, 1, 0, 15},
    {GgmlType::Q5_0, 5, 16, 0, 0, 1, -16, 15},
    {GgmlType::Q5_1, 5, 16, 16, 0, 1, 0, 31},
    {GgmlType::Q8_0, 8, 16, 0, 0, 1, -127, 127},
    {GgmlType::Q2_K, 2, 16 * 4, 16 * 4, 32, 16, 0, 3},
    {GgmlType::Q3_K, 3, 16 * 6, 0, 16, 16, -4, 3},
    {GgmlType::Q4_K, 4, 8 * 6, 8 * 6, 32, 8, 0, 15},
    {GgmlType::Q5_K, 5, 8 * 6, 8 * 6, 32, 8, 0, 31},
    {GgmlType::Q6_K, 6, 16 * 8, 0, 16, 16, -32, 31},
    {GgmlType::IQ4_NL, 4, 16, 0, 0, 1, 0, 15},
    {GgmlType::IQ4_XS, 4, 8 * 6, 0, 16, 8, 0, 15},
};

const GgmlLayout* layoutFor(GgmlType t) {
    for (const auto& l : kLayouts)
        if (l.type == t)
            return &l;
    return nullptr;
}

// Affine description of one scale group: level(q) = step * value(q) - offset, where value(q) is
// q for the integer types and kvalues_iq4nl[q] for the IQ4 types. Evaluated as the dequantizers
// evaluate it so the levels are exactly representable reconstruction values.
struct GroupScale {
    float step = 0;
    float offset = 0;
    int codeShift = 0; // subtracted from q before scaling (q4_0: 8, q3_k: 4, q6_k: 32 ...)
};

GroupScale groupScale(GgmlType t, const std::byte* block, int g) {
    using namespace ggml;
    switch (t) {
    case GgmlType::Q4_0:
        return {fromHalf(loadBlock<BlockQ4_0>(block, 0).d), 0, 8};
    case GgmlType::Q4_1: {
        const auto b = loadBlock<BlockQ4_1>(block, 0);
        return {fromHalf(b.d), -fromHalf(b.m), 0};
    }
    case GgmlType::Q5_0:
        return {fromHalf(loadBlock<BlockQ5_0>(block, 0).d), 0, 16};
    case GgmlType::Q5_1: {
        const auto b = loadBlock<BlockQ5_1>(block, 0);
        return {fromHalf(b.d), -fromHalf(b.m), 0};
    }
    case GgmlType::Q8_0:
        return {fromHalf(loadBlock<BlockQ8_0>(block, 0).d), 0, 0};
    case GgmlType::Q2_K: {
        const auto b = loadBlock<BlockQ2_K>(block, 0);
        const std::uint8_t sc = b.scales[g];
        return {fromHalf(b.d) * static_cast<float>(sc & 0xF),
                fromHalf(b.dmin) * static_cast<float>(sc >> 4), 0};
    }
    case GgmlType::Q3_K: {
        const auto b = loadBlock<BlockQ3_K>(block, 0);
        const int low = g < 8 ? b.scales[g] & 0xF : b.scales[g - 8] >> 4;
        const int high = (b.scales[8 + g % 4] >> (2 * (g / 4))) & 3;
        return {fromHalf(b.d) * static_cast<float>((low | (high << 4)) - 32), 0, 4};
    }
    case GgmlType::Q4_K:
    case GgmlType::Q5_K: {
        // d, dmin and scales[12] sit at the same offsets in both layouts
        const auto b = loadBlock<BlockQ4_K>(block, 0);
        std::uint8_t sc = 0, m = 0;
        getScaleMinK4(g, b.scales, &sc, &m);
        return {fromHalf(b.d) * static_cast<float>(sc), fromHalf(b.dmin) * static_cast<float>(m),
                0};
    }
    case GgmlType::Q6_K: {
        const auto b = loadBlock<BlockQ6_K>(block, 0);
        return {fromHalf(b.d) * static_cast<float>(b.scales[g]), 0, 32};
    }
    case GgmlType::IQ4_NL:
        return {fromHalf(loadBlock<BlockIq4Nl>(block, 0).d), 0, 0};
    case GgmlType::IQ4_XS: {
        const auto b = loadBlock<BlockIq4Xs>(block, 0);
        const int ls =
            ((b.scalesL[g / 2] >> 4 * (g % 2)) & 0xf) | (((b.scalesH >> 2 * g) & 3) << 4);
        return {fromHalf(b.d) * static_cast<float>(ls - 32), 0, 0};
    }
    default:
        return {};
    }
}

bool isIq4(GgmlType t) {
    return t == GgmlType::IQ4_NL || t == GgmlType::IQ4_XS;
}

std::vector<float> levelsOf(GgmlType t, const GgmlLayout& lay, const GroupScale& gs) {
    std::vector<float> v;
    if (isIq4(t)) {
        for (const auto k : kIq4nlValues)
            v.push_back(gs.step * static_cast<float>(k));
    } else {
        const int qMax = lay.codeMax - lay.codeMin; // codes 0..qMax (q8_0: signed, no shift)
        for (int q = 0; q <= qMax; ++q) {
            const int code = t == GgmlType::Q8_0 ? q + lay.codeMin : q - gs.codeShift;
            v.push_back(gs.step * static_cast<float>(code) - gs.offset);
        }
    }
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

// Quantizes `m` as `s`'s ggml type, with llama-quantize's importance weights when `importance`
// is not empty, and describes the result.
Result<QuantOutput> quantizeGgmlWith(const Scheme& s, MatrixView m,
                                     std::span<const float> importance,
                                     const ProgressFn& progress) {
    const auto type = ggmlTypeForFamily(s.family);
    const GgmlLayout* lay = type ? layoutFor(*type) : nullptr;
    if (!lay)
        return makeError("scheme " + s.toString() + " is not a ggml block format");
    const auto* tr = ggmlTypeTraits(*type);
    if (m.cols % tr->blockSize != 0)
        return makeError(s.family + " is not applicable: rows of " + std::to_string(m.cols) +
                             " are not a multiple of " + std::to_string(tr->blockSize),
                         ErrorKind::NotApplicable);
    auto bytes = ggmlQuantizeRows(*type, m, importance, GgmlQuantPath::Default,
                                  [&](double f) { return reportProgress(progress, 0.9 * f); });
    if (!bytes)
        return bytes.error();

    QuantOutput out;
    out.reconstruction = takeFloatBuffer(m.size()); // every value written below
    if (auto st = ggmlDequantize(*type, *bytes, out.reconstruction); !st)
        return st.error();

    // The widest scale group: the largest level range over all sub-blocks.
    const auto blocks =
        static_cast<std::uint64_t>(m.size()) / static_cast<std::uint64_t>(tr->blockSize);
    float bestRange = -1;
    std::uint64_t bestBlock = 0;
    int bestGroup = 0;
    for (std::uint64_t b = 0; b < blocks; ++b) {
        const std::byte* blk = bytes->data() + b * static_cast<std::uint64_t>(tr->bytesPerBlock);
        for (int g = 0; g < lay->groupsPerBlock; ++g) {
            const float step = std::fabs(groupScale(*type, blk, g).step);
            if (step > bestRange) {
                bestRange = step;
                bestBlock = b;
                bestGroup = g;
            }
        }
    }
    describeGgml(s, m.rows, m.cols,
                 blocks ? bytes->data() + bestBlock * static_cast<std::uint64_t>(tr->bytesPerBlock)
                        : nullptr,
                 bestBlock, bestGroup, out);
    if (!importance.empty() && *type == GgmlType::Q8_0)
        out.levelsNote += "; ggml's q8_0 ignores the importance matrix";
    if (!reportProgress(progress, 1.0))
        return cancelledError();
    return out;
}

} // namespace

Result<QuantOutput> quantizeGgml(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    return quantizeGgmlWith(s, m, {}, progress);
}

std::vector<float> imatrixFromActivations(MatrixView x) {
    // llama-imatrix: values[j] += x[j] * x[j] in float, token by token, and a count of tokens;
    // llama-quantize passes values[j] / count.
    std::vector<float> sums(static_cast<std::size_t>(x.cols), 0.0f);
    for (std::int64_t t = 0; t < x.rows; ++t) {
        const float* row = x.data + t * x.cols;
        for (std::int64_t j = 0; j < x.cols; ++j)
            sums[static_cast<std::size_t>(j)] += row[j] * row[j];
    }
    const float count = static_cast<float>(x.rows);
    for (auto& v : sums)
        v = count > 0 ? v / count : 1.0f;
    return sums;
}

Result<QuantOutput> quantizeGgmlWeighted(const Scheme& s, MatrixView weights,
                                         const ImportanceWeights& importance,
                                         const ProgressFn& progress) {
    if (importance.values.empty()) {
        auto out = quantizeGgmlWith(s, weights, {}, progress);
        if (out)
            out->diagnostics.push_back(
                {"no_importance", 1,
                 importance.source + " has no entry for this tensor: quantized without one, as "
                                     "llama-quantize does"});
        return out;
    }
    if (static_cast<std::int64_t>(importance.values.size()) != weights.cols)
        return makeError(s.toString() + ": " + importance.source + " has " +
                             std::to_string(importance.values.size()) +
                             " importance values for this tensor's " +
                             std::to_string(weights.cols) + " columns",
                         ErrorKind::NotApplicable);
    return quantizeGgmlWith(s, weights, importance.values, progress);
}

Result<QuantOutput> quantizeGgmlImatrix(const Scheme& s, MatrixView weights, MatrixView activations,
                                        const ProgressFn& progress) {
    const std::vector<float> importance = imatrixFromActivations(activations);
    for (const float v : importance)
        if (!std::isfinite(v))
            return makeError(s.toString() + ": the importance matrix from these activations is "
                                            "not finite (llama-quantize refuses it too)");
    return quantizeGgmlWith(s, weights, importance, progress);
}

void describeGgml(const Scheme& s, std::int64_t rows, std::int64_t cols,
                  const std::byte* widestBlock, std::uint64_t blockIndex, int group,
                  QuantOutput& out) {
    const auto type = ggmlTypeForFamily(s.family);
    const GgmlLayout* lay = type ? layoutFor(*type) : nullptr;
    if (!lay)
        return;
    const auto* tr = ggmlTypeTraits(*type);
    const auto n = static_cast<std::uint64_t>(rows * cols);
    const std::uint64_t blocks = n / static_cast<std::uint64_t>(tr->blockSize);
    out.cost.elements = n;
    out.cost.payloadBits = n * static_cast<std::uint64_t>(lay->elementBits);
    out.cost.scaleBits = blocks * static_cast<std::uint64_t>(lay->scaleBits);
    out.cost.zeroBits = blocks * static_cast<std::uint64_t>(lay->zeroBits);
    out.cost.extraBits = blocks * static_cast<std::uint64_t>(lay->extraBits);
    if (blocks == 0 || !widestBlock)
        return;
    out.levels = levelsOf(*type, *lay, groupScale(*type, widestBlock, group));
    const std::uint64_t perRow = static_cast<std::uint64_t>(cols / tr->blockSize);
    out.levelsNote =
        "levels of the widest " + std::string(lay->groupsPerBlock > 1 ? "sub-block" : "block") +
        " (row " + std::to_string(blockIndex / perRow) + ", block " +
        std::to_string(blockIndex % perRow) +
        (lay->groupsPerBlock > 1 ? ", sub-block " + std::to_string(group) : std::string()) + ")";
}

std::vector<float> ggmlUnitLevels(const Scheme& s) {
    const auto type = ggmlTypeForFamily(s.family);
    const GgmlLayout* lay = type ? layoutFor(*type) : nullptr;
    if (!lay)
        return {};
    std::vector<float> v;
    if (isIq4(*type)) {
        for (const auto k : kIq4nlValues)
            v.push_back(static_cast<float>(k));
        return v;
    }
    for (int q = lay->codeMin; q <= lay->codeMax; ++q)
        v.push_back(static_cast<float>(q));
    return v;
}

} // namespace qs
