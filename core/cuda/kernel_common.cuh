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

// Element j of a 16-byte pack of 2-byte values (loadPack's order), decoded.
template <class In> __device__ __forceinline__ float packedHalf(const uint4& u, int j) {
    const unsigned int w = j < 2 ? u.x : j < 4 ? u.y : j < 6 ? u.z : u.w;
    return decodeHalf(static_cast<unsigned short>(j % 2 ? w >> 16 : w & 0xFFFFu),
                      static_cast<In*>(nullptr));
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

// A thread's share of the error sums, in double. maxF is at most maxErr rounded to float (the
// float max filters which values can raise maxErr: see addPackSums).
struct ThreadSums {
    double se = 0, sr = 0, sq = 0, dot = 0, maxErr = 0;
    float maxF = 0;
};

// Pass 0: one value and its reconstruction added to the sums (not the maximum). The products are
// fused into the adds (the CPU rounds them apart: the sums agree to about 1e-15 relative).
__device__ __forceinline__ void addSumsOnly(ThreadSums& s, float xv, float rv) {
    const double xd = xv, rd = rv, e = xd - rd; // exact
    s.se = fma(e, e, s.se);
    s.sr = fma(xd, xd, s.sr);
    s.sq = fma(rd, rd, s.sq);
    s.dot = fma(xd, rd, s.dot);
}
// addSumsOnly and the maximum |error|, exactly.
__device__ __forceinline__ void addSums(ThreadSums& s, float xv, float rv) {
    addSumsOnly(s, xv, rv);
    s.maxErr = fmax(s.maxErr, fabs(static_cast<double>(xv) - static_cast<double>(rv)));
}
// A pack's values and reconstructions, passed to packMaxExact.
template <int P> struct PackValues {
    float x[P], r[P];
};
// max(cur, the pack's exact max |x - r|). Out of line, so that the rare call is a branch around
// it, not double compares predicated on every value.
template <int P> __device__ __noinline__ double packMaxExact(PackValues<P> v, double cur) {
#pragma unroll
    for (int j = 0; j < P; ++j)
        cur = fmax(cur, fabs(static_cast<double>(v.x[j]) - static_cast<double>(v.r[j])));
    return cur;
}
// P values and their reconstructions: the sums, and the exact maximum |error| in double only when
// the pack's largest float |error| reaches maxF. The float difference is the exact one rounded,
// and rounding keeps order, so a value past the largest exact |error| met so far (by this lane,
// or by any lane whose maxF shareMaxF passed on) rounds to at least maxF.
template <int P>
__device__ __forceinline__ void addPackSums(ThreadSums& s, const PackValues<P>& v) {
    float packMax = 0.0f;
#pragma unroll
    for (int j = 0; j < P; ++j) {
        addSumsOnly(s, v.x[j], v.r[j]);
        packMax = fmaxf(packMax, fabsf(v.x[j] - v.r[j]));
    }
    if (packMax >= s.maxF) {
        s.maxF = packMax;
        s.maxErr = packMaxExact<P>(v, s.maxErr);
    }
}
// The warp's largest maxF to every lane (all 32 call it): a lane then looks at its values in
// double only where they reach what any lane of the warp has met, which soon is rare.
__device__ __forceinline__ void shareMaxF(ThreadSums& s) {
#pragma unroll
    for (int off = 16; off > 0; off /= 2)
        s.maxF = fmaxf(s.maxF, __shfl_xor_sync(0xFFFFFFFFu, s.maxF, off));
}

// Where pass 1 counts: a column per lane (bin * 32 + lane: a warp's atomics never share a bank),
// a copy per warp, one per block (all in shared memory), or the global histogram. Each shared copy
// has one bin more than asked (index `bins`): the unrolled loops count a value they cannot place
// for certain there, so that they count every value without a branch, and place it again later.
enum class HistMode { PerLane, PerWarp, PerBlock, Global };

inline HistMode histModeFor(int bins) {
    const long long bytes = static_cast<long long>(bins + 1) * 4;
    return bytes * 32 <= kSharedHistBytes       ? HistMode::PerLane
           : bytes * kWarps <= kSharedHistBytes ? HistMode::PerWarp
           : bytes <= kSharedHistBytes          ? HistMode::PerBlock
                                                : HistMode::Global;
}
inline size_t histSharedBytes(HistMode mode, int bins) {
    const size_t bytes = static_cast<size_t>(bins + 1) * 4;
    return mode == HistMode::PerLane    ? bytes * 32
           : mode == HistMode::PerWarp  ? bytes * kWarps
           : mode == HistMode::PerBlock ? bytes
                                        : 0;
}

// Pass 1's range [-m, m], read on the device from pass 0's totals (no trip to the host between
// the passes): m = max |error| (1e-12 when there is none), bins / 2m per unit, as the host's
// computeDifferenceHistogram. The float forms serve the fast path of binOf.
struct BinRange {
    double m = 0, perUnit = 0;
    float pf = 0, mpf = 0, eps = 0;
    unsigned last = 0;
    int zeroBin = 0; // the bin of e = 0 exactly (MX and FP leave many errors exactly 0)
};

__device__ __forceinline__ BinRange binRange(const Totals* t, int bins) {
    BinRange r;
    const double maxErr = __longlong_as_double(static_cast<long long>(t->maxAbsBits));
    r.m = maxErr > 0 ? maxErr : 1e-12;
    r.perUnit = static_cast<double>(bins) / (r.m - -r.m);
    r.pf = static_cast<float>(r.perUnit);
    r.mpf = static_cast<float>(r.m * r.perUnit);
    // The float position below is within 2.5 * 2^-24 * bins of the double one; a twelvefold
    // margin decides which values take the exact path.
    r.eps = static_cast<float>(bins) * (1.0f / 524288.0f);
    r.last = static_cast<unsigned>(bins - 1);
    const long long z = static_cast<long long>((0.0 + r.m) * r.perUnit);
    r.zeroBin = z < bins - 1 ? static_cast<int>(z) : bins - 1;
    return r;
}

// The bin of e = x - r: floor((e + m) * perUnit) in double, the last bin taking e = m, exactly as
// computeDifferenceHistogram. In float first (a few adds, no conversion unit); only values within
// eps of a bin edge, or outside the bins, are placed again in double (binOfExact).
// fastBin: the float placement; true when `bin` is certain (e = 0 has its bin precomputed).
// Branch-free (the flags combine as integers).
__device__ __forceinline__ bool fastBin(float xv, float rv, const BinRange& b, int& bin) {
    const float u = __fmaf_rn(xv - rv, b.pf, b.mpf);
    const float s = __fadd_rd(u, 8388608.0f); // 2^23 + floor(u) for 0 <= u < 2^23
    const float frac = u - (s - 8388608.0f);
    const unsigned i = static_cast<unsigned>(__float_as_int(s) - 0x4B000000);
    const unsigned zero = xv == rv ? 1u : 0u;
    const unsigned inside = (fabsf(frac - 0.5f) < 0.5f - b.eps ? 1u : 0u) & (i <= b.last ? 1u : 0u);
    bin = zero ? b.zeroBin : static_cast<int>(i);
    return (zero | inside) != 0u;
}
__device__ __forceinline__ int binOfExact(float xv, float rv, const BinRange& b) {
    const double e = static_cast<double>(xv) - static_cast<double>(rv);
    const double pos = (e + b.m) * b.perUnit;
    if (!(pos >= 0)) // NaN never reaches here (such tensors stop after pass 0); kept in range
        return 0;
    const long long k = static_cast<long long>(pos);
    return k < static_cast<long long>(b.last) ? static_cast<int>(k) : static_cast<int>(b.last);
}
__device__ __forceinline__ int binOf(float xv, float rv, const BinRange& b) {
    int bin;
    return fastBin(xv, rv, b, bin) ? bin : binOfExact(xv, rv, b);
}

// Whether pass 0 met NaN/Inf: its sum of x^2 is then not finite (for finite inputs it is at most
// 2^256 per element in double), or a kernel flagged it.
__device__ __forceinline__ bool sawNonFinite(const Totals* t) {
    return t->nonFinite || !isfinite(t->sr);
}

// One added to the 32-bit counter at a shared-memory address (a reduction: no value returned).
__device__ __forceinline__ void addShared(unsigned int address) {
    asm volatile("red.shared.add.u32 [%0], 1;" ::"r"(address) : "memory");
}

// A block's pass-1 histogram in shared memory (or the global one).
struct BlockHist {
    unsigned int* shared = nullptr; // null: count into the global histogram
    int stride = 1, offset = 0;     // shared[bin * stride + offset]
    unsigned int base = 0, step = 4; // the same as a shared-window address: base + bin * step
    unsigned long long* global = nullptr;

    __device__ __forceinline__ void count(int bin) const {
        if (shared)
            countShared(bin);
        else
            atomicAdd(&global[bin], 1ull);
    }
    // shared != nullptr; bin may be the spare bin (index bins).
    __device__ __forceinline__ void countShared(int bin) const {
        addShared(base + static_cast<unsigned int>(bin) * step);
    }
};

// The number of counters a shared copy spans: the bins and the spare one.
__device__ __forceinline__ int copyStride(int bins) {
    return bins + 1;
}

// Zeroes the block's shared histogram; every thread calls it, a __syncthreads must follow.
__device__ __forceinline__ BlockHist startBlockHist(unsigned int* smem, HistMode mode, int bins,
                                                    unsigned long long* global) {
    BlockHist h;
    h.global = global;
    if (mode == HistMode::Global)
        return h;
    const int copies = mode == HistMode::PerLane ? 32 : mode == HistMode::PerWarp ? kWarps : 1;
    for (int i = threadIdx.x; i < copyStride(bins) * copies; i += kThreads)
        smem[i] = 0;
    h.shared = smem;
    if (mode == HistMode::PerLane) {
        h.stride = 32;
        h.offset = threadIdx.x % 32;
    } else if (mode == HistMode::PerWarp) {
        h.offset = (threadIdx.x / 32) * copyStride(bins);
    }
    h.base = static_cast<unsigned int>(__cvta_generic_to_shared(smem + h.offset));
    h.step = static_cast<unsigned int>(h.stride) * 4u;
    return h;
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

// Pass 1's start in a block: false when pass 0 met NaN/Inf (the host declines the tensor, nothing
// to count; the kernel returns, all its threads alike), else the range and the zeroed shared
// histogram. A __syncthreads must follow.
__device__ __forceinline__ bool beginBinning(const GroupArgs& a, unsigned int* smem, HistMode mode,
                                             BinRange& range, BlockHist& bins) {
    if (sawNonFinite(a.totals))
        return false;
    range = binRange(a.totals, a.bins);
    bins = startBlockHist(smem, mode, a.bins, a.hist);
    return true;
}

// Adds the block's shared histogram to the global one. Every thread calls it.
__device__ __forceinline__ void flushBlockHist(const unsigned int* hist, HistMode mode, int bins,
                                               unsigned long long* out) {
    if (mode == HistMode::Global)
        return;
    __syncthreads();
    if (mode == HistMode::PerLane) { // a warp per bin: lane j reads column j, then a warp sum
        const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
        for (int b = warp; b < bins; b += kWarps) {
            const unsigned long long c = warpSumU(hist[b * 32 + lane]);
            if (lane == 0 && c)
                atomicAdd(&out[b], c);
        }
        return;
    }
    const int copies = mode == HistMode::PerWarp ? kWarps : 1;
    for (int i = threadIdx.x; i < bins; i += kThreads) {
        unsigned long long c = 0;
        for (int w = 0; w < copies; ++w)
            c += hist[w * copyStride(bins) + i];
        if (c)
            atomicAdd(&out[i], c);
    }
}

} // namespace
} // namespace qs::cuda
