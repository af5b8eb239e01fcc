#include "cuda/cuda_kernels.h"
#include "cuda/device_hqq.h"
#include "cuda/kernel_common.cuh"

namespace qs::cuda {
namespace {

// HQQ's solver (methods/hqq.cpp) on the device, one thread per group: a group's zero-point is a
// mean over its values in their order (a double sum), so one thread adds them as the CPU does.
// Groups lie along rows, `groupCols` values each from x + group * groupCols (the engine covers
// layouts where the group size divides the row). Hundreds of thousands of groups in a large
// tensor keep the device busy; the values a thread reads are contiguous and stay in L1/L2 over
// its loop.

template <class In>
__global__ void __launch_bounds__(kThreads)
    hqqStartKernel(const In* x, long long groups, long long groupCols, int bits,
                   dev::HqqParams* params) {
    for (long long j = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x; j < groups;
         j += static_cast<long long>(gridDim.x) * kThreads) {
        const In* xg = x + j * groupCols;
        float lo = loadOne(xg), hi = lo;
        for (long long k = 1; k < groupCols; ++k) {
            const float v = loadOne(xg + k);
            lo = v < lo ? v : lo; // std::min(lo, v)
            hi = hi < v ? v : hi; // std::max(hi, v)
        }
        params[j] = dev::hqqStart(lo, hi, bits);
    }
}

template <class In>
__global__ void __launch_bounds__(kThreads)
    hqqStepKernel(const In* x, long long groups, long long groupCols, float maxq, float beta,
                  float lp, dev::HqqParams* params, double* absSum) {
    const dev::HqqStepSettings settings = dev::hqqStepSettings(maxq, beta, lp);
    double acc = 0;
    for (long long j = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x; j < groups;
         j += static_cast<long long>(gridDim.x) * kThreads) {
        const In* xg = x + j * groupCols;
        dev::HqqParams p = params[j];
        p.z =
            dev::hqqStep([&](long long k) { return loadOne(xg + k); }, groupCols, p, settings, acc);
        params[j] = p;
    }
    for (int off = 16; off > 0; off /= 2)
        acc += __shfl_xor_sync(0xFFFFFFFFu, acc, off);
    __shared__ double warpSums[kWarps];
    if (threadIdx.x % 32 == 0)
        warpSums[threadIdx.x / 32] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
        double block = 0;
        for (int w = 0; w < kWarps; ++w)
            block += warpSums[w];
        atomicAdd(absSum, block);
    }
}

__global__ void __launch_bounds__(kThreads)
    hqqStoreKernel(const dev::HqqParams* params, long long groups, dev::HqqStored* stored) {
    for (long long j = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x; j < groups;
         j += static_cast<long long>(gridDim.x) * kThreads)
        stored[j] = dev::hqqStored(params[j]);
}

int gridOver(long long groups, int smCount) {
    return gridFor(groups, kThreads, smCount);
}

} // namespace

cudaError_t launchHqqStart(const void* x, InType type, long long groups, long long groupCols,
                           int bits, dev::HqqParams* params, int smCount, cudaStream_t stream) {
    const int grid = gridOver(groups, smCount);
    switch (type) {
    case InType::F32:
        hqqStartKernel<<<grid, kThreads, 0, stream>>>(static_cast<const float*>(x), groups,
                                                      groupCols, bits, params);
        break;
    case InType::BF16:
        hqqStartKernel<<<grid, kThreads, 0, stream>>>(static_cast<const Bf16*>(x), groups,
                                                      groupCols, bits, params);
        break;
    case InType::F16:
        hqqStartKernel<<<grid, kThreads, 0, stream>>>(static_cast<const F16*>(x), groups, groupCols,
                                                      bits, params);
        break;
    }
    return cudaGetLastError();
}

cudaError_t launchHqqStep(const void* x, InType type, long long groups, long long groupCols,
                          float maxq, float beta, float lp, dev::HqqParams* params, double* absSum,
                          int smCount, cudaStream_t stream) {
    const int grid = gridOver(groups, smCount);
    switch (type) {
    case InType::F32:
        hqqStepKernel<<<grid, kThreads, 0, stream>>>(static_cast<const float*>(x), groups,
                                                     groupCols, maxq, beta, lp, params, absSum);
        break;
    case InType::BF16:
        hqqStepKernel<<<grid, kThreads, 0, stream>>>(static_cast<const Bf16*>(x), groups, groupCols,
                                                     maxq, beta, lp, params, absSum);
        break;
    case InType::F16:
        hqqStepKernel<<<grid, kThreads, 0, stream>>>(static_cast<const F16*>(x), groups, groupCols,
                                                     maxq, beta, lp, params, absSum);
        break;
    }
    return cudaGetLastError();
}

cudaError_t launchHqqStore(const dev::HqqParams* params, long long groups, dev::HqqStored* stored,
                           int smCount, cudaStream_t stream) {
    hqqStoreKernel<<<gridOver(groups, smCount), kThreads, 0, stream>>>(params, groups, stored);
    return cudaGetLastError();
}

} // namespace qs::cuda
