#include "quant/float_quant.h"

#include "quant/group_quant.h"

#include <algorithm>
#include <cmath>

namespace qs {

ElementFormat elementFormatOf(std::string_view family) {
    if (family.ends_with("e2m3"))
        return ElementFormat::E2M3;
    if (family.ends_with("e3m2"))
        return ElementFormat::E3M2;
    if (family.ends_with("e4m3"))
        return ElementFormat::E4M3;
    if (family.ends_with("e5m2"))
        return ElementFormat::E5M2;
    if (family == "mxint8")
        return ElementFormat::Int8;
    return ElementFormat::E2M1; // fp4, mxfp4, nvfp4
}

Result<QuantOutput> quantizeFloatElement(const Scheme& s, MatrixView m,
                                         const ProgressFn& progress) {
    const ElementFormat fmt = elementFormatOf(s.family);
    const ElementFormatInfo& info = formatInfo(fmt);
    const std::vector<float> values = elementValues(fmt);
    auto reconstruct = [&](float x, float scale, float u) {
        if (!(scale > 0.0f))
            return 0.0f;
        const float t = x / scale;
        if (u < 0.0f)
            return roundTripElement(fmt, t) * scale;
        const float c = std::clamp(t, -info.maxNormal, info.maxNormal);
        return values[stochasticLevelIndex(values, c, u)] * scale;
    };
    auto g = quantizeScaledGroups(s, m, info.maxNormal, reconstruct, progress);
    if (!g)
        return g.error();
    QuantOutput out;
    out.reconstruction = std::move(g->reconstruction);
    const std::size_t w = g->scales.empty() ? 0 : g->widestGroup();
    describeFloatElement(s, m.rows, m.cols, g->scales.size(), w,
                         g->scales.empty() ? 0.0f : g->scales[w], out);
    addNonFiniteDiagnostic(out.diagnostics, g->nonFinite);
    return out;
}

void describeFloatElement(const Scheme& s, std::int64_t rows, std::int64_t cols,
                          std::size_t groups, std::size_t widest, float widestScale,
                          QuantOutput& out) {
    const ElementFormat fmt = elementFormatOf(s.family);
    out.cost.elements = static_cast<std::uint64_t>(rows * cols);
    out.cost.payloadBits = out.cost.elements * static_cast<std::uint64_t>(formatInfo(fmt).bits);
    out.cost.scaleBits = (rows * cols > 0 ? groups : 0) * 32;
    if (groups == 0)
        return;
    for (float v : elementValues(fmt))
        out.levels.push_back(v * widestScale);
    out.levelsNote = widestGroupNote(s, groupLayout(s, rows, cols), widest);
}

std::vector<float> floatElementUnitLevels(const Scheme& s) {
    return elementValues(elementFormatOf(s.family));
}

} // namespace qs
