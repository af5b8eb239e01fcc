#include "cuda/cuda_kernels.h"
#include "cuda/device_kmeans.h"
#include "cuda/kernel_common.cuh"

namespace qs::cuda {
namespace {

// kmeans (quant/kmeans_quant.cpp) on the device, one thread per group: its values sorted and
// fitted in the thread's slot of working memory (cuda/device_kmeans.h, the CPU's arithmetic),
// the code book stored in fp16, each value's reconstruction written, the widest group noted.
constexpr int kKmThreads = 64;

template <class In> __global__ void __launch_bounds__(kKmThreads) kmeansKernel(KmeansArgs a) {
    const long long slot = static_cast<long long>(blockIdx.x) * kKmThreads + threadIdx.x;
    dev::KmWork& w = a.work[slot];
    const long long groups = a.rows * a.groupsPerRow;
    unsigned long long key = 0;
    for (long long gi = slot; gi < groups; gi += static_cast<long long>(gridDim.x) * kKmThreads) {
        const long long r = gi / a.groupsPerRow, c0 = (gi % a.groupsPerRow) * a.groupCols;
        const int n = static_cast<int>(a.cols - c0 < a.groupCols ? a.cols - c0 : a.groupCols);
        const In* x = static_cast<const In*>(a.x) + r * a.cols + c0;
        for (int i = 0; i < n; ++i)
            w.x[i] = loadOne(x + i);
        dev::kmSortInto(w, n);
        const dev::KmFitResult f = dev::kmFit(w, a.k, a.maxIterations, a.relTolerance);
        float* book = a.books + gi * a.k;
        dev::kmStoredBook(f, a.k, book);
        float* out = a.rec + r * a.cols + c0;
        for (int i = 0; i < n; ++i)
            out[i] = dev::kmRec(book, a.k, loadOne(x + i));
        const unsigned long long mine =
            dev::widestKey(book[a.k - 1] - book[0], static_cast<std::uint32_t>(gi));
        key = mine > key ? mine : key;
    }
    key = warpMaxU(key);
    if (threadIdx.x % 32 == 0 && key)
        atomicMax(a.widestKey, key);
}

} // namespace

long long kmeansSlots(int smCount) {
    return static_cast<long long>(smCount > 0 ? smCount : 1) * 2 * kKmThreads;
}

cudaError_t launchKmeans(const KmeansArgs& a, int smCount, cudaStream_t stream) {
    const int blocks = static_cast<int>(kmeansSlots(smCount) / kKmThreads);
    switch (a.type) {
    case InType::F32:
        kmeansKernel<float><<<blocks, kKmThreads, 0, stream>>>(a);
        break;
    case InType::BF16:
        kmeansKernel<Bf16><<<blocks, kKmThreads, 0, stream>>>(a);
        break;
    case InType::F16:
        kmeansKernel<F16><<<blocks, kKmThreads, 0, stream>>>(a);
        break;
    }
    return cudaGetLastError();
}

} // namespace qs::cuda
