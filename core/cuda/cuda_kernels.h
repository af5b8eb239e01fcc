#pragma once
// The CUDA analysis kernels' launchers (cuda_kernels.cu), called by the engine (cuda_engine.cpp).
// A tensor (or a chunk of whole rows of it) on the device is analysed group by group with the
// arithmetic of cuda/device_math.h:
//   tensor stats: min, max and whether any value is NaN/Inf (the whole-tensor scales, nvfp4);
//   pass 0: each group's parameters and reconstruction, the error sums (double), max |error|,
//     the widest group, the MX block counts, optionally the reconstruction itself;
//   pass 1: the same reconstruction again, binned into the error histogram over [-m, m], m the
//     max |error| pass 0 left in the totals (read on the device: no host round trip between).
// Groups run along rows (the K-quants: see launchKQuants); a warp holds 32 / lanes groups, a lane a
// pack of 16 bytes of input where the layout allows (else single elements). Each block reduces in
// shared memory and adds once to the global totals.

#include "cuda/device_hqq.h"
#include "cuda/device_kmeans.h"
#include "cuda/device_kquants.h"
#include "cuda/device_math.h"
#include "cuda/device_sinq.h"

#include <cuda_runtime_api.h>

namespace qs::cuda {

enum class InType { F32, BF16, F16 };

inline int inBytes(InType t) {
    return t == InType::F32 ? 4 : 2;
}

struct Totals {
    double se, sr, sq, dot;
    unsigned long long maxAbsBits; // the double max |error| (>= 0: its bits order as it does)
    unsigned long long widestKey;  // dev::widestKey
    unsigned long long saturated, flushed, nanBlocks;
    unsigned int tminKey, tmaxKey; // order-preserving encodings of the float min and max
    int nonFinite;
};

// The encoding Totals::tminKey/tmaxKey use (unsigned order = float order) and back.
__host__ __device__ inline unsigned int orderedKey(float f) {
    const unsigned int u = dev::asBits(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__host__ __device__ inline float fromOrderedKey(unsigned int k) {
    return dev::asFloat((k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k);
}

struct GroupArgs {
    const void* x = nullptr; // rows x cols, row-major
    InType type = InType::F32;
    long long rows = 0, cols = 0, groupCols = 0, groupsPerRow = 0;
    long long rowOffset = 0; // this chunk's first row in the tensor
    bool wholeTensor = false;
    float tmin = 0, tmax = 0; // the tensor's, for wholeTensor
    float* rec = nullptr;     // pass 0: the reconstruction, when wanted
    int bins = 0;             // pass 1 (its range comes from pass 0's totals, on the device)
    unsigned long long* hist = nullptr;
    Totals* totals = nullptr;
};

enum class Fam { Int, Nf, Compand, Fp, Mx, Q8_0, Legacy, KQuant, Hqq };

struct FamArgs {
    Fam fam = Fam::Int;
    dev::IntFam intFam;
    dev::FpFam fpFam;
    dev::Q8Fam q8Fam;
    dev::LegacyFam legacyFam;
    dev::NfFam nfFam;           // levels and midpoints in device memory
    dev::CompandFam compandFam; // thresholds and levels in device memory
    dev::MxFam mxFam;
    dev::KFam kFam;
    dev::HqqFam hqqFam; // its parameter arrays in device memory
};

// Clears the totals on the device before a run (the min/max keys set for the stats pass).
cudaError_t launchResetTotals(Totals* totals, bool forStats, cudaStream_t stream);
cudaError_t launchTensorStats(const void* x, InType type, long long n, Totals* totals,
                              cudaStream_t stream);
cudaError_t launchGroups(const FamArgs& fam, const GroupArgs& args, int pass, int smCount,
                         cudaStream_t stream);
// The K-quants (kquant_kernels.cu): groups are super-blocks of 256, one per thread, searched in
// ggml's order; the widest key is over sub-blocks. Same passes and totals as launchGroups.
cudaError_t launchKQuants(const dev::KFam& fam, const GroupArgs& args, int pass, int smCount,
                          cudaStream_t stream);

// HQQ's solver (hqq_kernels.cu), before the passes with Fam::Hqq: the min/max start of each
// group (groups of `groupCols` values along whole rows, the group size dividing the row), one
// solver step (adds sum |x - x^| before the update to *absSum), and the fp16 parameters the
// reconstruction uses.
cudaError_t launchHqqStart(const void* x, InType type, long long groups, long long groupCols,
                           int bits, dev::HqqParams* params, int smCount, cudaStream_t stream);
cudaError_t launchHqqStep(const void* x, InType type, long long groups, long long groupCols,
                          float maxq, float beta, float lp, dev::HqqParams* params, double* absSum,
                          int smCount, cudaStream_t stream);
cudaError_t launchHqqStore(const dev::HqqParams* params, long long groups, dev::HqqStored* stored,
                           int smCount, cudaStream_t stream);

// SINQ (sinq_kernels.cu) on a whole tensor on the device: its arrays, laid out as
// methods/sinq.cpp lays them out (column arrays [rowTiles][cols], row arrays [rows][colTiles]).
struct SinqArgs {
    const void* x = nullptr;
    InType type = InType::F32;
    long long rows = 0, cols = 0, th = 0, tw = 0, rowTiles = 0, colTiles = 0;
    float *logMu1 = nullptr, *mu1 = nullptr, *colScale = nullptr; // per column of a tile row
    float *logMu2 = nullptr, *mu2 = nullptr, *rowScale = nullptr; // per row of a tile column
    double *rs = nullptr, *cs = nullptr;                          // the round's deviations
    dev::SinqTileState* tiles = nullptr;
    dev::SinqGrid grid = dev::SinqGrid::Uniform;
    int bits = 4, count = 0;
    const float* codebook = nullptr;                     // NormalFloat grids, in device memory
    float* rec = nullptr;                                // rows x cols: the reconstruction
    float *s1 = nullptr, *z = nullptr;                   // per group (row of a tile), fp16 values
    unsigned long long* widestKey = nullptr;             // the totals' widest key
    double *fullRowStd = nullptr, *fullColStd = nullptr; // rows, cols
};
// Sets the scales to 1 and the tiles' states to their start.
cudaError_t launchSinqInit(const SinqArgs& a, int smCount, cudaStream_t stream);
// One Sinkhorn round of every tile: the deviations of the current normalised values, then each
// tile's decision (`first`: the target and the imbalance before; `step`: keep or freeze).
cudaError_t launchSinqRound(const SinqArgs& a, bool first, bool step, int smCount,
                            cudaStream_t stream);
// The groups quantized, the reconstruction, s1, z and the widest key; then the normalised
// weight's row and column deviations (fullRowStd, fullColStd).
cudaError_t launchSinqQuantize(const SinqArgs& a, int smCount, cudaStream_t stream);
// The weight's own row and column deviations into fullRowStd, fullColStd.
cudaError_t launchSinqRawStd(const SinqArgs& a, int smCount, cudaStream_t stream);
// kmeans (kmeans_kernels.cu): each group (groupCols values along a row, the last one of a row may
// be short; at most dev::kKmMaxN) fitted by one thread in its slot of `work`
// (kmeansSlots(smCount) of them), its fp16 code book into books[group * k], the reconstruction
// into rec, the widest group (largest book range) into *widestKey.
struct KmeansArgs {
    const void* x = nullptr;
    InType type = InType::F32;
    long long rows = 0, cols = 0, groupCols = 0, groupsPerRow = 0;
    int k = 16, maxIterations = 50;
    double relTolerance = 1e-6;
    dev::KmWork* work = nullptr;
    float *books = nullptr, *rec = nullptr;
    unsigned long long* widestKey = nullptr;
};
long long kmeansSlots(int smCount);
cudaError_t launchKmeans(const KmeansArgs& a, int smCount, cudaStream_t stream);

// The analysis passes over a reconstruction on the device (`rec`, n values beside the input x):
// pass 0 the sums into a.totals, pass 1 the a.bins-bin histogram into a.hist.
cudaError_t launchGiven(const void* x, InType type, const float* rec, long long n,
                        const GroupArgs& a, int pass, int smCount, cudaStream_t stream);

} // namespace qs::cuda
