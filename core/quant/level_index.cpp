#include "quant/group_quant.h"
#include "util/simd_clones.h"

namespace qs {

// Counting the midpoints strictly below x is lower_bound's index on a sorted list (a value on a
// midpoint stays on the lower level; NaN compares false everywhere and gives 0), with no branch
// to mispredict; the loop over values vectorises.
QS_SIMD_CLONES
void nearestLevelIndices(std::span<const float> midpoints, const float* x, std::int64_t n,
                         std::uint8_t* out) {
    const float* mid = midpoints.data();
    const auto count = static_cast<int>(midpoints.size());
#pragma omp simd
    for (std::int64_t k = 0; k < n; ++k) {
        int below = 0;
        for (int i = 0; i < count; ++i)
            below += x[k] > mid[i] ? 1 : 0;
        out[k] = static_cast<std::uint8_t>(below);
    }
}

} // namespace qs
