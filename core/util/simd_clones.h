#pragma once
// QS_SIMD_CLONES before a function with hot loops: GCC builds an AVX-512 and an AVX2 copy next
// to the baseline one and picks at load time. Files that use it are built with -fopenmp-simd
// (`#pragma omp simd` loops and reductions; no OpenMP runtime) and -ffp-contract=off, because
// contracting a*b+c into an FMA would change results against the plain path and the references.

//
// QS_SIMD_CLONES_FMA: the same with the middle copy x86-64-v3 (AVX2 with FMA), for sums that
// call std::fma explicitly (one rounding per term instead of two; not a change of result that
// contraction would make behind the code's back). The baseline copy calls libm's fma.

//
// QS_CLONE_INLINE before a helper that such functions call in their hot loops: always inlined, so
// each clone compiles it for its own instruction set (an out-of-line copy would be baseline code).

// QS_LAMBDA_INLINE after a lambda's parameter list, for a lambda such a helper calls: the same.
#if defined(__GNUC__)
#define QS_CLONE_INLINE [[gnu::always_inline]] inline
#define QS_LAMBDA_INLINE __attribute__((always_inline))
#else
#define QS_CLONE_INLINE inline
#define QS_LAMBDA_INLINE
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QS_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define QS_SIMD_CLONES_FMA __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define QS_SIMD_CLONES
#define QS_SIMD_CLONES_FMA
#endif
