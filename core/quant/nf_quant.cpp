#include "quant/nf_quant.h"

#include "quant/group_quant.h"
#include "quant/normal_float.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cmath>

namespace qs {
namespace {

constexpr std::int64_t kNestedBlock = 256;

struct Codebook {
    bool fp4 = false;
    std::vector<float> values;    // per code
    std::vector<float> sorted;    // distinct values, ascending
    std::vector<float> midpoints; // of `sorted` (nf: sorted == values)

    explicit Codebook(const Scheme& s) {
        fp4 = s.family == "bnb_fp4";
        if (fp4) {
            const auto t = bnbFp4Table();
            values.assign(t.begin(), t.end());
            sorted = bnbFp4Levels();
        } else {
            values = normalFloatCodebook(s.bits);
            sorted = values;
        }
        midpoints = levelMidpoints(sorted);
    }

    std::uint8_t codeOfValue(float v) const {
        for (std::size_t i = 0; i < values.size(); ++i)
            if (values[i] == v)
                return static_cast<std::uint8_t>(i);
        return 0;
    }

    // Code of a value already divided by the block's absmax; u < 0: nearest.
    std::uint8_t encode(float scaled, float u) const {
        const float t = std::clamp(scaled, -1.0f, 1.0f);
        if (u >= 0.0f)
            return codeOfValue(sorted[stochasticLevelIndex(sorted, t, u)]);
        if (fp4)
            return encodeBnbFp4(t);
        return static_cast<std::uint8_t>(nearestLevelIndex(midpoints, t));
    }
};

// encodeBlock's nearest path for a normal-float codebook (sorted == values): the same codes
// from nearestLevelIndices, NaN to the zero code; with `codes` null (a clip search) the same
// error sum in the same order, else only the codes (their error is not used).
double encodeNearest(const Codebook& cb, const float* x, std::int64_t n, float a, float inv,
                     std::uint8_t zero, std::uint8_t* codes) {
    constexpr std::int64_t kStretch = 256;
    float t[kStretch];
    std::uint8_t q[kStretch];
    double err = 0;
    for (std::int64_t k0 = 0; k0 < n; k0 += kStretch) {
        const std::int64_t m = std::min(kStretch, n - k0);
        for (std::int64_t j = 0; j < m; ++j)
            t[j] = std::clamp(x[k0 + j] * inv, -1.0f, 1.0f);
        nearestLevelIndices(cb.midpoints, t, m, q);
        if (codes) { // the final encoding: its error is not used
            for (std::int64_t j = 0; j < m; ++j)
                codes[k0 + j] = std::isnan(x[k0 + j]) ? zero : q[j];
            continue;
        }
        for (std::int64_t j = 0; j < m; ++j) {
            const float v = x[k0 + j];
            if (std::isfinite(v)) {
                const double d = static_cast<double>(cb.values[q[j]] * a) - v;
                err += d * d;
            }
        }
    }
    return err;
}

// Quantizes one block with absmax `a`; writes codes (may be null) and returns the squared error.
double encodeBlock(const Codebook& cb, const Scheme& s, const float* x, std::int64_t n, float a,
                   std::uint64_t firstIndex, std::uint8_t* codes) {
    const std::uint8_t zero = cb.codeOfValue(0.0f);
    const float inv = a > 0.0f ? 1.0f / a : 0.0f;
    const bool stochastic = codes && s.rounding == Rounding::Stochastic;
    const std::uint64_t seed = stochastic ? stochasticSeed(s) : 0;
    double err = 0;
    if (!stochastic && !cb.fp4 && a > 0.0f) // nearest NF codes, a stretch at a time
        return encodeNearest(cb, x, n, a, inv, zero, codes);
    for (std::int64_t k = 0; k < n; ++k) {
        std::uint8_t q = zero;
        if (a > 0.0f && !std::isnan(x[k])) {
            const float u =
                stochastic ? uniformAt(seed, firstIndex + static_cast<std::uint64_t>(k)) : -1.0f;
            q = cb.encode(x[k] * inv, u);
        }
        if (codes)
            codes[k] = q;
        if (std::isfinite(x[k])) {
            const double d = static_cast<double>(cb.values[q] * a) - x[k];
            err += d * d;
        }
    }
    return err;
}

void doubleQuantize(BnbQuantized& q) {
    const auto n = static_cast<std::int64_t>(q.absmax.size());
    double sum = 0;
    for (float a : q.absmax)
        sum += a;
    q.offset = n ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f;
    const std::vector<float> dyn = bnbDynamicMap();
    const std::vector<float> mids = levelMidpoints(dyn);
    const auto zeroCode =
        static_cast<std::uint8_t>(std::find(dyn.begin(), dyn.end(), 0.0f) - dyn.begin());
    q.absmaxCodes.assign(static_cast<std::size_t>(n), zeroCode);
    for (std::int64_t b0 = 0; b0 < n; b0 += kNestedBlock) {
        const std::int64_t b1 = std::min(n, b0 + kNestedBlock);
        std::vector<float> centered;
        float nested = 0.0f;
        for (std::int64_t i = b0; i < b1; ++i) {
            centered.push_back(q.absmax[static_cast<std::size_t>(i)] - q.offset);
            nested = std::max(nested, std::fabs(centered.back()));
        }
        q.nestedAbsmax.push_back(nested);
        const float inv = nested > 0.0f ? 1.0f / nested : 0.0f;
        for (std::int64_t i = b0; i < b1; ++i) {
            const auto at = static_cast<std::size_t>(i);
            if (nested > 0.0f)
                q.absmaxCodes[at] = static_cast<std::uint8_t>(nearestLevelIndex(
                    mids,
                    std::clamp(centered[static_cast<std::size_t>(i - b0)] * inv, -1.0f, 1.0f)));
            q.absmax[at] = dyn[q.absmaxCodes[at]] * nested + q.offset;
        }
    }
}

} // namespace

Result<BnbQuantized> quantizeBnbCodes(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    const Codebook cb(s);
    BnbQuantized q;
    q.codebook = cb.values;
    q.blockSize = nfBlockSize(s, m);
    const auto n = static_cast<std::int64_t>(m.size());
    q.codes.assign(m.size(), 0);
    const std::int64_t blocks = (n + q.blockSize - 1) / q.blockSize;
    q.absmax.assign(static_cast<std::size_t>(blocks), 0.0f);
    q.nonFinite = countNonFinite(m.data, n);
    std::atomic<bool> cancelled{false};
    std::atomic<std::int64_t> done{0};
    tbb::parallel_for(
        tbb::blocked_range<std::int64_t>(0, blocks),
        [&](const tbb::blocked_range<std::int64_t>& br) {
            if (cancelled.load(std::memory_order_relaxed))
                return;
            for (std::int64_t b = br.begin(); b != br.end(); ++b) {
                const std::int64_t at = b * q.blockSize;
                const std::int64_t len = std::min(n, at + q.blockSize) - at;
                const float* x = m.data + at;
                const float a = clippedAbsmax(s, x, len, [&](float cand) {
                    return encodeBlock(cb, s, x, len, cand, 0, nullptr);
                });
                q.absmax[static_cast<std::size_t>(b)] = a;
                encodeBlock(cb, s, x, len, a, static_cast<std::uint64_t>(at), q.codes.data() + at);
            }
            const auto d = done.fetch_add(br.size()) + static_cast<std::int64_t>(br.size());
            if (progress && !progress(static_cast<double>(d) / static_cast<double>(blocks)))
                cancelled = true;
        });
    if (cancelled)
        return cancelledError();
    if (s.doubleQuant)
        doubleQuantize(q);
    return q;
}

std::int64_t nfBlockSize(const Scheme& s, MatrixView m) {
    switch (s.granularity) {
    case Granularity::Tensor:
        return std::max<std::int64_t>(1, static_cast<std::int64_t>(m.size()));
    case Granularity::Channel:
        return std::max<std::int64_t>(1, m.cols);
    default:
        return s.groupSize;
    }
}

std::vector<float> dequantizeBnb(const BnbQuantized& q) {
    std::vector<float> out(q.codes.size());
    const auto block = static_cast<std::size_t>(q.blockSize);
    for (std::size_t b = 0, at = 0; at < out.size(); ++b, at += block) {
        const float a = q.absmax[b];
        const std::size_t end = std::min(out.size(), at + block);
        for (std::size_t i = at; i < end; ++i)
            out[i] = q.codebook[q.codes[i]] * a;
    }
    return out;
}

Result<QuantOutput> quantizeNormalFloat(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    auto q = quantizeBnbCodes(s, m, progress);
    if (!q)
        return q.error();
    QuantOutput out;
    out.reconstruction = dequantizeBnb(*q);
    for (std::size_t i = 0; i < out.reconstruction.size(); ++i)
        if (std::isnan(m.data[i]))
            out.reconstruction[i] = m.data[i];
    const auto blocks = static_cast<std::uint64_t>(q->absmax.size());
    const auto w = static_cast<std::size_t>(
        std::max_element(q->absmax.begin(), q->absmax.end()) - q->absmax.begin());
    describeNf(s, static_cast<std::int64_t>(m.size()), q->blockSize, blocks, w,
               blocks ? q->absmax[w] : 0.0f, out);
    addNonFiniteDiagnostic(out.diagnostics, q->nonFinite);
    return out;
}

void describeNf(const Scheme& s, std::int64_t numel, std::int64_t blockSize, std::uint64_t blocks,
                std::size_t widest, float widestAbsmax, QuantOutput& out) {
    out.cost.elements = static_cast<std::uint64_t>(numel);
    out.cost.payloadBits = out.cost.elements * static_cast<std::uint64_t>(s.bits);
    if (s.doubleQuant) {
        out.cost.scaleBits = blocks * 8;
        out.cost.extraBits = (blocks + 255) / 256 * 32 + (blocks ? 32 : 0);
    } else {
        out.cost.scaleBits = blocks * 32;
    }
    if (!blocks)
        return;
    for (float l : normalFloatUnitLevels(s))
        out.levels.push_back(l * widestAbsmax);
    const auto first = static_cast<std::int64_t>(widest) * blockSize;
    out.levelsNote = blocks == 1 ? "levels of the tensor absmax"
                                 : "levels of the widest block (" + std::to_string(widest) +
                                       ", elements " + std::to_string(first) + ".." +
                                       std::to_string(std::min(first + blockSize, numel) - 1) +
                                       ")";
}

std::vector<float> normalFloatUnitLevels(const Scheme& s) {
    return s.family == "bnb_fp4" ? bnbFp4Levels() : normalFloatCodebook(s.bits);
}

} // namespace qs
