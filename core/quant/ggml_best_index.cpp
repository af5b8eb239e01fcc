// best_index_int8 over a block at once (ggml_search.h), for the IQ4 searches' 15 trial scales.

#include "quant/ggml_search.h"
#include "util/simd_clones.h"

namespace qs::ggml {

// Per value: a = id * x as ggml forms it; `below` values <= a, `lo` the largest of them and `hi`
// the smallest value above a; then best_index_int8's choice between them, its float compare
// `a - lo < hi - a` (ties up). Below the first value that is 0, above the last 15 (the clamp of
// -1 and 16); NaN compares false everywhere, and the binary search then ends on 15.
QS_SIMD_CLONES
void bestIndicesInt8(const std::int8_t* values, float id, const float* x, int n,
                     std::uint8_t* out) {
    float v[16];
    for (int i = 0; i < 16; ++i)
        v[i] = static_cast<float>(values[i]);
#pragma omp simd
    for (int j = 0; j < n; ++j) {
        const float a = id * x[j];
        int below = 0;
        float lo = v[0], hi = v[15];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
            below += v[i] <= a ? 1 : 0;
            lo = v[i] <= a ? v[i] : lo;
        }
#pragma GCC unroll 16
        for (int i = 15; i >= 0; --i)
            hi = v[i] > a ? v[i] : hi;
        int best = a - lo < hi - a ? below - 1 : below;
        best = best < 0 ? 0 : best > 15 ? 15 : best;
        out[j] = static_cast<std::uint8_t>(a != a ? 15 : best);
    }
}

} // namespace qs::ggml
