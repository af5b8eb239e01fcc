#pragma once
// What two methods do inside, on the Methods tab's layer: SINQ's normalisation of the first tile
// (row and column standard deviations before and after, the imbalance) and AWQ's per-channel
// scales beside the activations' mean |x|, for its "Inside SINQ and AWQ" page. Any thread.

#include "quant/registry.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace qs {

struct MethodInsights {
    std::int64_t tileCols = 0;
    std::vector<double> rowStdBefore, rowStdAfter, colStdBefore, colStdAfter;
    double imbalanceBefore = 0, imbalanceAfter = 0;
    std::vector<double> awqScale, awqMeanAbs; // empty when AWQ could not run
    double awqRatio = -1;
};

// The weights w [out, in] and activations x [tokens, in] at `bits` and `group` (0: per channel).
std::shared_ptr<const MethodInsights> computeInsights(MatrixView w, MatrixView x, int bits,
                                                      int group);

} // namespace qs
