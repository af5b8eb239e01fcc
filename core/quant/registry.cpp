#include "quant/registry.h"

#include <algorithm>

#include "methods/autoround.h"
#include "methods/awq.h"
#include "methods/gptq.h"
#include "methods/hqq.h"
#include "methods/sinq.h"
#include "methods/smoothquant.h"
#include "quant/cast_quant.h"
#include "quant/companding_quant.h"
#include "quant/float_quant.h"
#include "quant/ggml_family.h"
#include "quant/int_quant.h"
#include "quant/kmeans_quant.h"
#include "quant/mx_quant.h"
#include "quant/nf_quant.h"

#include <array>

namespace qs {
namespace {

using K = FamilyKind;
using G = Granularity;

// name, kind, minBits, maxBits, elementBits, blockSize, default granularity, default group,
// has sym/asym, default sym, description, quantize, unit levels
constexpr std::array kFamilies{
    FamilyInfo{"int", K::Uniform, 2, 8, 0, 0, G::Channel, 0, true, false,
               "uniform affine integer (GPTQ / torch.ao conventions)", quantizeInt, intUnitLevels},
    FamilyInfo{"mulaw", K::Companding, 2, 8, 0, 0, G::Tensor, 0, false, false,
               "mu-law companded uniform", quantizeCompanding, compandingUnitLevels},
    FamilyInfo{"alaw", K::Companding, 2, 8, 0, 0, G::Tensor, 0, false, false,
               "A-law companded uniform", quantizeCompanding, compandingUnitLevels},
    FamilyInfo{"log", K::Companding, 2, 8, 0, 0, G::Tensor, 0, false, false, "signed powers of two",
               quantizeCompanding, compandingUnitLevels},
    FamilyInfo{"nf", K::Codebook, 2, 8, 0, 0, G::Group, 64, false, false,
               "NormalFloat (QLoRA / bitsandbytes)", quantizeNormalFloat, normalFloatUnitLevels},
    FamilyInfo{"bnb_fp4", K::Codebook, 0, 0, 4, 0, G::Group, 64, false, false, "bitsandbytes FP4",
               quantizeNormalFloat, normalFloatUnitLevels},
    FamilyInfo{"fp4", K::FloatElement, 0, 0, 4, 0, G::Channel, 0, false, false,
               "OCP FP4 E2M1 elements", quantizeFloatElement, floatElementUnitLevels},
    FamilyInfo{"fp6_e2m3", K::FloatElement, 0, 0, 6, 0, G::Channel, 0, false, false,
               "OCP FP6 E2M3 elements", quantizeFloatElement, floatElementUnitLevels},
    FamilyInfo{"fp6_e3m2", K::FloatElement, 0, 0, 6, 0, G::Channel, 0, false, false,
               "OCP FP6 E3M2 elements", quantizeFloatElement, floatElementUnitLevels},
    FamilyInfo{"fp8_e4m3", K::FloatElement, 0, 0, 8, 0, G::Channel, 0, false, false,
               "OCP FP8 E4M3 elements", quantizeFloatElement, floatElementUnitLevels},
    FamilyInfo{"fp8_e5m2", K::FloatElement, 0, 0, 8, 0, G::Channel, 0, false, false,
               "OCP FP8 E5M2 elements", quantizeFloatElement, floatElementUnitLevels},
    FamilyInfo{"mxfp4", K::Microscaling, 0, 0, 4, 32, G::Block, 32, false, false,
               "OCP MX FP4, E8M0 scale per 32", quantizeMx, mxUnitLevels},
    FamilyInfo{"mxfp6_e2m3", K::Microscaling, 0, 0, 6, 32, G::Block, 32, false, false,
               "OCP MX FP6 E2M3", quantizeMx, mxUnitLevels},
    FamilyInfo{"mxfp6_e3m2", K::Microscaling, 0, 0, 6, 32, G::Block, 32, false, false,
               "OCP MX FP6 E3M2", quantizeMx, mxUnitLevels},
    FamilyInfo{"mxfp8_e4m3", K::Microscaling, 0, 0, 8, 32, G::Block, 32, false, false,
               "OCP MX FP8 E4M3", quantizeMx, mxUnitLevels},
    FamilyInfo{"mxfp8_e5m2", K::Microscaling, 0, 0, 8, 32, G::Block, 32, false, false,
               "OCP MX FP8 E5M2", quantizeMx, mxUnitLevels},
    FamilyInfo{"mxint8", K::Microscaling, 0, 0, 8, 32, G::Block, 32, false, false, "OCP MX INT8",
               quantizeMx, mxUnitLevels},
    FamilyInfo{"nvfp4", K::Microscaling, 0, 0, 4, 16, G::Block, 16, false, false,
               "NVIDIA FP4: E4M3 scale per 16, FP32 tensor scale", quantizeMx, mxUnitLevels},
    FamilyInfo{"q4_0", K::GgmlBlock, 0, 0, 4, 32, G::Block, 32, false, false, "ggml Q4_0",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"q4_1", K::GgmlBlock, 0, 0, 4, 32, G::Block, 32, false, false, "ggml Q4_1",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"q5_0", K::GgmlBlock, 0, 0, 5, 32, G::Block, 32, false, false, "ggml Q5_0",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"q5_1", K::GgmlBlock, 0, 0, 5, 32, G::Block, 32, false, false, "ggml Q5_1",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"q8_0", K::GgmlBlock, 0, 0, 8, 32, G::Block, 32, false, false, "ggml Q8_0",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"q2_k", K::GgmlBlock, 0, 0, 2, 256, G::Block, 256, false, false, "ggml Q2_K",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"q3_k", K::GgmlBlock, 0, 0, 3, 256, G::Block, 256, false, false, "ggml Q3_K",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"q4_k", K::GgmlBlock, 0, 0, 4, 256, G::Block, 256, false, false, "ggml Q4_K",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"q5_k", K::GgmlBlock, 0, 0, 5, 256, G::Block, 256, false, false, "ggml Q5_K",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"q6_k", K::GgmlBlock, 0, 0, 6, 256, G::Block, 256, false, false, "ggml Q6_K",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"iq4_nl", K::GgmlBlock, 0, 0, 4, 32, G::Block, 32, false, false, "ggml IQ4_NL",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"iq4_xs", K::GgmlBlock, 0, 0, 4, 256, G::Block, 256, false, false, "ggml IQ4_XS",
               quantizeGgml, ggmlUnitLevels, quantizeGgmlImatrix},
    FamilyInfo{"kmeans", K::Learned, 1, 8, 0, 0, G::Tensor, 0, false, false,
               "Lloyd-Max codebook fit to the data", quantizeKmeans},
    FamilyInfo{"hqq", K::Optimized, 2, 8, 0, 0, G::Group, 64, false, false,
               "HQQ half-quadratic zero-point", quantizeHqq},
    FamilyInfo{"sinq", K::Optimized, 2, 8, 0, 0, G::Group, 64, true, false,
               "SINQ dual-axis Sinkhorn scaling", quantizeSinq},
    FamilyInfo{"sinq_nf4", K::Optimized, 0, 0, 4, 0, G::Group, 64, false, false,
               "SINQ with NF4 levels", quantizeSinq},
    FamilyInfo{"sinq_nf3", K::Optimized, 0, 0, 3, 0, G::Group, 64, false, false,
               "SINQ with NF3 levels", quantizeSinq},
    FamilyInfo{"gptq", K::Calibrated, 2, 8, 0, 0, G::Group, 128, true, true,
               "GPTQ (needs activations)", nullptr, nullptr, quantizeGptq},
    FamilyInfo{"awq", K::Calibrated, 2, 8, 0, 0, G::Group, 128, true, false,
               "AWQ (needs activations)", nullptr, nullptr, quantizeAwq},
    FamilyInfo{"autoround", K::Calibrated, 2, 8, 0, 0, G::Group, 128, true, true,
               "AutoRound (needs activations)", nullptr, nullptr, quantizeAutoRound},
    FamilyInfo{"smoothquant", K::Calibrated, 2, 8, 0, 0, G::Channel, 0, true, true,
               "SmoothQuant W8A8 (needs activations)", nullptr, nullptr, quantizeSmoothQuant},
    FamilyInfo{"f16", K::Cast, 0, 0, 16, 0, G::Tensor, 0, false, false, "IEEE half cast",
               quantizeCast},
    FamilyInfo{"bf16", K::Cast, 0, 0, 16, 0, G::Tensor, 0, false, false, "bfloat16 cast",
               quantizeCast},
    FamilyInfo{"f32", K::Cast, 0, 0, 32, 0, G::Tensor, 0, false, false, "float32 (identity)",
               quantizeCast},
};

} // namespace

std::vector<std::string_view> FamilyInfo::extraOptions() const {
    switch (kind) {
    case FamilyKind::Optimized:
        return name == "hqq" ? std::vector<std::string_view>{"axis", "iters"}
                             : std::vector<std::string_view>{"aux8", "fallback", "tiling", "iters"};
    case FamilyKind::Calibrated:
        if (name == "gptq")
            return {"act_order", "damp", "block", "static_groups"};
        if (name == "awq")
            return {"grid", "no_clip"};
        if (name == "autoround")
            return {"iters", "lr", "batch", "order"};
        return {"alpha"};
    case FamilyKind::Learned:
        return {"iters", "tol"};
    case FamilyKind::GgmlBlock:
        return {"imatrix"};
    default:
        return {};
    }
}

std::span<const FamilyInfo> families() {
    return kFamilies;
}

const FamilyInfo* findFamily(std::string_view name) {
    for (const auto& f : kFamilies)
        if (f.name == name)
            return &f;
    return nullptr;
}

std::vector<std::string_view> fixedWidthLadder(std::string_view family) {
    using L = std::vector<std::string_view>;
    const L ladders[] = {
        {"q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_0"},
        {"q4_0", "q5_0", "q8_0"},
        {"q4_1", "q5_1"},
        {"fp4", "fp6_e2m3", "fp8_e4m3"},
        {"fp4", "fp6_e3m2", "fp8_e5m2"},
        {"mxfp4", "mxfp6_e2m3", "mxfp8_e4m3"},
        {"mxfp4", "mxfp6_e3m2", "mxfp8_e5m2"},
        {"mxfp4", "mxfp6_e2m3", "mxint8"},
        {"sinq_nf3", "sinq_nf4"},
    };
    // q8_0 and the 4-bit float formats sit on several ladders: the first one (the k-quants for
    // q8_0, the precision-heavy e2m3/e4m3 one for fp4 and mxfp4) is theirs.
    for (const L& l : ladders)
        if (std::find(l.begin(), l.end(), family) != l.end())
            return l;
    return {family};
}

std::string familyNamesList() {
    std::string s;
    for (const auto& f : kFamilies) {
        if (!s.empty())
            s += ", ";
        s += f.name;
    }
    return s;
}

Result<QuantOutput> quantize(const Scheme& s, MatrixView m, const ProgressFn& progress,
                             const MatrixView* activations, const ImportanceWeights* importance) {
    const FamilyInfo* f = findFamily(s.family);
    if (!f)
        return makeError("unknown scheme family '" + s.family + "'");
    if (!f->implemented())
        return makeError("scheme " + s.toString() + ": the " + std::string(f->name) +
                         " family is not implemented yet");
    if (!needsActivations(s))
        return f->quantize(s, m, progress);
    if (importance && f->kind == FamilyKind::GgmlBlock)
        return quantizeGgmlWeighted(s, m, *importance, progress);
    if (!activations || activations->size() == 0)
        return makeError(s.toString() + " needs activations: pass --calib ACT");
    // Another layer of the same model usually has other input features: not an error of the
    // scheme, just not applicable to this tensor with these activations.
    if (activations->cols != m.cols)
        return makeError(s.toString() + ": the activations have " +
                             std::to_string(activations->cols) + " features but the tensor has " +
                             std::to_string(m.cols) + " input columns",
                         ErrorKind::NotApplicable);
    return f->quantizeCalibrated(s, m, *activations, progress);
}

bool needsActivations(const Scheme& s) {
    const FamilyInfo* f = findFamily(s.family);
    return f && (f->needsActivations() ||
                 (f->quantizeCalibrated && s.extra.count(std::string(kImatrixOption))));
}

bool rowSeparable(const Scheme& s) {
    const FamilyInfo* f = findFamily(s.family);
    if (!f || !f->implemented() || s.rounding == Rounding::Stochastic || s.doubleQuant)
        return false;
    const bool perRowScales =
        s.granularity == Granularity::Group || s.granularity == Granularity::Channel;
    switch (f->kind) {
    case FamilyKind::Uniform:
    case FamilyKind::Companding:
    case FamilyKind::Codebook:
    case FamilyKind::FloatElement:
        return perRowScales;
    case FamilyKind::Microscaling:
        return s.family != "nvfp4";
    case FamilyKind::GgmlBlock:
        return !needsActivations(s);
    case FamilyKind::Cast:
        return true;
    case FamilyKind::Learned:
    case FamilyKind::Optimized:
    case FamilyKind::Calibrated:
        return false;
    }
    return false;
}

bool rowSeparable(const Scheme& s, std::int64_t cols) {
    if (!rowSeparable(s))
        return false;
    const FamilyInfo* f = findFamily(s.family);
    const bool flattenedBlocks = f->quantize == quantizeNormalFloat;
    return !(flattenedBlocks && s.granularity == Granularity::Group &&
             (s.groupSize <= 0 || cols % s.groupSize != 0));
}

bool rowSeparableGivenInputs(const Scheme& s, std::int64_t cols) {
    if (rowSeparable(s, cols))
        return true;
    const FamilyInfo* f = findFamily(s.family);
    return f && f->kind == FamilyKind::GgmlBlock && s.extra.count(std::string(kImatrixOption)) &&
           s.rounding != Rounding::Stochastic && !s.doubleQuant;
}

StorageCost perTensorCost(const Scheme& s, const StorageCost& cost) {
    StorageCost once;
    if (s.granularity == Granularity::Tensor) {
        once.scaleBits = cost.scaleBits;
        once.zeroBits = cost.zeroBits;
        once.extraBits = cost.extraBits;
    } else if (s.family == "nvfp4") {
        once.extraBits = cost.extraBits;
    }
    return once;
}

Result<std::vector<float>> unitLevels(const Scheme& s) {
    const FamilyInfo* f = findFamily(s.family);
    if (!f)
        return makeError("unknown scheme family '" + s.family + "'");
    if (!f->implemented())
        return makeError("scheme " + s.toString() + ": the " + std::string(f->name) +
                         " family is not implemented yet");
    if (!f->unitLevels)
        return makeError("scheme " + s.toString() + " has no fixed level grid (" +
                         (f->kind == FamilyKind::Cast ? "every representable value is a level"
                                                      : "levels depend on the data") +
                         ")");
    return f->unitLevels(s);
}

} // namespace qs
