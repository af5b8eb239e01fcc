#pragma once
// AVX-512 kernels of the fused families' reconstruction, bit for bit the portable loops in
// fused_families.cpp: NormalFloat codebooks of up to 16 levels and mu-law / A-law of up to 4
// bits pick each value's level by a four-step binary search over the midpoints (thresholds)
// held in registers and one permute of the levels, where the portable loops run a select per
// midpoint. NfFamily and CompandFamily call them while avx512Enabled() (the CPU has AVX-512 and
// setSimdKernel has not asked for the portable loops). Internal to core/analysis.

#include "analysis/fused_families.h"

#include <cstdint>

namespace qs::fused {

bool avx512Enabled();
// The AVX2 + FMA kernels of accumulate and accumulateAndCount (fused_sums.cpp): the CPU has both
// and setSimdKernel has not asked for the portable loops.
bool fmaKernelsEnabled();
// x[0, n) in consecutive groups of groupCols (the last may be shorter), g[i] the i-th's
// parameters; only while avx512Enabled(). NF: up to 15 midpoints; companding: 15 thresholds.
void nfReconstruct512(const NfFamily& f, const NfFamily::Group* g, const float* x, std::int64_t n,
                      std::int64_t groupCols, float* out);
void compandReconstruct512(const CompandFamily& f, const CompandFamily::Group* g, const float* x,
                           std::int64_t n, std::int64_t groupCols, float* out);

// groupMinMax's min and max of whole groups x[g * groupCols, (g + 1) * groupCols), groupCols a
// multiple of 16, for the first groups - groups % 16 of them, which it returns; finite false
// when one of those holds a NaN or an infinity. Only while avx512Enabled().
std::int64_t groupMinMax512(const float* x, std::int64_t groups, std::int64_t groupCols, float* mn,
                            float* mx, bool& finite);

} // namespace qs::fused
