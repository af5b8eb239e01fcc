#pragma once
// Eight doubles, one per lane, for sums that must give the same number from every SIMD clone
// (QS_SIMD_CLONES): GCC's vector extension keeps the lanes in vector registers (one AVX-512
// register, two AVX2 ones, four SSE2 ones) and does the same IEEE operations lane by lane, so
// only the order fixed by the code counts: lane j takes the elements j, j + 8, ..., and the
// lanes are added pairwise at the end. Written as plain per-lane loops over arrays, GCC left
// such loops scalar. Files using these are built with -ffp-contract=off (no FMA contraction).
//
// Selects: write `mask ? a : b` on one comparison at a time; combining two comparisons' masks
// (&, &&) made GCC build them lane by lane in the AVX-512F clone, which lacks AVX512DQ's
// mask-to-vector move.

#include "util/simd_clones.h"

#include <cstring>

namespace qs::lanes {

constexpr int kLanes = 8;
using Lanes = double __attribute__((vector_size(kLanes * sizeof(double))));
using Floats = float __attribute__((vector_size(kLanes * sizeof(float))));

// These take and return 64-byte vectors; they are always inlined into the cloned kernels, so
// the calling convention GCC's -Wpsabi warns about is never used (the files are built with
// -Wno-psabi).

QS_CLONE_INLINE Lanes load(const float* x) {
    Floats f;
    std::memcpy(&f, x, sizeof f);
    return __builtin_convertvector(f, Lanes);
}

QS_CLONE_INLINE void store(const Lanes& v, double* out) {
    std::memcpy(out, &v, sizeof v);
}

// All ones where v is finite, else 0 (v - v is NaN for NaN and +-Inf; a comparison with the
// largest double made GCC test each lane in scalar code).
QS_CLONE_INLINE auto finite(const Lanes& v) {
    return v - v == 0;
}

QS_CLONE_INLINE Lanes abs(const Lanes& v) {
    return v < 0 ? -v : v;
}

QS_CLONE_INLINE double pairwise(const double* l) {
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

} // namespace qs::lanes
