#include "cuda/cuda_kernels.h"
#include "cuda/kernel_common.cuh"

#include <type_traits>

namespace qs::cuda {
namespace {

// Elements a lane keeps in registers between reading a group and reconstructing it: a group
// gets the fewest lanes that hold it in this many (int4:g128 in bf16: 4 lanes of 32), so each
// lane's share of a group's set-up (its min/max reduction, its parameters) is small.
constexpr int kMaxRegs = 32;
// nf's levels, padded midpoints and bucket table in shared memory, ahead of the histogram.
constexpr int kTableFloats = dev::kMaxLevels + dev::kNfMidpoints + (dev::kNfBuckets + 4) / 4;

struct Layout {
    int lanes;   // lanes per group (a power of two, 1..32)
    bool inRegs; // a lane's share of a group fits kMaxRegs
    HistMode hist;
};

// Pass 0's end of a group: the lanes' flags combined; the group's lead lane notes its widest
// key and MX's block counts (saturated, flushed, NaN).
template <class F, class G>
__device__ __forceinline__ void
finishGroup(const F&, const G& p, unsigned flags, bool lead, int lanes, float mn, float mx,
            long long index, unsigned long long& key, unsigned long long& sat,
            unsigned long long& flushed, unsigned long long& nanBlocks) {
    for (int off = lanes / 2; off > 0; off /= 2)
        flags |= __shfl_xor_sync(0xFFFFFFFFu, flags, off);
    if (!lead)
        return;
    if (p.key == p.key) {
        const unsigned long long k = dev::widestKey(p.key, static_cast<std::uint32_t>(index));
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

// Pass 0 (Bin false): sums, flags, widest group, the reconstruction when asked. Pass 1 (Bin
// true): the same reconstruction binned over the range pass 0 found, read on the device.
// Every group is a whole number of packs (launchFam picks P so). The common case (the group in
// registers, no reconstruction kept, a divisor divRn takes) runs unrolled without a branch per
// element; the rest re-reads the group in a plain loop.
template <class F, class In, int P, bool Bin>
__global__ void __launch_bounds__(kThreads, Bin ? 3 : 2)
    groupKernel(F fam, GroupArgs a, Layout lay) {
    extern __shared__ float smem[];
    if constexpr (std::is_same_v<F, dev::NfFam>) { // the codebook in shared memory
        float* lv = smem;
        float* md = smem + dev::kMaxLevels;
        auto* bk = reinterpret_cast<unsigned char*>(md + dev::kNfMidpoints);
        for (int i = threadIdx.x; i < fam.count; i += kThreads)
            lv[i] = fam.levels[i];
        for (int i = threadIdx.x; i < fam.count + 1; i += kThreads)
            md[i] = fam.midpoints[i];
        for (int i = threadIdx.x; i <= dev::kNfBuckets; i += kThreads)
            bk[i] = fam.buckets[i];
        fam.levels = lv;
        fam.midpoints = md;
        fam.buckets = bk;
    }
    BinRange range;
    BlockHist bins;
    if constexpr (Bin)
        if (!beginBinning(a, reinterpret_cast<unsigned int*>(smem + kTableFloats), lay.hist, range,
                          bins))
            return;
    __syncthreads();

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int lanes = lay.lanes, li = lane % lanes, sub = lane / lanes;
    const int groupsPerWarp = 32 / lanes;
    const long long groups = a.rows * a.groupsPerRow;
    const long long warpStride = static_cast<long long>(gridDim.x) * kWarps * groupsPerWarp;
    const In* x0 = static_cast<const In*>(a.x);
    const bool keepRec = !Bin && a.rec != nullptr;
    // This lane's group gi as (row r, group g in the row), advanced by warpStride without a
    // division per step.
    const long long first = (static_cast<long long>(blockIdx.x) * kWarps + warp) * groupsPerWarp;
    long long gi = first + sub, r = gi / a.groupsPerRow, g = gi % a.groupsPerRow;
    const long long strideRows = warpStride / a.groupsPerRow;
    const long long strideGroups = warpStride % a.groupsPerRow;

    ThreadSums sums;
    unsigned long long sat = 0, flushed = 0, nanBlocks = 0, key = 0;

    // A group's values in the lane's registers: 2-byte inputs stay as read (16-byte packs,
    // decoded where used), and the next group's packs are read while this one is computed, so the
    // reads are in flight throughout (float inputs are decoded into v, read group by group).
    constexpr int K = kMaxRegs / P;
    constexpr bool kRaw = P > 1 && sizeof(In) == 2;
    uint4 raw[kRaw ? K : 1], rawNext[kRaw ? K : 1];
    float v[kRaw ? 1 : kMaxRegs] = {};
    auto value = [&](int k, int j) -> float {
        if constexpr (kRaw)
            return packedHalf<In>(raw[k], j);
        else
            return v[k * P + j];
    };
    // The packs of group (row rr, group gg in the row) this lane holds, into dst.
    auto readRaw = [&](uint4* dst, long long rr, long long gg, bool on) {
        const long long c = gg * a.groupCols;
        const int np = on ? static_cast<int>(a.cols - c < a.groupCols ? a.cols - c : a.groupCols) / P
                          : 0;
        const In* xs = x0 + rr * a.cols + c;
#pragma unroll
        for (int k = 0; k < K; ++k) {
            const int pk = k * lanes + li;
            if (pk < np)
                dst[k] = __ldg(reinterpret_cast<const uint4*>(xs + pk * P));
        }
    };
    if constexpr (kRaw)
        if (lay.inRegs)
            readRaw(raw, r, g, gi < groups);

    for (long long base = first; base < groups; base += warpStride) {
        const bool active = gi < groups;
        const long long c0 = g * a.groupCols;
        const int n =
            active ? static_cast<int>(a.cols - c0 < a.groupCols ? a.cols - c0 : a.groupCols) : 0;
        const In* xg = x0 + r * a.cols + c0;
        const int packs = n / P;
        // The next group of this lane (the loop's advance, below).
        long long rNext = r + strideRows, gNext = g + strideGroups;
        if (gNext >= a.groupsPerRow) {
            gNext -= a.groupsPerRow;
            ++rNext;
        }

        // The group's min and max (NaN/Inf shows in pass 0's sum of x^2: sawNonFinite).
        float mn = __int_as_float(0x7F800000), mx = -mn;
        auto extend = [&](float t) {
            mn = fminf(mn, t);
            mx = fmaxf(mx, t);
        };
        if (lay.inRegs) {
            if constexpr (kRaw)
                readRaw(rawNext, rNext, gNext, gi + warpStride < groups);
#pragma unroll
            for (int k = 0; k < K; ++k) {
                const int pk = k * lanes + li;
                if (pk < packs) {
                    if constexpr (!kRaw)
                        loadPack<In, P>(xg + pk * P, v + k * P);
#pragma unroll
                    for (int j = 0; j < P; ++j)
                        extend(value(k, j));
                }
            }
        } else {
            for (int pk = li; pk < packs; pk += lanes) {
                float t[P];
                loadPack<In, P>(xg + pk * P, t);
#pragma unroll
                for (int j = 0; j < P; ++j)
                    extend(t[j]);
            }
        }
        for (int off = lanes / 2; off > 0; off /= 2) {
            mn = fminf(mn, __shfl_xor_sync(0xFFFFFFFFu, mn, off));
            mx = fmaxf(mx, __shfl_xor_sync(0xFFFFFFFFu, mx, off));
        }
        if (a.wholeTensor) {
            mn = a.tmin;
            mx = a.tmax;
        }
        // f(value, index in the group) for this lane's elements of the group, in order: from
        // registers (unrolled), or read again.
        auto visitRegs = [&](auto&& f) {
#pragma unroll
            for (int k = 0; k < K; ++k) {
                const int pk = k * lanes + li;
                if (pk < packs) {
#pragma unroll
                    for (int j = 0; j < P; ++j)
                        f(value(k, j), pk * P + j);
                }
            }
        };
        auto visitMemory = [&](auto&& f) {
            for (int pk = li; pk < packs; pk += lanes) {
                float t[P];
                loadPack<In, P>(xg + pk * P, t);
#pragma unroll
                for (int j = 0; j < P; ++j)
                    f(t[j], pk * P + j);
            }
        };
        // q4_0/q5_0 scale by the group's first element of largest magnitude.
        float signedMax = 0.0f;
        if constexpr (std::is_same_v<F, dev::LegacyFam>) {
            const float amax = fmaxf(fabsf(mn), fabsf(mx));
            int firstIdx = 0x7FFFFFFF;
            float value = 0.0f;
            auto consider = [&](float t, int idx) {
                if (fabsf(t) == amax && idx < firstIdx) {
                    firstIdx = idx;
                    value = t;
                }
            };
            if (lay.inRegs)
                visitRegs(consider);
            else
                visitMemory(consider);
            for (int off = lanes / 2; off > 0; off /= 2) {
                const int otherFirst = __shfl_xor_sync(0xFFFFFFFFu, firstIdx, off);
                const float otherValue = __shfl_xor_sync(0xFFFFFFFFu, value, off);
                if (otherFirst < firstIdx) {
                    firstIdx = otherFirst;
                    value = otherValue;
                }
            }
            signedMax = amax == 0.0f ? 0.0f : value;
        }
        const auto p = [&] {
            if constexpr (std::is_same_v<F, dev::LegacyFam>)
                return fam.group(mn, mx, signedMax);
            else if constexpr (std::is_same_v<F, dev::HqqFam>) // the solver's parameters
                return fam.groupAt(active ? a.rowOffset * a.groupsPerRow + gi : 0);
            else
                return fam.group(mn, mx);
        }();

        unsigned flags = 0;
        if (lay.inRegs && !keepRec && !dev::dividesOf(fam, p) && (!Bin || bins.shared)) {
            if constexpr (Bin) {
                // Values near a bin edge are counted in the spare bin, noted (bit k * P + j) and
                // placed exactly afterwards, so the unrolled loop has no branch.
                unsigned exact = 0;
#pragma unroll
                for (int k = 0; k < K; ++k) {
                    const int pk = k * lanes + li;
                    if (pk < packs) {
#pragma unroll
                        for (int j = 0; j < P; ++j) {
                            const float xv = value(k, j);
                            const float rv = dev::deviceRecAs<false>(fam, p, xv, flags);
                            int bin;
                            const bool placed = fastBin(xv, rv, range, bin);
                            bins.countShared(placed ? bin : a.bins); // else the spare bin
                            exact |= (placed ? 0u : 1u) << (k * P + j);
                        }
                    }
                }
                while (exact) {
                    const int bit = __ffs(exact) - 1;
                    exact &= exact - 1;
                    const float xv = loadOne(xg + ((bit / P) * lanes + li) * P + bit % P);
                    const float rv = dev::deviceRecAs<false>(fam, p, xv, flags);
                    bins.countShared(binOfExact(xv, rv, range));
                }
            } else {
#pragma unroll
                for (int k = 0; k < K; ++k) {
                    const int pk = k * lanes + li;
                    if (pk < packs) {
                        PackValues<P> pv;
#pragma unroll
                        for (int j = 0; j < P; ++j) {
                            pv.x[j] = value(k, j);
                            pv.r[j] = dev::deviceRecAs<false>(fam, p, pv.x[j], flags);
                        }
                        addPackSums<P>(sums, pv);
                    }
                }
            }
        } else {
            visitMemory([&](float xv, int k) {
                const float rv = dev::deviceRec(fam, p, xv, flags);
                if constexpr (Bin) {
                    bins.count(binOf(xv, rv, range));
                } else {
                    addSums(sums, xv, rv);
                    if (keepRec)
                        a.rec[r * a.cols + c0 + k] = rv;
                }
            });
        }
        if constexpr (!Bin)
            finishGroup(fam, p, flags, active && li == 0, lanes, mn, mx,
                        std::is_same_v<F, dev::MxFam> ? a.rowOffset + r
                                                      : a.rowOffset * a.groupsPerRow + gi,
                        key, sat, flushed, nanBlocks);
        if constexpr (!Bin)
            shareMaxF(sums);
        gi += warpStride;
        g = gNext;
        r = rNext;
        if constexpr (kRaw)
#pragma unroll
            for (int k = 0; k < K; ++k)
                raw[k] = rawNext[k];
    }

    if constexpr (Bin)
        flushBlockHist(reinterpret_cast<const unsigned int*>(smem + kTableFloats), lay.hist, a.bins,
                       a.hist);
    else
        addBlockTotals(a.totals, sums, key, sat, flushed, nanBlocks);
}

template <class In>
__global__ void __launch_bounds__(kThreads) statsKernel(const In* x, long long n, Totals* totals) {
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
    lay.lanes = 1; // the fewest lanes (a power of two) that hold the group in kMaxRegs each
    while (lay.lanes < 32 && (packsPerGroup + lay.lanes - 1) / lay.lanes * P > kMaxRegs)
        lay.lanes *= 2;
    lay.inRegs = (packsPerGroup + lay.lanes - 1) / lay.lanes * P <= kMaxRegs;
    lay.hist = histModeFor(a.bins);
    const size_t shared =
        kTableFloats * sizeof(float) + (pass == 1 ? histSharedBytes(lay.hist, a.bins) : 0);
    const long long groups = a.rows * a.groupsPerRow;
    const int grid = gridFor(groups, static_cast<long long>(kWarps) * (32 / lay.lanes), smCount);
    if (pass == 1)
        groupKernel<F, In, P, true><<<grid, kThreads, shared, stream>>>(fam, a, lay);
    else
        groupKernel<F, In, P, false><<<grid, kThreads, shared, stream>>>(fam, a, lay);
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

__global__ void resetTotalsKernel(Totals* t, bool forStats) {
    *t = Totals{};
    t->tminKey = forStats ? 0xFFFFFFFFu : 0u;
}

} // namespace

cudaError_t launchResetTotals(Totals* totals, bool forStats, cudaStream_t stream) {
    resetTotalsKernel<<<1, 1, 0, stream>>>(totals, forStats);
    return cudaGetLastError();
}

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
    case Fam::Hqq:
        return launchFam(f.hqqFam, a, pass, smCount, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace qs::cuda
