#include "cuda/cuda_kernels.h"
#include "cuda/device_sinq.h"
#include "cuda/kernel_common.cuh"

namespace qs::cuda {
namespace {

// SINQ (methods/sinq.cpp) on the device, every tile at once, with the CPU's arithmetic
// (cuda/device_sinq.h): a row's or a column's deviation is one thread's sum in order, as the
// CPU adds it; a tile's decisions (keep the scaling or freeze it, the next log-scales) one block.
// The normalised values are never stored: (x / mu1[col]) / mu2[row] is computed where read.

__device__ __forceinline__ long long tileOf(const SinqArgs& a, long long r, long long tc) {
    return (r / a.th) * a.colTiles + tc;
}

template <class In> __device__ __forceinline__ const In* input(const SinqArgs& a) {
    return static_cast<const In*>(a.x);
}

__global__ void __launch_bounds__(kThreads) sinqInitKernel(SinqArgs a) {
    const long long stride = static_cast<long long>(gridDim.x) * kThreads;
    const long long first = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x;
    for (long long k = first; k < a.rowTiles * a.cols; k += stride) {
        a.logMu1[k] = 0.0f;
        a.mu1[k] = 1.0f; // exp(0)
        a.colScale[k] = 1.0f;
    }
    for (long long k = first; k < a.rows * a.colTiles; k += stride) {
        a.logMu2[k] = 0.0f;
        a.mu2[k] = 1.0f;
        a.rowScale[k] = 1.0f;
    }
    for (long long t = first; t < a.rowTiles * a.colTiles; t += stride)
        a.tiles[t] = dev::SinqTileState{0.0, 0.0, 0.0f, 0};
}

// The deviation of each row of each tile (rs[row * colTiles + tile column]) of the current
// normalised values, skipping frozen tiles and tiles without deviations.
template <class In> __global__ void __launch_bounds__(kThreads) sinqRowStdKernel(SinqArgs a) {
    for (long long k = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x;
         k < a.rows * a.colTiles; k += static_cast<long long>(gridDim.x) * kThreads) {
        const long long r = k / a.colTiles, tc = k % a.colTiles, t = tileOf(a, r, tc);
        const dev::SinqTileGeom g = dev::sinqTile(t, a.rows, a.cols, a.th, a.tw, a.colTiles);
        if (g.h < 2 || g.w < 2 || a.tiles[t].frozen)
            continue;
        const In* x = input<In>(a) + r * a.cols + g.c0;
        const float* mu1 = a.mu1 + g.tr * a.cols + g.c0;
        const float mu2 = a.mu2[k];
        a.rs[k] = dev::sinqStdDev([&](long long j) { return loadOne(x + j) / mu1[j] / mu2; }, g.w);
    }
}

// The deviation of each column of each tile (cs[tile row * cols + col]).
template <class In> __global__ void __launch_bounds__(kThreads) sinqColStdKernel(SinqArgs a) {
    for (long long k = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x;
         k < a.rowTiles * a.cols; k += static_cast<long long>(gridDim.x) * kThreads) {
        const long long tr = k / a.cols, c = k % a.cols, tc = c / a.tw;
        const long long t = tr * a.colTiles + tc;
        const dev::SinqTileGeom g = dev::sinqTile(t, a.rows, a.cols, a.th, a.tw, a.colTiles);
        if (g.h < 2 || g.w < 2 || a.tiles[t].frozen)
            continue;
        const In* x = input<In>(a) + g.r0 * a.cols + c;
        const float mu1 = a.mu1[k];
        const float* mu2 = a.mu2 + g.r0 * a.colTiles + tc;
        a.cs[k] = dev::sinqStdDev(
            [&](long long i) { return loadOne(x + i * a.cols) / mu1 / mu2[i * a.colTiles]; }, g.h);
    }
}

__device__ __forceinline__ double blockMax(double v, double* shared) {
    for (int off = 16; off > 0; off /= 2) {
        const double o = __shfl_xor_sync(0xFFFFFFFFu, v, off);
        v = v < o ? o : v;
    }
    if (threadIdx.x % 32 == 0)
        shared[threadIdx.x / 32] = v;
    __syncthreads();
    double r = shared[0];
    for (int w = 1; w < kWarps; ++w)
        r = r < shared[w] ? shared[w] : r;
    __syncthreads();
    return r;
}

// A tile's round, one block per tile: its imbalance from the deviations just computed (max over
// min of all of them); on the first round the target and the imbalance before; then, as
// sinkhornNormalize, freeze the tile if the imbalance rose, else keep the scales that gave it and
// step the log-scales (and their exponentials for the next round).
__global__ void __launch_bounds__(kThreads) sinqTileKernel(SinqArgs a, bool first, bool step) {
    __shared__ double red[kWarps];
    const double inf = __longlong_as_double(0x7FF0000000000000LL);
    for (long long t = blockIdx.x; t < a.rowTiles * a.colTiles; t += gridDim.x) {
        const dev::SinqTileGeom g = dev::sinqTile(t, a.rows, a.cols, a.th, a.tw, a.colTiles);
        dev::SinqTileState& st = a.tiles[t];
        if (g.h < 2 || g.w < 2) { // no deviations: matrixImbalance is NaN, the scales stay 1
            if (first && threadIdx.x == 0)
                st.before = st.best = __longlong_as_double(0x7FF8000000000000LL);
            continue;
        }
        if (!first && st.frozen)
            continue;
        double hi = -inf, lo = inf, minR = 1e300, minC = 1e300;
        for (long long i = threadIdx.x; i < g.h; i += kThreads) {
            const double v = a.rs[(g.r0 + i) * a.colTiles + g.tc];
            hi = hi < v ? v : hi;
            lo = v < lo ? v : lo;
            const double c = dev::sinqClampStd(v);
            minR = c < minR ? c : minR;
        }
        for (long long j = threadIdx.x; j < g.w; j += kThreads) {
            const double v = a.cs[g.tr * a.cols + g.c0 + j];
            hi = hi < v ? v : hi;
            lo = v < lo ? v : lo;
            const double c = dev::sinqClampStd(v);
            minC = c < minC ? c : minC;
        }
        hi = blockMax(hi, red);
        lo = -blockMax(-lo, red);
        minR = -blockMax(-minR, red);
        minC = -blockMax(-minC, red);
        const double imb = hi / (lo < 1e-12 ? 1e-12 : lo);
        double best = st.best;
        float tgt = st.tgt;
        if (first) {
            tgt = static_cast<float>((minC < minR ? minC : minR) + 1e-6);
            best = imb;
        }
        __syncthreads(); // every thread has read the state before thread 0 writes it
        if (first && threadIdx.x == 0) {
            st.tgt = tgt;
            st.before = imb;
            st.best = imb;
        }
        if (!step)
            continue;
        if (imb > best) { // the original's gate: the scaling is frozen for good
            if (threadIdx.x == 0)
                st.frozen = 1;
            continue;
        }
        if (threadIdx.x == 0)
            st.best = imb;
        for (long long j = threadIdx.x; j < g.w; j += kThreads) {
            const long long k = g.tr * a.cols + g.c0 + j;
            a.colScale[k] = a.mu1[k];
            a.logMu1[k] = dev::sinqStepLog(a.logMu1[k], a.cs[k], tgt);
            a.mu1[k] = dev::sinqExp(a.logMu1[k]);
        }
        for (long long i = threadIdx.x; i < g.h; i += kThreads) {
            const long long k = (g.r0 + i) * a.colTiles + g.tc;
            a.rowScale[k] = a.mu2[k];
            a.logMu2[k] = dev::sinqStepLog(a.logMu2[k], a.rs[k], tgt);
            a.mu2[k] = dev::sinqExp(a.logMu2[k]);
        }
    }
}

// Each group (a row of a tile) of the normalised weight quantized on the grid, its fp16 s1 and
// z stored, the reconstruction (q - z) * s1 * s2 written, the widest group (largest s1) noted.
template <class In> __global__ void __launch_bounds__(kThreads) sinqQuantKernel(SinqArgs a) {
    unsigned long long key = 0;
    for (long long k = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x;
         k < a.rows * a.colTiles; k += static_cast<long long>(gridDim.x) * kThreads) {
        const long long r = k / a.colTiles, tc = k % a.colTiles, t = tileOf(a, r, tc);
        const dev::SinqTileGeom g = dev::sinqTile(t, a.rows, a.cols, a.th, a.tw, a.colTiles);
        const In* x = input<In>(a) + r * a.cols + g.c0;
        const float* s2 = a.colScale + g.tr * a.cols + g.c0;
        const float rowScale = a.rowScale[k];
        float* out = a.rec + r * a.cols + g.c0;
        const dev::SinqRowQuant q = dev::sinqQuantizeRow(
            a.grid, a.bits, a.codebook, a.count,
            [&](long long j) { return loadOne(x + j) / s2[j] / rowScale; }, g.w,
            [&](long long j, float v) { out[j] = v; });
        const float s1 = dev::toStoredHalf(q.scale * rowScale), z = dev::toStoredHalf(q.zero);
        a.s1[k] = s1;
        a.z[k] = z;
        for (long long j = 0; j < g.w; ++j)
            out[j] = (out[j] - z) * s1 * dev::toStoredHalf(s2[j]);
        const unsigned long long mine = dev::widestKey(s1, static_cast<std::uint32_t>(k));
        key = mine > key ? mine : key;
    }
    key = warpMaxU(key);
    if (threadIdx.x % 32 == 0 && key)
        atomicMax(a.widestKey, key);
}

// The deviation of every whole row and column of the weight (normalised: each value divided by
// its tile's scales) for the matrix imbalance.
template <class In>
__global__ void __launch_bounds__(kThreads) sinqFullStdKernel(SinqArgs a, bool normalised) {
    const In* x0 = input<In>(a);
    for (long long k = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x;
         k < a.rows + a.cols; k += static_cast<long long>(gridDim.x) * kThreads) {
        auto value = [&](long long r, long long c) {
            const float v = loadOne(x0 + r * a.cols + c);
            if (!normalised)
                return v;
            const long long tc = c / a.tw;
            return v / a.colScale[(r / a.th) * a.cols + c] / a.rowScale[r * a.colTiles + tc];
        };
        if (k < a.rows)
            a.fullRowStd[k] = dev::sinqStdDev([&](long long c) { return value(k, c); }, a.cols);
        else
            a.fullColStd[k - a.rows] =
                dev::sinqStdDev([&](long long r) { return value(r, k - a.rows); }, a.rows);
    }
}

// The analysis passes over a reconstruction already on the device: pass 0 the error sums (and
// the NaN/Inf check through the sum of x^2), pass 1 the error histogram over pass 0's range.
template <class In, bool Bin>
__global__ void __launch_bounds__(kThreads)
    givenKernel(const In* x, const float* rec, long long n, GroupArgs a, HistMode mode) {
    extern __shared__ unsigned int hist[];
    BinRange range;
    BlockHist bins;
    if constexpr (Bin)
        if (!beginBinning(a, hist, mode, range, bins))
            return;
    __syncthreads();
    ThreadSums sums;
    for (long long i = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * kThreads) {
        const float xv = loadOne(x + i), rv = rec[i];
        if constexpr (Bin)
            bins.count(binOf(xv, rv, range));
        else
            addSums(sums, xv, rv);
    }
    if constexpr (Bin)
        flushBlockHist(hist, mode, a.bins, a.hist);
    else
        addBlockTotals(a.totals, sums, 0, 0, 0, 0);
}

template <class In>
cudaError_t launchGivenTyped(const void* x, const float* rec, long long n, const GroupArgs& a,
                             int pass, int smCount, cudaStream_t stream) {
    const HistMode mode = histModeFor(a.bins);
    const int grid = gridFor(n, kThreads * 8LL, smCount);
    const In* in = static_cast<const In*>(x);
    if (pass == 1)
        givenKernel<In, true>
            <<<grid, kThreads, histSharedBytes(mode, a.bins), stream>>>(in, rec, n, a, mode);
    else
        givenKernel<In, false><<<grid, kThreads, 0, stream>>>(in, rec, n, a, mode);
    return cudaGetLastError();
}

} // namespace

cudaError_t launchSinqInit(const SinqArgs& a, int smCount, cudaStream_t stream) {
    const long long work =
        a.rowTiles * a.cols > a.rows * a.colTiles ? a.rowTiles * a.cols : a.rows * a.colTiles;
    sinqInitKernel<<<gridFor(work, kThreads, smCount), kThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

cudaError_t launchSinqRound(const SinqArgs& a, bool first, bool step, int smCount,
                            cudaStream_t stream) {
    const int rowGrid = gridFor(a.rows * a.colTiles, kThreads, smCount);
    const int colGrid = gridFor(a.rowTiles * a.cols, kThreads, smCount);
    switch (a.type) {
    case InType::F32:
        sinqRowStdKernel<float><<<rowGrid, kThreads, 0, stream>>>(a);
        sinqColStdKernel<float><<<colGrid, kThreads, 0, stream>>>(a);
        break;
    case InType::BF16:
        sinqRowStdKernel<Bf16><<<rowGrid, kThreads, 0, stream>>>(a);
        sinqColStdKernel<Bf16><<<colGrid, kThreads, 0, stream>>>(a);
        break;
    case InType::F16:
        sinqRowStdKernel<F16><<<rowGrid, kThreads, 0, stream>>>(a);
        sinqColStdKernel<F16><<<colGrid, kThreads, 0, stream>>>(a);
        break;
    }
    const long long tiles = a.rowTiles * a.colTiles;
    const long long cap = smCount > 0 ? smCount * 8LL : 8LL;
    const int tileGrid = static_cast<int>(tiles < 1 ? 1 : tiles < cap ? tiles : cap);
    sinqTileKernel<<<tileGrid, kThreads, 0, stream>>>(a, first, step);
    return cudaGetLastError();
}

cudaError_t launchSinqQuantize(const SinqArgs& a, int smCount, cudaStream_t stream) {
    const int grid = gridFor(a.rows * a.colTiles, kThreads, smCount);
    const int fullGrid = gridFor(a.rows + a.cols, kThreads, smCount);
    switch (a.type) {
    case InType::F32:
        sinqQuantKernel<float><<<grid, kThreads, 0, stream>>>(a);
        sinqFullStdKernel<float><<<fullGrid, kThreads, 0, stream>>>(a, true);
        break;
    case InType::BF16:
        sinqQuantKernel<Bf16><<<grid, kThreads, 0, stream>>>(a);
        sinqFullStdKernel<Bf16><<<fullGrid, kThreads, 0, stream>>>(a, true);
        break;
    case InType::F16:
        sinqQuantKernel<F16><<<grid, kThreads, 0, stream>>>(a);
        sinqFullStdKernel<F16><<<fullGrid, kThreads, 0, stream>>>(a, true);
        break;
    }
    return cudaGetLastError();
}

cudaError_t launchSinqRawStd(const SinqArgs& a, int smCount, cudaStream_t stream) {
    const int fullGrid = gridFor(a.rows + a.cols, kThreads, smCount);
    switch (a.type) {
    case InType::F32:
        sinqFullStdKernel<float><<<fullGrid, kThreads, 0, stream>>>(a, false);
        break;
    case InType::BF16:
        sinqFullStdKernel<Bf16><<<fullGrid, kThreads, 0, stream>>>(a, false);
        break;
    case InType::F16:
        sinqFullStdKernel<F16><<<fullGrid, kThreads, 0, stream>>>(a, false);
        break;
    }
    return cudaGetLastError();
}

cudaError_t launchGiven(const void* x, InType type, const float* rec, long long n,
                        const GroupArgs& a, int pass, int smCount, cudaStream_t stream) {
    switch (type) {
    case InType::F32:
        return launchGivenTyped<float>(x, rec, n, a, pass, smCount, stream);
    case InType::BF16:
        return launchGivenTyped<Bf16>(x, rec, n, a, pass, smCount, stream);
    case InType::F16:
        return launchGivenTyped<F16>(x, rec, n, a, pass, smCount, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace qs::cuda
