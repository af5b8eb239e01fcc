#include "cuda/device_plan.h"

#include "quant/companding_quant.h"
#include "quant/float_formats.h"
#include "quant/float_quant.h"
#include "quant/ggml_family.h"
#include "quant/ggml_quant.h"
#include "quant/group_quant.h"
#include "quant/int_params.h"
#include "quant/int_quant.h"
#include "quant/mx_quant.h"
#include "quant/nf_quant.h"
#include "quant/normal_float.h"

#include <algorithm>
#include <initializer_list>
#include <string_view>

namespace qs {
namespace {

bool intCovered(const Scheme& s) {
    return s.family == "int" && s.bits >= 2 && s.bits <= 8 && s.clip == Clip::MinMax &&
           s.rounding == Rounding::Nearest;
}

bool nfCovered(const Scheme& s, std::int64_t cols) {
    return s.family == "nf" && s.bits >= 2 && s.bits <= 8 && !s.doubleQuant &&
           s.clip == Clip::MinMax && s.rounding == Rounding::Nearest && s.extra.empty() &&
           s.granularity != Granularity::Block &&
           (s.granularity != Granularity::Group || (s.groupSize > 0 && cols % s.groupSize == 0));
}

bool compandCovered(const Scheme& s) {
    return (s.family == "mulaw" || s.family == "alaw") && s.bits >= 2 && s.bits <= 8 &&
           !s.doubleQuant && s.clip == Clip::MinMax && s.rounding == Rounding::Nearest &&
           s.extra.empty();
}

bool fpCovered(const Scheme& s) {
    const FamilyInfo* f = findFamily(s.family);
    return f && f->kind == FamilyKind::FloatElement && s.clip == Clip::MinMax &&
           s.rounding == Rounding::Nearest;
}

// Whether the scheme's options are all among `known` (the ones the device path follows).
bool onlyOptions(const Scheme& s, std::initializer_list<std::string_view> known) {
    for (const auto& [k, v] : s.extra)
        if (std::find(known.begin(), known.end(), k) == known.end())
            return false;
    return true;
}

// HQQ along rows: axis=1 with groups within rows (a group size dividing the row, or one group
// per row); the solver's settings the CPU's (hqqOptions).
std::optional<HqqOptions> hqqCovered(const Scheme& s, std::int64_t cols) {
    if (s.family != "hqq" || s.bits < 2 || s.bits > 8)
        return std::nullopt;
    if (!onlyOptions(s, {"axis", "iters"}))
        return std::nullopt;
    auto o = hqqOptions(s);
    if (!o || o->axis != 1)
        return std::nullopt;
    if (s.granularity == Granularity::Channel ||
        (s.granularity == Granularity::Group && s.groupSize > 0 && cols % s.groupSize == 0))
        return *o;
    return std::nullopt;
}

// SINQ as quantizeSinq runs it, but for aux8 (its 8-bit parameters are a pass over all groups).
std::optional<SinqSetup> sinqCovered(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    if (s.family != "sinq" && s.family != "sinq_nf3" && s.family != "sinq_nf4")
        return std::nullopt;
    if (!onlyOptions(s, {"tiling", "iters", "fallback"}))
        return std::nullopt;
    auto u = sinqSetup(s, rows, cols);
    if (!u || u->aux8 || u->tw <= 0 || u->codebook.size() > 16)
        return std::nullopt;
    return *u;
}

// kmeans with K <= 16 levels on groups of at most kKmMaxN values along rows.
std::optional<KmeansOptions> kmeansCovered(const Scheme& s, std::int64_t cols) {
    if (s.family != "kmeans" || s.bits < 1 || s.bits > 4)
        return std::nullopt;
    if (!onlyOptions(s, {"iters", "tol"}))
        return std::nullopt;
    auto o = kmeansOptions(s);
    if (!o)
        return std::nullopt;
    const std::int64_t n = s.granularity == Granularity::Channel ? cols
                           : s.granularity == Granularity::Group ? s.groupSize
                                                                 : 0;
    if (n < 1 || n > dev::kKmMaxN)
        return std::nullopt;
    return *o;
}

dev::ElementSpec elementSpec(ElementFormat fmt) {
    const ElementFormatInfo& info = formatInfo(fmt);
    dev::ElementSpec e;
    e.int8 = fmt == ElementFormat::Int8;
    e.mbits = info.mbits;
    e.bias = info.bias;
    e.maxNormal = info.maxNormal;
    return e;
}

bool mxCovered(const Scheme& s) {
    const FamilyInfo* f = findFamily(s.family);
    return f && f->kind == FamilyKind::Microscaling && s.rounding == Rounding::Nearest &&
           s.groupSize > 0;
}

dev::MxRule mxRule(MxScaleRule r) {
    switch (r) {
    case MxScaleRule::Ceil:
        return dev::MxRule::Ceil;
    case MxScaleRule::Even:
        return dev::MxRule::Even;
    case MxScaleRule::RCeil:
        return dev::MxRule::RCeil;
    case MxScaleRule::Floor:
        break;
    }
    return dev::MxRule::Floor;
}

} // namespace

std::optional<DevicePlan> devicePlanFor(const Scheme& s, std::int64_t rows, std::int64_t cols) {
    // The ggml kernels are the reference quantizers; with an importance matrix ggml runs its
    // weighted searches instead, which only the plain path has.
    if (rows <= 0 || cols <= 0 || needsActivations(s))
        return std::nullopt;
    DevicePlan p;
    p.rows = rows;
    p.cols = cols;
    if (intCovered(s) || nfCovered(s, cols) || compandCovered(s) || fpCovered(s)) {
        const GroupLayout layout = groupLayout(s, rows, cols);
        p.wholeTensor = layout.wholeTensor;
        p.groupCols = layout.wholeTensor ? cols : layout.groupCols;
    } else if (mxCovered(s)) {
        p.groupCols = s.groupSize;
    } else if ((s.family == "q8_0" || s.family == "q4_0" || s.family == "q4_1" ||
                s.family == "q5_0" || s.family == "q5_1") &&
               cols % 32 == 0) {
        p.groupCols = 32;
    } else if ((s.family == "q2_k" || s.family == "q4_k" || s.family == "q5_k" ||
                s.family == "q6_k" || s.family == "iq4_nl") &&
               cols % 32 == 0) {
        p.family = DeviceFamily::KQuant;
        p.kFam.kind = s.family == "q2_k"   ? dev::KKind::Q2K
                      : s.family == "q4_k" ? dev::KKind::Q4K
                      : s.family == "q5_k" ? dev::KKind::Q5K
                      : s.family == "q6_k" ? dev::KKind::Q6K
                                           : dev::KKind::IQ4NL;
        p.groupCols = p.kFam.blockSize();
        if (cols % p.groupCols != 0)
            return std::nullopt;
    } else if (auto km = kmeansCovered(s, cols)) {
        p.family = DeviceFamily::Kmeans;
        p.kmeans = *km;
        p.kmeansBits = s.bits;
        p.groupCols = s.granularity == Granularity::Channel ? cols : s.groupSize;
    } else if (auto sinq = sinqCovered(s, rows, cols)) {
        p.family = DeviceFamily::Sinq;
        p.sinq = std::move(*sinq);
        p.groupCols = p.sinq.tw;
    } else if (auto hqq = hqqCovered(s, cols)) {
        p.family = DeviceFamily::Hqq;
        p.hqq = *hqq;
        p.hqqBits = s.bits;
        p.groupCols = s.granularity == Granularity::Channel ? cols : s.groupSize;
    } else {
        return std::nullopt;
    }
    p.groupsPerRow = (cols + p.groupCols - 1) / p.groupCols;
    if (p.family == DeviceFamily::KQuant || p.family == DeviceFamily::Hqq ||
        p.family == DeviceFamily::Sinq || p.family == DeviceFamily::Kmeans) {
        // set above
    } else if (s.family == "int") {
        p.family = DeviceFamily::Int;
        const intq::Range r = intq::codeRange(s);
        p.intFam.bits = s.bits;
        p.intFam.symmetric = s.symmetric;
        p.intFam.fullRange = s.fullRange;
        p.intFam.qmin = r.qmin;
        p.intFam.qmax = r.qmax;
    } else if (s.family == "nf") {
        p.family = DeviceFamily::Nf;
        p.levels = normalFloatCodebook(s.bits);
        p.midpoints = levelMidpoints(p.levels);
        p.nfBuckets.resize(dev::kNfBuckets + 1);
        if (!dev::nfBucketTable(p.midpoints.data(), static_cast<int>(p.levels.size()),
                                p.nfBuckets.data()))
            return std::nullopt; // midpoints too close for the one-compare search
        p.nfMidpoints.resize(p.levels.size() + 1);
        dev::nfPaddedMidpoints(p.midpoints.data(), static_cast<int>(p.levels.size()),
                               p.nfMidpoints.data());
        const auto z = std::find(p.levels.begin(), p.levels.end(), 0.0f);
        p.zeroLevel = z != p.levels.end() ? *z : 0.0f;
    } else if (compandCovered(s)) {
        p.family = DeviceFamily::Compand;
        auto table = compandingTable(s);
        p.thresholds = std::move(table->thresholds);
        p.levels = std::move(table->levels);
        p.compandBits = s.bits;
    } else if (s.family == "q8_0") {
        p.family = DeviceFamily::Q8_0;
    } else if (s.family.starts_with("q4_") || s.family.starts_with("q5_")) {
        p.family = DeviceFamily::Legacy;
        p.legacyFam.kind = s.family == "q4_0"   ? dev::LegacyKind::Q4_0
                           : s.family == "q4_1" ? dev::LegacyKind::Q4_1
                           : s.family == "q5_0" ? dev::LegacyKind::Q5_0
                                                : dev::LegacyKind::Q5_1;
    } else if (fpCovered(s)) {
        p.family = DeviceFamily::Fp;
        p.fpFam.elem = elementSpec(elementFormatOf(s.family));
    } else {
        p.family = DeviceFamily::Mx;
        const ElementFormat fmt = elementFormatOf(s.family);
        const ElementFormatInfo& info = formatInfo(fmt);
        dev::MxFam& m = p.mxFam;
        m.elem = elementSpec(fmt);
        m.rule = mxRule(s.scaleRule);
        m.emaxPow2 = info.emaxPow2;
        m.mantissaBits = m.elem.int8 ? 6 : info.mbits;
        m.nv = s.family == "nvfp4";
    }
    return p;
}

float nvfp4TensorScale(float tensorMin, float tensorMax) {
    const float amax = std::max(std::fabs(tensorMin), std::fabs(tensorMax));
    return amax == 0.0f ? 0.0f : amax / 2688.0f;
}

void describeDeviceResult(const Scheme& s, const DevicePlan& plan, MatrixView w,
                          const DeviceSummary& sum, QuantOutput& out) {
    const std::uint32_t widest = dev::widestIndex(sum.widestKey);
    const float metric = dev::widestMetric(sum.widestKey);
    const auto groups = static_cast<std::size_t>(plan.wholeTensor ? 1 : plan.groupCount());
    switch (plan.family) {
    case DeviceFamily::Int: {
        out.cost = intStorageCost(s, plan.rows, plan.cols);
        float mn = sum.tensorMin, mx = sum.tensorMax;
        if (!plan.wholeTensor) { // the widest group's own range, for its zero-point
            const std::int64_t r = widest / plan.groupsPerRow, g = widest % plan.groupsPerRow;
            const float* x = w.data + r * plan.cols + g * plan.groupCols;
            const std::int64_t n = std::min(plan.groupCols, plan.cols - g * plan.groupCols);
            mn = *std::min_element(x, x + n);
            mx = *std::max_element(x, x + n);
        }
        const dev::IntFam::Group g = plan.intFam.group(mn, mx);
        setWidestIntLevels(s, g.scale, g.zero, plan.wholeTensor ? 0 : widest, groups,
                           plan.groupsPerRow, out);
        break;
    }
    case DeviceFamily::Nf: {
        const std::int64_t block = plan.wholeTensor ? plan.rows * plan.cols : plan.groupCols;
        const float a = plan.wholeTensor
                            ? std::max(std::fabs(sum.tensorMin), std::fabs(sum.tensorMax))
                            : metric;
        describeNf(s, plan.rows * plan.cols, block, groups, plan.wholeTensor ? 0 : widest, a, out);
        break;
    }
    case DeviceFamily::Compand: { // as quantizeCompanding: unit levels times the widest absmax
        const float a = plan.wholeTensor
                            ? std::max(std::fabs(sum.tensorMin), std::fabs(sum.tensorMax))
                            : metric;
        out.cost = compandingStorageCost(s, plan.rows, plan.cols);
        setCompandingLevels(s, plan.rows, plan.cols, plan.wholeTensor ? 0 : widest, a, out);
        break;
    }
    case DeviceFamily::Fp: {
        float scale = metric;
        if (plan.wholeTensor)
            scale = plan.fpFam.group(sum.tensorMin, sum.tensorMax).scale;
        describeFloatElement(s, plan.rows, plan.cols, groups, plan.wholeTensor ? 0 : widest, scale,
                             out);
        break;
    }
    case DeviceFamily::Q8_0:
    case DeviceFamily::Legacy: {
        // The widest block's bytes, from its values quantized again on the host.
        const std::int64_t r = widest / plan.groupsPerRow, g = widest % plan.groupsPerRow;
        auto bytes = ggmlQuantizeRows(*ggmlTypeForFamily(s.family),
                                      MatrixView{w.data + r * plan.cols + g * 32, 1, 32});
        describeGgml(s, plan.rows, plan.cols, bytes ? bytes->data() : nullptr, widest, 0, out);
        break;
    }
    case DeviceFamily::KQuant: {
        // The widest sub-block's block, quantized again on the host.
        const int subs = plan.kFam.subBlocks();
        const std::uint32_t block = widest / static_cast<std::uint32_t>(subs);
        const std::int64_t r = block / plan.groupsPerRow, g = block % plan.groupsPerRow;
        auto bytes = ggmlQuantizeRows(
            *ggmlTypeForFamily(s.family),
            MatrixView{w.data + r * plan.cols + g * plan.groupCols, 1, plan.groupCols});
        describeGgml(s, plan.rows, plan.cols, bytes ? bytes->data() : nullptr, block,
                     static_cast<int>(widest % static_cast<std::uint32_t>(subs)), out);
        break;
    }
    case DeviceFamily::Hqq:
        describeHqq(s, static_cast<std::uint64_t>(plan.rows * plan.cols), plan.groupCount(), 1,
                    widest, metric, sum.hqqWidestZero, sum.hqqIterations, sum.hqqStartMeanAbsError,
                    sum.hqqBestMeanAbsError, out);
        break;
    case DeviceFamily::Sinq:
        describeSinq(plan.sinq, sum.sinq, out);
        break;
    case DeviceFamily::Kmeans:
        describeKmeans(s, plan.rows, plan.cols, sum.kmeansBook.empty() ? -1 : widest,
                       sum.kmeansBook, out);
        break;
    case DeviceFamily::Mx:
        out.cost = mxStorageCost(s, plan.rows, plan.cols);
        if (plan.mxFam.nv && nvfp4TensorScale(sum.tensorMin, sum.tensorMax) == 0.0f)
            break; // an all-zero tensor: quantizeMx reports nothing more
        describeMxBlocks(s, sum.widestKey ? metric : 0.0f, widest, sum.saturated, sum.flushed,
                         sum.nanBlocks, out);
        break;
    }
}

} // namespace qs
