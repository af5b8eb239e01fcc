#pragma once
// The numbers behind a lesson's formulas: for a scheme and some data, the level count L, how many
// scale groups there are, the honest bits per weight and the error — and, for the group that
// holds the largest weight (the one that sets the widest scale), its range, scale, zero-point and
// levels, plus one worked example element taken through the formula step by step.
// Everything is computed by the project's quantizers; the worked example's reconstruction is the
// quantizer's own. Pure; any thread.

#include "metrics/error_metrics.h"
#include "quant/registry.h"

#include <cstdint>
#include <vector>

namespace qs {

// One element through the formula. For int: t = x/Δ + z, code = clamp(rne(t)), y = code - z.
// For mulaw/alaw: t = x/absmax, y = F(t), code = the level index, yq = its grid value.
// For nf and the other codebook/float families: t = x/scale, code = nearest level index,
// yq = that level at unit scale.
struct WorkedExample {
    std::int64_t index = 0; // flat index in the data
    float x = 0;
    double t = 0;
    double y = 0;
    int code = 0;
    double yq = 0;
    float reconstruction = 0; // what the quantizer reconstructed for this element
};

struct SchemeNumbers {
    int levelCount = 0;               // L: distinct reconstruction levels of one group
    std::int64_t groupCount = 0;      // scale groups over the data (the number of scales stored)
    std::int64_t groupSize = 0;       // elements per group
    std::int64_t focusGroup = 0;      // the group holding the largest |x|
    float groupMin = 0, groupMax = 0; // its raw range
    float groupAbsmax = 0;
    double scale = 0;     // int: Δ; absmax-scaled families: the (clipped) absmax; MX: 2^e
    double zeroPoint = 0; // int asym; 0 otherwise
    double smallestStep = 0, largestStep = 0; // gaps between neighbouring levels of the group
    std::vector<float> levels;                // the group's levels, sorted
    WorkedExample example;
    StorageCost cost;
    ErrorMetrics error;
    std::vector<float> reconstruction; // of all the data
};

Result<SchemeNumbers> computeSchemeNumbers(const Scheme& s, MatrixView data);

} // namespace qs
