#include "cuda/cuda_kernels.h"
#include "cuda/kernel_common.cuh"

namespace qs::cuda {
namespace {

// One thread per block (a super-block of 256 values; IQ4_NL: 32) along the rows: its scale
// search is sequential by nature (ggml's order decides ties), and the 2^19 super-blocks of a
// 16384 x 8192 tensor are ample parallelism. The values sit in the thread's local memory
// (16-byte loads, L1-cached), the block is quantized (cuda/device_kquants.h), then each value's
// reconstruction feeds the sums (pass 0) or the histogram (pass 1, the search run again).
template <class In, int P, bool Bin>
__global__ void __launch_bounds__(kThreads)
    kquantKernel(dev::KFam fam, GroupArgs a, HistMode mode) {
    extern __shared__ unsigned int hist[];
    BinRange range;
    BlockHist bins;
    if constexpr (Bin)
        if (!beginBinning(a, hist, mode, range, bins))
            return;
    __syncthreads();
    const long long perRow = a.groupsPerRow, blocks = a.rows * perRow;
    const int subs = fam.subBlocks(), size = fam.blockSize();
    ThreadSums sums;
    unsigned long long key = 0;
    for (long long sb = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x; sb < blocks;
         sb += static_cast<long long>(gridDim.x) * kThreads) {
        const long long r = sb / perRow, c0 = (sb % perRow) * size;
        const In* xs = static_cast<const In*>(a.x) + r * a.cols + c0;
        float x[dev::kSuperBlock];
        float z = 0.0f;
        for (int k = 0; k < size; k += P) {
            loadPack<In, P>(xs + k, x + k);
#pragma unroll
            for (int j = 0; j < P; ++j)
                z += x[k + j] - x[k + j];
        }
        if (!(z == 0.0f)) { // NaN or Inf: the engine leaves such a tensor to the CPU
            atomicOr(&a.totals->nonFinite, 1);
            continue;
        }
        dev::KBlock b;
        fam.quantize(x, b);
        for (int k = 0; k < size; ++k) {
            const float rv = fam.rec(b, k);
            if constexpr (Bin) {
                bins.count(binOf(x[k], rv, range));
            } else {
                addSums(sums, x[k], rv);
                if (a.rec)
                    a.rec[r * a.cols + c0 + k] = rv;
            }
        }
        if constexpr (Bin)
            continue;
        const long long first = (a.rowOffset * perRow + sb) * subs;
        for (int j = 0; j < subs; ++j) {
            const float step = fabsf(b.step[j]);
            if (step == step) {
                const unsigned long long k =
                    dev::widestKey(step, static_cast<std::uint32_t>(first + j));
                key = k > key ? k : key;
            }
        }
    }
    if constexpr (Bin)
        flushBlockHist(hist, mode, a.bins, a.hist);
    else
        addBlockTotals(a.totals, sums, key, 0, 0, 0);
}

template <class In, int P>
cudaError_t launchTyped(const dev::KFam& fam, const GroupArgs& a, int pass, int smCount,
                        cudaStream_t stream) {
    const HistMode mode = histModeFor(a.bins);
    const int grid = gridFor(a.rows * a.groupsPerRow, kThreads, smCount);
    if (pass == 1)
        kquantKernel<In, P, true>
            <<<grid, kThreads, histSharedBytes(mode, a.bins), stream>>>(fam, a, mode);
    else
        kquantKernel<In, P, false><<<grid, kThreads, 0, stream>>>(fam, a, mode);
    return cudaGetLastError();
}

} // namespace

cudaError_t launchKQuants(const dev::KFam& fam, const GroupArgs& a, int pass, int smCount,
                          cudaStream_t stream) {
    // Rows of whole blocks (of 32 values at least): 16-byte loads wherever the chunk's base is
    // aligned.
    const bool aligned = reinterpret_cast<unsigned long long>(a.x) % 16 == 0;
    switch (a.type) {
    case InType::F32:
        return aligned ? launchTyped<float, 4>(fam, a, pass, smCount, stream)
                       : launchTyped<float, 1>(fam, a, pass, smCount, stream);
    case InType::BF16:
        return aligned ? launchTyped<Bf16, 8>(fam, a, pass, smCount, stream)
                       : launchTyped<Bf16, 1>(fam, a, pass, smCount, stream);
    case InType::F16:
        return aligned ? launchTyped<F16, 8>(fam, a, pass, smCount, stream)
                       : launchTyped<F16, 1>(fam, a, pass, smCount, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace qs::cuda
