#include "cuda/cuda_kernels.h"
#include "cuda/kernel_common.cuh"

#include <type_traits>

namespace qs::cuda {
namespace {

constexpr int kMaxRegs = 16; // elements a lane keeps in registers between the two loops
constexpr int kTableFloats = 2 * dev::kMaxLevels;

struct Layout {
    int lanes;     // lanes per group (a power of two, 1..32)
    bool inRegs;   // a lane's share of a group fits kMaxRegs
    bool histShared, histPerWarp;
};

template <class F, class In, int P>
__global__ void __launch_bounds__(kThreads)
    groupKernel(F fam, GroupArgs a, Layout lay, int pass) {
    extern __shared__ float smem[];
    if constexpr (std::is_same_v<F, dev::NfFam>) { // the codebook in shared memory
        float* lv = smem;
        float* md = smem + dev::kMaxLevels;
        for (int i = threadIdx.x; i < fam.count; i += kThreads)
            lv[i] = fam.levels[i];
        for (int i = threadIdx.x; i + 1 < fam.count; i += kThreads)
            md[i] = fam.midpoints[i];
        fam.levels = lv;
        fam.midpoints = md;
    }
    unsigned int* hist = reinterpret_cast<unsigned int*>(smem + kTableFloats);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const bool binning = pass == 1;
    if (binning && lay.histShared)
        for (int i = threadIdx.x; i < a.bins * (lay.histPerWarp ? kWarps : 1); i += kThreads)
            hist[i] = 0;
    __syncthreads();
    unsigned int* myHist = hist + (lay.histPerWarp ? warp * a.bins : 0);

    const int lanes = lay.lanes, li = lane % lanes, sub = lane / lanes;
    const int groupsPerWarp = 32 / lanes;
    const long long groups = a.rows * a.groupsPerRow;
    const long long warpStride = static_cast<long long>(gridDim.x) * kWarps * groupsPerWarp;
    const In* x0 = static_cast<const In*>(a.x);

    ThreadSums sums;
    unsigned long long sat = 0, flushed = 0, nanBlocks = 0, key = 0;

    for (long long base = (static_cast<long long>(blockIdx.x) * kWarps + warp) * groupsPerWarp;
         base < groups; base += warpStride) {
        const long long gi = base + sub;
        const bool active = gi < groups;
        long long r = 0, c0 = 0;
        int n = 0;
        if (active) {
            r = gi / a.groupsPerRow;
            c0 = (gi % a.groupsPerRow) * a.groupCols;
            n = static_cast<int>(a.cols - c0 < a.groupCols ? a.cols - c0 : a.groupCols);
        }
        const In* xg = x0 + r * a.cols + c0;
        const int packs = (n + P - 1) / P;

        // The group's min and max (and whether it holds NaN/Inf: x - x is then NaN).
        float v[kMaxRegs];
        float mn = __int_as_float(0x7F800000), mx = -mn, z = 0.0f;
        if (lay.inRegs) {
#pragma unroll
            for (int k = 0; k < kMaxRegs / P; ++k) {
                const int pk = k * lanes + li;
                if (pk < packs) {
                    loadPack<In, P>(xg + pk * P, v + k * P);
#pragma unroll
                    for (int j = 0; j < P; ++j) {
                        const float t = v[k * P + j];
                        mn = fminf(mn, t);
                        mx = fmaxf(mx, t);
                        z += t - t;
                    }
                }
            }
        } else {
            for (int pk = li; pk < packs; pk += lanes) {
                float t[P];
                loadPack<In, P>(xg + pk * P, t);
#pragma unroll
                for (int j = 0; j < P; ++j) {
                    mn = fminf(mn, t[j]);
                    mx = fmaxf(mx, t[j]);
                    z += t[j] - t[j];
                }
            }
        }
        for (int off = lanes / 2; off > 0; off /= 2) {
            mn = fminf(mn, __shfl_xor_sync(0xFFFFFFFFu, mn, off));
            mx = fmaxf(mx, __shfl_xor_sync(0xFFFFFFFFu, mx, off));
            z += __shfl_xor_sync(0xFFFFFFFFu, z, off);
        }
        if (active && li == 0 && !(z == 0.0f))
            atomicOr(&a.totals->nonFinite, 1);
        if (a.wholeTensor) {
            mn = a.tmin;
            mx = a.tmax;
        }
        // f(value, index in the group) for this lane's elements of the group, in order: from
        // registers, or read again when the group is too long to keep.
        auto visit = [&](auto&& f) {
            if (lay.inRegs) {
#pragma unroll
                for (int k = 0; k < kMaxRegs / P; ++k) {
                    const int pk = k * lanes + li;
                    if (pk < packs) {
#pragma unroll
                        for (int j = 0; j < P; ++j)
                            if (pk * P + j < n)
                                f(v[k * P + j], pk * P + j);
                    }
                }
            } else {
                for (int pk = li; pk < packs; pk += lanes) {
                    float t[P];
                    loadPack<In, P>(xg + pk * P, t);
#pragma unroll
                    for (int j = 0; j < P; ++j)
                        if (pk * P + j < n)
                            f(t[j], pk * P + j);
                }
            }
        };
        // q4_0/q5_0 scale by the group's first element of largest magnitude.
        float signedMax = 0.0f;
        if constexpr (std::is_same_v<F, dev::LegacyFam>) {
            const float amax = fmaxf(fabsf(mn), fabsf(mx));
            int first = 0x7FFFFFFF;
            float value = 0.0f;
            auto consider = [&](float t, int idx) {
                if (fabsf(t) == amax && idx < first) {
                    first = idx;
                    value = t;
                }
            };
            visit(consider);
            for (int off = lanes / 2; off > 0; off /= 2) {
                const int otherFirst = __shfl_xor_sync(0xFFFFFFFFu, first, off);
                const float otherValue = __shfl_xor_sync(0xFFFFFFFFu, value, off);
                if (otherFirst < first) {
                    first = otherFirst;
                    value = otherValue;
                }
            }
            signedMax = amax == 0.0f ? 0.0f : value;
        }
        const auto p = [&] {
            if constexpr (std::is_same_v<F, dev::LegacyFam>)
                return fam.group(mn, mx, signedMax);
            else
                return fam.group(mn, mx);
        }();

        unsigned flags = 0;
        unsigned int* sharedHist = lay.histShared ? myHist : nullptr;
        auto each = [&](float xv, long long col) {
            const float rv = fam.rec(p, xv, flags);
            addOrBin(a, binning, sharedHist, xv, rv, sums);
            if (!binning && a.rec)
                a.rec[r * a.cols + col] = rv;
        };
        visit([&](float xv, int k) { each(xv, c0 + k); });
        if (binning)
            continue;
        for (int off = lanes / 2; off > 0; off /= 2)
            flags |= __shfl_xor_sync(0xFFFFFFFFu, flags, off);
        if (active && li == 0) {
            if (p.key == p.key) {
                const long long index = std::is_same_v<F, dev::MxFam>
                                            ? a.rowOffset + r
                                            : a.rowOffset * a.groupsPerRow + gi;
                const unsigned long long k =
                    dev::widestKey(p.key, static_cast<std::uint32_t>(index));
                key = k > key ? k : key;
            }
            if constexpr (std::is_same_v<F, dev::MxFam>) {
                const float amax = fmaxf(fabsf(mn), fabsf(mx));
                if (flags & dev::kNanBlock) {
                    ++nanBlocks;
                } else {
                    sat += (flags & dev::kSaturated) ? 1 : 0;
                    flushed += !(flags & dev::kNonZero) && amax > 0.0f ? 1 : 0;
                }
            }
        }
    }

    if (binning) {
        if (lay.histShared)
            flushBlockHist(hist, a.bins, lay.histPerWarp ? kWarps : 1, a.hist);
        return;
    }
    addBlockTotals(a.totals, sums, key, sat, flushed, nanBlocks);
}

template <class In>
__global__ void __launch_bounds__(kThreads)
    statsKernel(const In* x, long long n, Totals* totals) {
    __shared__ unsigned int lo[kWarps], hi[kWarps];
    __shared__ int bad[kWarps];
    float mn = __int_as_float(0x7F800000), mx = -mn, z = 0.0f;
    for (long long i = static_cast<long long>(blockIdx.x) * kThreads + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * kThreads) {
        const float t = loadOne(x + i);
        mn = fminf(mn, t);
        mx = fmaxf(mx, t);
        z += t - t;
    }
    for (int off = 16; off > 0; off /= 2) {
        mn = fminf(mn, __shfl_down_sync(0xFFFFFFFFu, mn, off));
        mx = fmaxf(mx, __shfl_down_sync(0xFFFFFFFFu, mx, off));
        z += __shfl_down_sync(0xFFFFFFFFu, z, off);
    }
    const int warp = threadIdx.x / 32;
    if (threadIdx.x % 32 == 0) {
        lo[warp] = orderedKey(mn);
        hi[warp] = orderedKey(mx);
        bad[warp] = !(z == 0.0f);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        unsigned int l = lo[0], h = hi[0];
        int b = bad[0];
        for (int w = 1; w < kWarps; ++w) {
            l = lo[w] < l ? lo[w] : l;
            h = hi[w] > h ? hi[w] : h;
            b |= bad[w];
        }
        atomicMin(&totals->tminKey, l);
        atomicMax(&totals->tmaxKey, h);
        if (b)
            atomicOr(&totals->nonFinite, 1);
    }
}

template <class F, class In, int P>
cudaError_t launchTyped(const F& fam, const GroupArgs& a, int pass, int smCount,
                        cudaStream_t stream) {
    Layout lay;
    const long long packsPerGroup = (a.groupCols + P - 1) / P;
    lay.lanes = 1;
    while (lay.lanes < 32 && lay.lanes < packsPerGroup)
        lay.lanes *= 2;
    lay.inRegs = (packsPerGroup + lay.lanes - 1) / lay.lanes * P <= kMaxRegs;
    const long long histBytes = static_cast<long long>(a.bins) * 4;
    lay.histShared = pass == 1 && histBytes <= kSharedHistBytes;
    lay.histPerWarp = lay.histShared && histBytes * kWarps <= kSharedHistBytes;
    const size_t shared = kTableFloats * sizeof(float) +
                          (lay.histShared ? static_cast<size_t>(histBytes) *
                                                (lay.histPerWarp ? kWarps : 1)
                                          : 0);
    const long long groups = a.rows * a.groupsPerRow;
    const int grid = gridFor(groups, static_cast<long long>(kWarps) * (32 / lay.lanes), smCount);
    groupKernel<F, In, P><<<grid, kThreads, shared, stream>>>(fam, a, lay, pass);
    return cudaGetLastError();
}

template <class F>
cudaError_t launchFam(const F& fam, const GroupArgs& a, int pass, int smCount,
                      cudaStream_t stream) {
    // 16-byte packs where every group and row starts on a pack (cudaMalloc aligns the base).
    const int pack = 16 / inBytes(a.type);
    const bool packed = a.groupCols % pack == 0 && a.cols % pack == 0 &&
                        reinterpret_cast<unsigned long long>(a.x) % 16 == 0;
    switch (a.type) {
    case InType::F32:
        return packed ? launchTyped<F, float, 4>(fam, a, pass, smCount, stream)
                      : launchTyped<F, float, 1>(fam, a, pass, smCount, stream);
    case InType::BF16:
        return packed ? launchTyped<F, Bf16, 8>(fam, a, pass, smCount, stream)
                      : launchTyped<F, Bf16, 1>(fam, a, pass, smCount, stream);
    case InType::F16:
        return packed ? launchTyped<F, F16, 8>(fam, a, pass, smCount, stream)
                      : launchTyped<F, F16, 1>(fam, a, pass, smCount, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace

cudaError_t launchTensorStats(const void* x, InType type, long long n, Totals* totals,
                              cudaStream_t stream) {
    int device = 0, sms = 1;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    const int grid = gridFor(n, kThreads * 4LL, sms);
    switch (type) {
    case InType::F32:
        statsKernel<<<grid, kThreads, 0, stream>>>(static_cast<const float*>(x), n, totals);
        break;
    case InType::BF16:
        statsKernel<<<grid, kThreads, 0, stream>>>(static_cast<const Bf16*>(x), n, totals);
        break;
    case InType::F16:
        statsKernel<<<grid, kThreads, 0, stream>>>(static_cast<const F16*>(x), n, totals);
        break;
    }
    return cudaGetLastError();
}

cudaError_t launchGroups(const FamArgs& f, const GroupArgs& a, int pass, int smCount,
                         cudaStream_t stream) {
    switch (f.fam) {
    case Fam::Int:
        return launchFam(f.intFam, a, pass, smCount, stream);
    case Fam::Nf:
        return launchFam(f.nfFam, a, pass, smCount, stream);
    case Fam::Compand:
        return launchFam(f.compandFam, a, pass, smCount, stream);
    case Fam::Fp:
        return launchFam(f.fpFam, a, pass, smCount, stream);
    case Fam::Mx:
        return launchFam(f.mxFam, a, pass, smCount, stream);
    case Fam::Q8_0:
        return launchFam(f.q8Fam, a, pass, smCount, stream);
    case Fam::Legacy:
        return launchFam(f.legacyFam, a, pass, smCount, stream);
    case Fam::KQuant:
        return launchKQuants(f.kFam, a, pass, smCount, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace qs::cuda
