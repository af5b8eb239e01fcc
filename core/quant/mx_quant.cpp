#include "quant/mx_quant.h"

#include "quant/float_formats.h"
#include "quant/float_quant.h"
#include "quant/group_quant.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>

namespace qs {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct BlockCounts {
    std::atomic<std::int64_t> saturated{0}, flushed{0}, nan{0};
};

struct Mx {
    const Scheme& s;
    ElementFormat fmt;
    const ElementFormatInfo& info;
    std::vector<float> values;
    bool nv;
    std::int64_t block;
    float tensorScale = 0.0f; // nvfp4 only

    explicit Mx(const Scheme& scheme)
        : s(scheme), fmt(elementFormatOf(scheme.family)), info(formatInfo(fmt)),
          values(elementValues(fmt)), nv(scheme.family == "nvfp4"), block(scheme.groupSize) {}

    // Scale of one block with absolute maximum `amax` (NaN when the block is non-finite).
    float blockScale(float amax) const {
        if (nv) {
            const float scaled = (amax / 6.0f) / tensorScale;
            const float s8 =
                roundTripElement(ElementFormat::E4M3, std::clamp(scaled, 0.015625f, 448.0f));
            return std::isnan(scaled) ? kNaN : tensorScale * s8;
        }
        const std::uint8_t e = mxScaleExponent(s, amax);
        return e8m0ToFloatExact(e);
    }

    static float e8m0ToFloatExact(std::uint8_t e) {
        return e == 0xFF ? kNaN : std::ldexp(1.0f, static_cast<int>(e) - 127);
    }

    void quantizeBlock(const float* x, float* out, std::int64_t n, std::uint64_t first,
                       BlockCounts& counts, float& widest) const {
        float amax = 0.0f;
        for (std::int64_t k = 0; k < n; ++k)
            amax = std::isnan(x[k]) || std::isnan(amax) ? kNaN : std::max(amax, std::fabs(x[k]));
        const float scale = blockScale(amax);
        if (!std::isfinite(scale)) {
            std::fill(out, out + n, kNaN);
            ++counts.nan;
            return;
        }
        widest = std::max(widest, scale);
        // MX multiplies by the exact reciprocal power of two; nvfp4 divides by pts * s8.
        const float inv = nv ? 0.0f : std::ldexp(1.0f, -std::ilogb(scale));
        const bool stochastic = s.rounding == Rounding::Stochastic;
        const std::uint64_t seed = stochastic ? stochasticSeed(s) : 0;
        bool saturated = false, allZero = true;
        for (std::int64_t k = 0; k < n; ++k) {
            const float t = nv ? x[k] / scale : x[k] * inv;
            saturated |= std::fabs(t) > info.maxNormal;
            const float c = std::clamp(t, -info.maxNormal, info.maxNormal);
            const float e =
                stochastic ? values[stochasticLevelIndex(
                                 values, c, uniformAt(seed, first + static_cast<std::uint64_t>(k)))]
                           : roundTripElement(fmt, c);
            allZero &= e == 0.0f;
            out[k] = e * scale;
        }
        if (saturated)
            ++counts.saturated;
        if (allZero && amax > 0.0f)
            ++counts.flushed;
    }
};

int mantissaBits(ElementFormat f) {
    return f == ElementFormat::Int8 ? 6 : formatInfo(f).mbits;
}

} // namespace

std::uint8_t mxScaleExponent(const Scheme& s, float amax) {
    const ElementFormat fmt = elementFormatOf(s.family);
    const ElementFormatInfo& info = formatInfo(fmt);
    if (s.scaleRule == MxScaleRule::RCeil)
        return encodeE8M0(amax * static_cast<float>(1.0 / info.maxNormal), E8M0Rounding::RoundUp);
    std::uint32_t bits = std::bit_cast<std::uint32_t>(amax);
    if (s.scaleRule == MxScaleRule::Even) {
        // torchao: add half an ulp at the element's mantissa width, then keep sign and exponent.
        bits = (bits + (1u << (23 - mantissaBits(fmt) - 1))) & 0xFF800000u;
        amax = std::bit_cast<float>(bits);
    }
    if (!std::isfinite(amax))
        return 0xFF;
    int unbiased = static_cast<int>((bits >> 23) & 0xFF) - 127;
    if (s.scaleRule == MxScaleRule::Ceil && (bits & 0x7FFFFF) != 0)
        ++unbiased;
    unbiased = std::clamp(unbiased - info.emaxPow2, -127, 128);
    return static_cast<std::uint8_t>(unbiased + 127);
}

Result<QuantOutput> quantizeMx(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    Mx mx(s);
    QuantOutput out;
    out.reconstruction.assign(m.size(), 0.0f);
    out.cost = mxStorageCost(s, m.rows, m.cols);
    if (m.size() == 0)
        return out;

    const auto n = static_cast<std::int64_t>(m.size());
    if (mx.nv) {
        float amax = 0.0f;
        for (std::int64_t k = 0; k < n; ++k)
            amax = std::isnan(m.data[k]) || std::isnan(amax) ? kNaN
                                                             : std::max(amax, std::fabs(m.data[k]));
        if (amax == 0.0f)
            return out; // all zero: reconstruct 0
        mx.tensorScale = amax / 2688.0f;
    }
    BlockCounts counts;
    std::vector<float> widestPerRow(static_cast<std::size_t>(m.rows), 0.0f);
    const bool ok = parallelRows(m.rows, progress, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r != r1; ++r)
            for (std::int64_t c0 = 0; c0 < m.cols; c0 += mx.block) {
                const std::int64_t at = r * m.cols + c0;
                mx.quantizeBlock(m.data + at, out.reconstruction.data() + at,
                                 std::min(mx.block, m.cols - c0), static_cast<std::uint64_t>(at),
                                 counts, widestPerRow[static_cast<std::size_t>(r)]);
            }
    });
    if (!ok)
        return cancelledError();

    const auto w = std::max_element(widestPerRow.begin(), widestPerRow.end());
    describeMxBlocks(s, *w, static_cast<std::int64_t>(w - widestPerRow.begin()),
                     counts.saturated.load(), counts.flushed.load(), counts.nan.load(), out);
    return out;
}

StorageCost mxStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    const std::int64_t block = s.groupSize;
    const auto blocks = static_cast<std::uint64_t>(rows * ((cols + block - 1) / block));
    StorageCost c;
    c.elements = static_cast<std::uint64_t>(rows * cols);
    c.payloadBits =
        blocks * static_cast<std::uint64_t>(block * formatInfo(elementFormatOf(s.family)).bits);
    c.scaleBits = blocks * 8;
    c.extraBits = s.family == "nvfp4" && blocks ? 32 : 0;
    return c;
}

void describeMxBlocks(const Scheme& s, float widestScale, std::int64_t widestRow,
                      std::int64_t saturated, std::int64_t flushed, std::int64_t nanBlocks,
                      QuantOutput& out) {
    if (widestScale > 0.0f) {
        for (float v : mxUnitLevels(s))
            out.levels.push_back(v * widestScale);
        out.levelsNote = "levels of the widest block scale (row " + std::to_string(widestRow) + ")";
    }
    out.diagnostics.push_back({"saturated_blocks", static_cast<double>(saturated),
                               "blocks with elements clipped to the largest element value"});
    out.diagnostics.push_back({"flushed_blocks", static_cast<double>(flushed),
                               "blocks with non-zero input quantized entirely to zero"});
    if (nanBlocks > 0)
        out.diagnostics.push_back({"nan_blocks", static_cast<double>(nanBlocks),
                                   "blocks with NaN/Inf input: NaN scale, reconstructed as NaN"});
}

std::vector<float> mxUnitLevels(const Scheme& s) {
    return elementValues(elementFormatOf(s.family));
}

} // namespace qs
