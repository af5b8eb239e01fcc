#pragma once
// What the CUDA analysis kernels share (cuda_kernels.cu, kquant_kernels.cu): the block shape,
// the input decoders and loads, warp reductions, and the end of every block: its sums added once
// to the global totals, its shared-memory histograms added to the global histogram.

#include "cuda/cuda_kernels.h"

#include <cuda_runtime.h>

#include <type_traits>

namespace qs::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kSharedHistBytes = 40960; // block (or per-warp) histograms up to this size

struct Bf16 {
    unsigned short v;
};
struct F16 {
    unsigned short v;
};

__device__ __forceinline__ float decodeHalf(unsigned short h, Bf16*) {
    return dev::bf16ToFloat(h);
}
__device__ __forceinline__ float decodeHalf(unsigned short h, F16*) {
    return dev::f16ToFloat(h);
}

__device__ __forceinline__ float loadOne(const float* p) {
    return __ldg(p);
}
template <class H> __device__ __forceinline__ float loadOne(const H* p) {
    return decodeHalf(__ldg(&p->v), static_cast<H*>(nullptr));
}

// P consecutive elements; P > 1 loads 16 bytes at once (the caller guarantees the alignment).
template <class In, int P> __device__ __forceinline__ void loadPack(const In* p, float* out) {
    if constexpr (P == 1) {
        out[0] = loadOne(p);
    } else {
        const uint4 u = __ldg(reinterpret_cast<const uint4*>(p));
        const unsigned int w[4] = {u.x, u.y, u.z, u.w};
        if constexpr (std::is_same_v<In, float>) {
#pragma unroll
            for (int i = 0; i < 4; ++i)
                out[i] = __uint_as_float(w[i]);
        } else {
#pragma unroll
            for (int i = 0; i < 4; ++i) { // little-endian: the lower half is the earlier element
                out[2 * i] = decodeHalf(static_cast<unsigned short>(w[i] & 0xFFFFu),
                                        static_cast<In*>(nullptr));
                out[2 * i + 1] =
                    decodeHalf(static_cast<unsigned short>(w[i] >> 16), static_cast<In*>(nullptr));
            }
        }
    }
}

__device__ __forceinline__ double warpSum(double v) {
#pragma unroll
    for (int off = 16; off > 0; off /= 2)
        v += __shfl_down_sync(0xFFFFFFFFu, v, off);
    return v;
}
__device__ __forceinline__ double warpMax(double v) {
#pragma unroll
    for (int off = 16; off > 0; off /= 2)
        v = fmax(v, __shfl_down_sync(0xFFFFFFFFu, v, off));
    return v;
}
__device__ __forceinline__ unsigned long long warpMaxU(unsigned long long v) {
#pragma unroll
    for (int off = 16; off > 0; off /= 2) {
        const unsigned long long o = __shfl_down_sync(0xFFFFFFFFu, v, off);
        v = o > v ? o : v;
    }
    return v;
}
__device__ __forceinline__ unsigned long long warpSumU(unsigned long long v) {
#pragma unroll
    for (int off = 16; off > 0; off /= 2)
        v += __shfl_down_sync(0xFFFFFFFFu, v, off);
    return v;
}

// Blocks for `work` items of which a block takes `perBlock`: at most 8 per multiprocessor (the
// kernels stride over the rest).
inline int gridFor(long long work, long long perBlock, int smCount) {
    const long long blocks = (work + perBlock - 1) / perBlock;
    const long long cap = static_cast<long long>(smCount > 0 ? smCount : 1) * 8;
    return static_cast<int>(blocks < 1 ? 1 : blocks < cap ? blocks : cap);
}

// A thread's share of the error sums, in double.
struct ThreadSums {
    double se = 0, sr = 0, sq = 0, dot = 0, maxErr = 0;
};

// One value and its reconstruction: binned into the error histogram (pass 1: into `shared`, the
// block's copy, where there is one, else the global one) or added to the sums (pass 0).
__device__ __forceinline__ void addOrBin(const GroupArgs& a, bool binning, unsigned int* shared,
                                         float xv, float rv, ThreadSums& s) {
    const double xd = xv, rd = rv, e = xd - rd;
    if (binning) {
        const int b = dev::errorBin(e, a.m, a.perUnit, a.bins - 1);
        if (shared)
            atomicAdd(&shared[b], 1u);
        else
            atomicAdd(&a.hist[b], 1ull);
        return;
    }
    s.se += e * e;
    s.sr += xd * xd;
    s.sq += rd * rd;
    s.dot += xd * rd;
    s.maxErr = fmax(s.maxErr, fabs(e));
}

// Adds a block's sums to the global totals: each warp's through shuffles, the warps' in shared
// memory, one atomic per total from thread 0. Every thread of the block calls it.
__device__ __forceinline__ void addBlockTotals(Totals* t, const ThreadSums& mine,
                                               unsigned long long key, unsigned long long sat,
                                               unsigned long long flushed,
                                               unsigned long long nanBlocks) {
    __shared__ double red[5][kWarps];
    __shared__ unsigned long long redU[4][kWarps];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const double se = warpSum(mine.se);
    const double sr = warpSum(mine.sr);
    const double sq = warpSum(mine.sq);
    const double dot = warpSum(mine.dot);
    const double maxErr = warpMax(mine.maxErr);
    key = warpMaxU(key);
    sat = warpSumU(sat);
    flushed = warpSumU(flushed);
    nanBlocks = warpSumU(nanBlocks);
    if (lane == 0) {
        red[0][warp] = se;
        red[1][warp] = sr;
        red[2][warp] = sq;
        red[3][warp] = dot;
        red[4][warp] = maxErr;
        redU[0][warp] = key;
        redU[1][warp] = sat;
        redU[2][warp] = flushed;
        redU[3][warp] = nanBlocks;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double s[5] = {0, 0, 0, 0, 0};
        unsigned long long u[4] = {0, 0, 0, 0};
        for (int w = 0; w < kWarps; ++w) {
            for (int i = 0; i < 4; ++i)
                s[i] += red[i][w];
            s[4] = fmax(s[4], red[4][w]);
            u[0] = redU[0][w] > u[0] ? redU[0][w] : u[0];
            for (int i = 1; i < 4; ++i)
                u[i] += redU[i][w];
        }
        atomicAdd(&t->se, s[0]);
        atomicAdd(&t->sr, s[1]);
        atomicAdd(&t->sq, s[2]);
        atomicAdd(&t->dot, s[3]);
        atomicMax(&t->maxAbsBits, static_cast<unsigned long long>(__double_as_longlong(s[4])));
        atomicMax(&t->widestKey, u[0]);
        if (u[1])
            atomicAdd(&t->saturated, u[1]);
        if (u[2])
            atomicAdd(&t->flushed, u[2]);
        if (u[3])
            atomicAdd(&t->nanBlocks, u[3]);
    }
}

// Adds `copies` shared-memory histograms of `bins` to the global one. Every thread calls it.
__device__ __forceinline__ void flushBlockHist(const unsigned int* hist, int bins, int copies,
                                               unsigned long long* out) {
    __syncthreads();
    for (int i = threadIdx.x; i < bins; i += kThreads) {
        unsigned long long c = 0;
        for (int w = 0; w < copies; ++w)
            c += hist[w * bins + i];
        if (c)
            atomicAdd(&out[i], c);
    }
}

} // namespace
} // namespace qs::cuda
