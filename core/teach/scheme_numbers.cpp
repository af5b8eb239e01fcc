#include "teach/scheme_numbers.h"

#include "quant/group_quant.h"
#include "quant/int_quant.h"
#include "teach/snr_curve.h"

#include <algorithm>
#include <cmath>

namespace qs {
namespace {

struct FocusGroup {
    std::int64_t index = 0;
    std::int64_t count = 0;
    std::vector<std::int64_t> members; // flat indices
};

// bitsandbytes' families cut the flattened tensor into blocks; everything else groups rows.
bool flattensBlocks(const Scheme& s) {
    return s.family == "nf" || s.family == "bnb_fp4";
}

FocusGroup focusGroup(const Scheme& s, MatrixView m, std::int64_t at) {
    FocusGroup g;
    const auto n = static_cast<std::int64_t>(m.size());
    if (flattensBlocks(s) && s.granularity == Granularity::Group) {
        const std::int64_t size = s.groupSize;
        g.index = at / size;
        g.count = (n + size - 1) / size;
        for (std::int64_t k = g.index * size; k < std::min(n, (g.index + 1) * size); ++k)
            g.members.push_back(k);
        return g;
    }
    const GroupLayout layout = groupLayout(s, m.rows, m.cols);
    g.count = layout.groupCount(m.rows);
    if (layout.wholeTensor || layout.groupCols <= 0) {
        for (std::int64_t k = 0; k < n; ++k)
            g.members.push_back(k);
        return g;
    }
    const std::int64_t r = at / m.cols;
    const std::int64_t c0 = (at % m.cols) / layout.groupCols * layout.groupCols;
    g.index = r * layout.groupsPerRow + c0 / layout.groupCols;
    for (std::int64_t c = c0; c < std::min(m.cols, c0 + layout.groupCols); ++c)
        g.members.push_back(r * m.cols + c);
    return g;
}

std::size_t nearestIndex(const std::vector<float>& levels, double v) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < levels.size(); ++i)
        if (std::abs(levels[i] - v) < std::abs(levels[best] - v))
            best = i;
    return best;
}

} // namespace

Result<SchemeNumbers> computeSchemeNumbers(const Scheme& s, MatrixView m) {
    const FamilyInfo* family = findFamily(s.family);
    if (!family)
        return makeError("unknown scheme family '" + s.family + "'");
    if (m.size() == 0)
        return makeError("no data to quantize");
    auto full = quantize(s, m);
    if (!full)
        return full.error();
    SchemeNumbers out;
    const std::span<const float> data(m.data, m.size());
    out.cost = full->cost;
    out.error = computeErrorMetrics(data, full->reconstruction);

    std::int64_t widest = 0;
    for (std::int64_t k = 0; k < static_cast<std::int64_t>(data.size()); ++k)
        if (std::isfinite(data[k]) && std::abs(data[k]) > std::abs(data[widest]))
            widest = k;
    const FocusGroup g = focusGroup(s, m, widest);
    out.groupCount = g.count;
    out.focusGroup = g.index;
    out.groupSize = static_cast<std::int64_t>(g.members.size());
    std::vector<float> values;
    for (std::int64_t k : g.members)
        values.push_back(data[k]);
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    out.groupMin = *lo;
    out.groupMax = *hi;
    out.groupAbsmax = std::max(std::abs(*lo), std::abs(*hi));

    // The group alone, quantized with one scale: the same scale the full run gave it.
    Scheme one = s;
    if (family->hasGranularity()) {
        one.granularity = Granularity::Tensor;
        one.groupSize = 0;
    }
    const MatrixView gv{values.data(), 1, static_cast<std::int64_t>(values.size())};
    auto alone = quantize(one, gv);
    if (!alone)
        return alone.error();
    out.levels = alone->levels;
    std::sort(out.levels.begin(), out.levels.end());
    out.levels.erase(std::unique(out.levels.begin(), out.levels.end()), out.levels.end());
    out.levelCount = static_cast<int>(out.levels.size());
    out.smallestStep = out.levels.size() > 1 ? HUGE_VAL : 0.0;
    for (std::size_t i = 1; i < out.levels.size(); ++i) {
        const double step = out.levels[i] - out.levels[i - 1];
        out.smallestStep = std::min(out.smallestStep, step);
        out.largestStep = std::max(out.largestStep, step);
    }

    // The example: a typical member, about a third of the group's largest magnitude.
    std::size_t pick = 0;
    for (std::size_t k = 1; k < values.size(); ++k)
        if (std::abs(std::abs(values[k]) - out.groupAbsmax / 3) <
            std::abs(std::abs(values[pick]) - out.groupAbsmax / 3))
            pick = k;
    WorkedExample& ex = out.example;
    ex.index = g.members[pick];
    ex.x = values[pick];
    ex.reconstruction = full->reconstruction[static_cast<std::size_t>(ex.index)];
    out.reconstruction = std::move(full->reconstruction);

    if (s.family == "int") {
        auto codes = quantizeIntCodes(one, gv);
        if (!codes)
            return codes.error();
        out.scale = codes->scales[0];
        out.zeroPoint = codes->zeros[0];
        ex.t = ex.x / out.scale + out.zeroPoint;
        ex.code = codes->codes[pick];
        ex.y = ex.code - out.zeroPoint;
        ex.yq = ex.y;
        return out;
    }
    double unitMax = 1.0;
    if (auto unit = unitLevels(s); unit && !unit->empty())
        unitMax = std::max(std::abs(unit->front()), std::abs(unit->back()));
    const double levelMax =
        out.levels.empty() ? 0.0
                           : std::max(std::abs(out.levels.front()), std::abs(out.levels.back()));
    out.scale = levelMax / unitMax;
    ex.t = out.scale > 0 ? ex.x / out.scale : 0.0;
    ex.code = static_cast<int>(nearestIndex(out.levels, ex.reconstruction));
    if (s.family == "mulaw") {
        const double mu = s.familyParam;
        ex.y = muLawCompress(std::clamp(ex.t, -1.0, 1.0), mu);
        ex.yq = out.scale > 0 ? muLawCompress(ex.reconstruction / out.scale, mu) : 0.0;
    } else {
        ex.y = ex.t;
        ex.yq = out.scale > 0 ? ex.reconstruction / out.scale : 0.0;
    }
    return out;
}

} // namespace qs
