#include "methods/sinq.h"

#include "cuda/device_sinq.h"

#include "methods/matrix_imbalance.h"
#include "metrics/distribution_stats.h"
#include "quant/group_quant.h"
#include "quant/normal_float.h"
#include "tensor/dtype.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <mutex>

namespace qs {
namespace {

// SINQ's hard-coded NF3_CODEBOOK (sinq/dual_shift.py), kept verbatim so codes match it exactly.
constexpr float kSinqNf3[8] = {-1.0f,
                               -0.5350227355957031f,
                               -0.2469314038753510f,
                               0.0f,
                               0.1833375245332718f,
                               0.3819939494132996f,
                               0.6229856610298157f,
                               1.0f};

float toHalf(float x) {
    return halfToFloat(floatToHalf(std::clamp(x, -65504.0f, 65504.0f)));
}

using Grid = dev::SinqGrid;

struct SinqOptions {
    bool twoD = false;
    int order = 16;
    bool aux8 = false;
    bool kurtosisFallback = false;
};

Result<SinqOptions> sinqOptions(const Scheme& s) {
    SinqOptions o;
    const auto bad = [&](const std::string& what) {
        return makeError("scheme " + s.toString() + ": " + what);
    };
    for (const auto& [k, v] : s.extra) {
        if (k == "tiling") {
            if (v != "1D" && v != "2D" && v != "1d" && v != "2d")
                return bad("tiling must be 1D or 2D");
            o.twoD = v == "2D" || v == "2d";
        } else if (k == "iters") {
            char* end = nullptr;
            const long n = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end || n < 0 || n > 1000)
                return bad("iters must be 0..1000");
            o.order = static_cast<int>(n);
        } else if (k == "aux8") {
            if (!v.empty())
                return bad("aux8 takes no value");
            o.aux8 = true;
        } else if (k == "fallback") {
            if (v != "kurtosis" && v != "none")
                return bad("fallback must be kurtosis or none");
            o.kurtosisFallback = v == "kurtosis";
        }
    }
    return o;
}

// The original's tile width: the group size, halved while it does not divide the row (not
// below 16). Where the original would then fail, keep the group size and a short last tile.
std::int64_t tileWidth(std::int64_t want, std::int64_t cols) {
    std::int64_t t = std::min(want, cols);
    while (cols % t != 0 && t / 2 >= 16)
        t /= 2;
    return cols % t == 0 ? t : std::min(want, cols);
}

// One row of a normalised tile quantized on the grid: writes each element's level value (before
// the zero-point) to `val` and returns {scale, zero} in float32.
std::pair<float, float> quantizeRow(Grid grid, int bits, const std::vector<float>& codebook,
                                    const float* w, std::int64_t n, float* val) {
    const dev::SinqRowQuant q = dev::sinqQuantizeRow(
        grid, bits, codebook.data(), static_cast<int>(codebook.size()),
        [&](long long i) { return w[i]; }, n, [&](long long i, float v) { val[i] = v; });
    return {q.scale, q.zero};
}

// The original's rtn8 (quantAux): 8-bit codes with a min and step per column of the vector
// viewed as [groups, -1] (groups = its length: one column for all); replaces the values by their
// dequantized ones and sets the storage in `bits`.
void rtn8(std::vector<float>& v, std::size_t groups, std::uint64_t& bits) {
    if (v.empty())
        return;
    if (v.size() % groups != 0)
        groups = v.size();
    const std::size_t stride = v.size() / groups; // columns of the [groups, stride] view
    for (std::size_t c = 0; c < stride; ++c) {
        float lo = v[c], hi = v[c];
        for (std::size_t g = 0; g < groups; ++g) {
            lo = std::min(lo, v[g * stride + c]);
            hi = std::max(hi, v[g * stride + c]);
        }
        const float mn = toHalf(lo), step = toHalf((hi - lo) / 255.0f);
        for (std::size_t g = 0; g < groups; ++g) {
            float& x = v[g * stride + c];
            const float q =
                step > 0 ? std::clamp(std::nearbyint((x - mn) / step), 0.0f, 255.0f) : 0;
            x = q * step + mn;
        }
    }
    bits = v.size() * 8 + stride * 32; // codes plus an fp16 min and step per column
}

} // namespace

SinkhornResult sinkhornNormalize(MatrixView tile, int order) {
    SinkhornResult r;
    const auto h = static_cast<std::size_t>(tile.rows), w = static_cast<std::size_t>(tile.cols);
    r.normalized.assign(tile.data, tile.data + tile.size());
    r.colScale.assign(w, 1.0f);
    r.rowScale.assign(h, 1.0f);
    if (h < 2 || w < 2) {
        r.imbalanceBefore = r.imbalanceAfter = matrixImbalance(tile);
        return r;
    }
    const auto rs0 = rowStdDevs(tile), cs0 = columnStdDevs(tile);
    double minR = 1e300, minC = 1e300;
    for (double s : rs0)
        minR = std::min(minR, dev::sinqClampStd(s));
    for (double s : cs0)
        minC = std::min(minC, dev::sinqClampStd(s));
    const auto tgt = static_cast<float>(std::min(minR, minC) + 1e-6);

    std::vector<float> logMu1(w, 0.0f), logMu2(h, 0.0f), cur(tile.size());
    double best = matrixImbalance(tile);
    r.imbalanceBefore = best;
    std::vector<float> mu1(w), mu2(h);
    for (int it = 0; it < order; ++it) {
        std::transform(logMu1.begin(), logMu1.end(), mu1.begin(), dev::sinqExp);
        std::transform(logMu2.begin(), logMu2.end(), mu2.begin(), dev::sinqExp);
        for (std::size_t i = 0; i < h; ++i)
            for (std::size_t j = 0; j < w; ++j)
                cur[i * w + j] = tile.data[i * w + j] / mu1[j] / mu2[i];
        const MatrixView cv{cur.data(), tile.rows, tile.cols};
        const double imb = matrixImbalance(cv);
        if (imb > best)
            break; // the original's gate: once the imbalance rises the scaling is frozen
        best = imb;
        r.colScale = mu1;
        r.rowScale = mu2;
        const auto cs = columnStdDevs(cv), rs = rowStdDevs(cv);
        for (std::size_t j = 0; j < w; ++j)
            logMu1[j] = dev::sinqStepLog(logMu1[j], cs[j], tgt);
        for (std::size_t i = 0; i < h; ++i)
            logMu2[i] = dev::sinqStepLog(logMu2[i], rs[i], tgt);
    }
    for (std::size_t i = 0; i < h; ++i)
        for (std::size_t j = 0; j < w; ++j)
            r.normalized[i * w + j] = tile.data[i * w + j] / r.colScale[j] / r.rowScale[i];
    r.imbalanceAfter = best;
    return r;
}

Result<SinqSetup> sinqSetup(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    auto opts = sinqOptions(s);
    if (!opts)
        return opts.error();
    SinqSetup u;
    u.grid = s.family != "sinq" ? Grid::NormalFloat : s.symmetric ? Grid::Symmetric : Grid::Uniform;
    u.bits = s.family == "sinq_nf3" ? 3 : s.family == "sinq_nf4" ? 4 : s.bits;
    if (u.grid == Grid::Symmetric && u.bits < 3)
        return makeError("scheme " + s.toString() +
                         ": SINQ's symmetric grid has no positive level at 2 bits");
    if (s.granularity == Granularity::Tensor)
        return makeError("scheme " + s.toString() + ": SINQ quantizes per group or per channel",
                         ErrorKind::NotApplicable);
    if (s.family == "sinq_nf3")
        u.codebook.assign(std::begin(kSinqNf3), std::end(kSinqNf3));
    else if (s.family == "sinq_nf4")
        u.codebook = normalFloatCodebook(4);
    u.rows = rows;
    u.cols = cols;
    u.tw =
        cols == 0 ? 0 : tileWidth(s.granularity == Granularity::Channel ? cols : s.groupSize, cols);
    u.th = opts->twoD ? std::min(u.tw, rows) : rows;
    u.colTiles = u.tw ? (cols + u.tw - 1) / u.tw : 0;
    u.rowTiles = u.th ? (rows + u.th - 1) / u.th : 0;
    u.order = opts->order;
    u.aux8 = opts->aux8;
    u.kurtosisFallback = opts->kurtosisFallback;
    return u;
}

void describeSinq(const SinqSetup& u, const SinqFindings& f, QuantOutput& out) {
    const auto groups = static_cast<std::uint64_t>(u.rows * u.colTiles);
    out.cost.elements = static_cast<std::uint64_t>(u.rows * u.cols);
    out.cost.payloadBits = out.cost.elements * static_cast<std::uint64_t>(u.bits);
    out.cost.scaleBits = (groups + static_cast<std::uint64_t>(u.rowTiles * u.cols)) * 16;
    out.cost.zeroBits = u.grid == Grid::Symmetric ? 16 : groups * 16;
    if (f.widest >= 0) {
        const float s1 = f.widestScale, z = f.widestZero;
        out.levels.clear();
        if (u.grid == Grid::NormalFloat)
            for (float c : u.codebook)
                out.levels.push_back((c - z) * s1);
        else if (u.grid == Grid::Symmetric)
            for (int q = -(1 << (u.bits - 1)); q <= (1 << u.bits) / 2 - 2; ++q)
                out.levels.push_back(static_cast<float>(q) * s1);
        else
            for (int q = 0; q < (1 << u.bits); ++q)
                out.levels.push_back((static_cast<float>(q) - z) * s1);
        std::sort(out.levels.begin(), out.levels.end());
        out.levelsNote = "levels of the widest group at unit column scale (row " +
                         std::to_string(f.widest / u.colTiles) + ", tile " +
                         std::to_string(f.widest % u.colTiles) + ")";
    }
    auto& d = out.diagnostics;
    d.push_back({"imbalance_before", f.imbalanceBefore, "SINQ matrix imbalance of the weight"});
    d.push_back({"imbalance_after", f.imbalanceAfter,
                 "imbalance of the weight after the per-tile normalisation"});
    d.push_back({"tile_imbalance_before", f.tileBefore, "mean imbalance of the tiles before"});
    d.push_back({"tile_imbalance_after", f.tileAfter, "mean imbalance of the tiles after"});
    d.push_back({"kurtosis", f.kurtosis, "non-excess kurtosis (the original falls back above 5)"});
    d.push_back({"tile_cols", static_cast<double>(u.tw), "tile width used (group size)"});
    if (u.kurtosisFallback)
        d.push_back(
            {"kurtosis_fallback", f.fallback ? 1.0 : 0.0, "1: plain RTN, no normalisation"});
}

double sinqKurtosis(MatrixView m) {
    return computeDistributionStats({m.data, m.size()}).kurtosis + 3.0; // non-excess
}

Result<QuantOutput> quantizeSinq(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    auto setup = sinqSetup(s, m.rows, m.cols);
    if (!setup)
        return setup.error();
    const SinqSetup& u = *setup;
    if (const auto bad = countNonFinite(m.data, static_cast<std::int64_t>(m.size())); bad > 0)
        return makeError("scheme " + s.toString() + ": SINQ needs finite weights (" +
                         std::to_string(bad) + " NaN or Inf values)");
    const Grid grid = u.grid;
    const int bits = u.bits;
    const std::vector<float>& codebook = u.codebook;
    const std::int64_t rows = m.rows, cols = m.cols, tw = u.tw, th = u.th;
    const std::int64_t colTiles = u.colTiles, rowTiles = u.rowTiles;
    const std::int64_t tiles = colTiles * rowTiles;

    SinqFindings found;
    found.kurtosis = sinqKurtosis(m);
    const bool fallback = u.kurtosisFallback && found.kurtosis > 5.0;
    found.fallback = fallback;
    std::vector<float> val(m.size()), normalized(m.size());
    std::vector<float> s1(static_cast<std::size_t>(rows * colTiles)), z(s1.size());
    std::vector<float> s2(static_cast<std::size_t>(rowTiles * cols));
    std::vector<double> tileBefore(static_cast<std::size_t>(tiles)), tileAfter(tileBefore.size());
    std::atomic<bool> cancelled{false};
    std::atomic<std::int64_t> done{0};
    std::mutex progressMutex;
    auto doTile = [&](std::int64_t t) {
        const std::int64_t tr = t / colTiles, tc = t % colTiles;
        const std::int64_t r0 = tr * th, c0 = tc * tw;
        const std::int64_t h = std::min(th, rows - r0), w = std::min(tw, cols - c0);
        std::vector<float> tile(static_cast<std::size_t>(h * w));
        for (std::int64_t i = 0; i < h; ++i)
            std::copy_n(m.data + (r0 + i) * cols + c0, w, tile.data() + i * w);
        const MatrixView tv{tile.data(), h, w};
        SinkhornResult n = sinkhornNormalize(tv, fallback ? 0 : u.order);
        tileBefore[static_cast<std::size_t>(t)] = n.imbalanceBefore;
        tileAfter[static_cast<std::size_t>(t)] = n.imbalanceAfter;
        for (std::int64_t j = 0; j < w; ++j)
            s2[static_cast<std::size_t>(tr * cols + c0 + j)] =
                toHalf(n.colScale[static_cast<std::size_t>(j)]);
        for (std::int64_t i = 0; i < h; ++i) {
            const float* src = n.normalized.data() + i * w;
            const std::int64_t at = (r0 + i) * cols + c0;
            std::copy_n(src, w, normalized.data() + at);
            const auto [scale, zero] = quantizeRow(grid, bits, codebook, src, w, val.data() + at);
            const auto g = static_cast<std::size_t>((r0 + i) * colTiles + tc);
            s1[g] = toHalf(scale * n.rowScale[static_cast<std::size_t>(i)]);
            z[g] = toHalf(zero);
        }
    };
    tbb::parallel_for(
        tbb::blocked_range<std::int64_t>(0, tiles), [&](const tbb::blocked_range<std::int64_t>& r) {
            if (cancelled.load(std::memory_order_relaxed))
                return;
            for (std::int64_t t = r.begin(); t != r.end(); ++t)
                doTile(t);
            const auto n = done.fetch_add(static_cast<std::int64_t>(r.size())) +
                           static_cast<std::int64_t>(r.size());
            std::lock_guard lock(progressMutex);
            if (!reportProgress(progress, static_cast<double>(n) / static_cast<double>(tiles)))
                cancelled = true;
        });
    if (cancelled)
        return cancelledError();

    QuantOutput out;
    std::uint64_t s1Bits = 0, zBits = 0;
    if (u.aux8) {
        rtn8(s1, 32, s1Bits);
        if (grid != Grid::Symmetric)
            rtn8(z, z.size(), zBits);
    }
    out.reconstruction.resize(m.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            const auto g = static_cast<std::size_t>(r * colTiles + c / tw);
            const auto e = static_cast<std::size_t>(r * cols + c);
            out.reconstruction[e] =
                (val[e] - z[g]) * s1[g] * s2[static_cast<std::size_t>((r / th) * cols + c)];
        }
    if (!s1.empty()) {
        found.widest = std::max_element(s1.begin(), s1.end()) - s1.begin();
        found.widestScale = s1[static_cast<std::size_t>(found.widest)];
        found.widestZero = z[static_cast<std::size_t>(found.widest)];
    }
    for (std::size_t t = 0; t < tileBefore.size(); ++t) {
        found.tileBefore += tileBefore[t] / static_cast<double>(tiles);
        found.tileAfter += tileAfter[t] / static_cast<double>(tiles);
    }
    found.imbalanceBefore = matrixImbalance(m);
    found.imbalanceAfter = matrixImbalance({normalized.data(), rows, cols});
    describeSinq(u, found, out);
    if (u.aux8) { // the original's quantAux: s1 (and z) as 8-bit codes
        out.cost.scaleBits = s1Bits + s2.size() * 16;
        if (grid != Grid::Symmetric)
            out.cost.zeroBits = zBits;
    }
    if (!reportProgress(progress, 1.0))
        return cancelledError();
    return out;
}

} // namespace qs
