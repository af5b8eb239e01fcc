#pragma once
// QS_SIMD_CLONES before a function with hot loops: GCC builds an AVX-512 and an AVX2 copy next
// to the baseline one and picks at load time. Files that use it are built with -fopenmp-simd
// (`#pragma omp simd` loops and reductions; no OpenMP runtime) and -ffp-contract=off, because
// contracting a*b+c into an FMA would change results against the plain path and the references.

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QS_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define QS_SIMD_CLONES
#endif
