#include "quant/group_quant.h"
#include "util/simd_clones.h"

#include <algorithm>
#include <limits>

namespace qs {
namespace {

// The number of midpoints strictly below x is lower_bound's index on a sorted list (a value on a
// midpoint stays on the lower level; NaN compares false everywhere and gives 0). Both ways below
// are branch-free. Up to 15 midpoints, the loop over values is the vectorised one: the midpoints
// are padded with +inf (no value is above it) to a size known at compile time, so the loop over
// them unrolls.

template <int Count>
QS_CLONE_INLINE void countBelow(const float* mid, const float* x, std::int64_t n,
                                std::uint8_t* out) {
#pragma omp simd
    for (std::int64_t k = 0; k < n; ++k) {
        int below = 0;
#pragma GCC unroll 16
        for (int i = 0; i < Count; ++i)
            below += x[k] > mid[i] ? 1 : 0;
        out[k] = static_cast<std::uint8_t>(below);
    }
}

// More (5 bits and up): the same count, the loop over midpoints the vectorised one.
QS_CLONE_INLINE void countBelowMany(const float* mid, int count, const float* x, std::int64_t n,
                                    std::uint8_t* out) {
    for (std::int64_t k = 0; k < n; ++k) {
        int below = 0;
        for (int i = 0; i < count; ++i)
            below += x[k] > mid[i] ? 1 : 0;
        out[k] = static_cast<std::uint8_t>(below);
    }
}

} // namespace

QS_SIMD_CLONES
void nearestLevelIndices(std::span<const float> midpoints, const float* x, std::int64_t n,
                         std::uint8_t* out) {
    const auto count = static_cast<int>(std::min<std::size_t>(midpoints.size(), 255));
    if (count > 15)
        return countBelowMany(midpoints.data(), count, x, n, out);
    float mid[15];
    std::copy_n(midpoints.begin(), count, mid);
    std::fill(mid + count, mid + 15, std::numeric_limits<float>::infinity());
    if (count <= 1)
        return countBelow<1>(mid, x, n, out);
    if (count <= 3)
        return countBelow<3>(mid, x, n, out);
    if (count <= 7)
        return countBelow<7>(mid, x, n, out);
    return countBelow<15>(mid, x, n, out);
}

} // namespace qs
