#pragma once
// What a device runs for a scheme: the family's arithmetic (cuda/device_math.h) with its tables,
// the group layout, and how the result is described afterwards (cost, levels and note,
// diagnostics) in the very words of the CPU quantizers. Plain C++, built into qs_core whether or
// not CUDA is, so test_device_math can run the device arithmetic against the CPU everywhere.
//
// Covered: `int` with round-to-nearest and the minmax clip, at every granularity; `nf` without
// dq where its blocks are whole groups of a row (as the CPU's fused path); the float element
// families (fp4, fp6_*, fp8_*) with the minmax clip and round-to-nearest; every microscaling
// family (mxfp4/6/8, mxint8, nvfp4) with round-to-nearest, any scale rule; ggml's q8_0, q4_0,
// q4_1, q5_0 and q5_1 on rows of whole blocks; q2_k, q4_k, q5_k, q6_k and iq4_nl (the reference
// quantizers, without an imatrix) on rows of whole (super-)blocks, whose widest key is over
// sub-blocks (index block * sub-blocks + sub-block); hqq (methods/hqq.h) with axis=1 where the
// group size divides the row (or per channel), its solver run on the device first; sinq,
// sinq_nf3 and sinq_nf4 without aux8 (the Sinkhorn rounds of every tile on the device, then the
// passes over the reconstruction it wrote); kmeans1..kmeans4 on groups of at most 128 values
// along rows (one thread per group, cuda/device_kmeans.h).

#include "cuda/device_hqq.h"
#include "cuda/device_kmeans.h"
#include "cuda/device_kquants.h"
#include "cuda/device_math.h"
#include "methods/hqq.h"
#include "methods/sinq.h"
#include "quant/kmeans_quant.h"
#include "quant/registry.h"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace qs {

enum class DeviceFamily { Int, Nf, Compand, Fp, Mx, Q8_0, Legacy, KQuant, Hqq, Sinq, Kmeans };

struct DevicePlan {
    DeviceFamily family = DeviceFamily::Int;
    dev::IntFam intFam;
    dev::FpFam fpFam;
    dev::Q8Fam q8Fam;
    dev::LegacyFam legacyFam; // q4_0, q4_1, q5_0, q5_1
    dev::MxFam mxFam;
    dev::KFam kFam; // q2_k, q4_k, q5_k, q6_k, iq4_nl: its blocks
    HqqOptions hqq; // hqq: the solver's settings
    int hqqBits = 4;
    SinqSetup sinq;          // sinq, sinq_nf3, sinq_nf4: grid, tiles, rounds
    double sinqKurtosis = 0; // sinq: the weight's (sinqKurtosis), from the host
    KmeansOptions kmeans;    // kmeans: Lloyd's limits; groups of groupCols (the last may be short)
    int kmeansBits = 4;
    std::vector<float> levels, midpoints; // nf's tables (dev::NfFam points into them)
    std::vector<unsigned char> nfBuckets; // nf: dev::nfBucketTable of the midpoints
    std::vector<float> nfMidpoints;       // nf: dev::nfPaddedMidpoints (what NfFam reads)
    std::vector<double> thresholds;       // mulaw / alaw's, with `levels` (dev::CompandFam)
    float zeroLevel = 0;
    std::int64_t rows = 0, cols = 0;
    std::int64_t groupCols = 0, groupsPerRow = 0;
    bool wholeTensor = false; // one group: its parameters come from the tensor's min and max
    bool needsTensorStats() const { return wholeTensor || mxFam.nv; }
    // The min and max of the tensor the rows belong to (FusedRequest::tensorRange): with
    // needsTensorStats(), taken instead of the rows' own.
    std::optional<std::pair<float, float>> tensorRange;
    std::int64_t groupCount() const { return rows * groupsPerRow; }
    dev::CompandFam compandFam() const {
        dev::CompandFam f;
        f.bits = compandBits;
        f.thresholds = thresholds.data();
        f.levels = levels.data();
        return f;
    }
    int compandBits = 0;
    dev::NfFam nfFam() const {
        dev::NfFam f;
        f.count = static_cast<int>(levels.size());
        f.levels = levels.data();
        f.midpoints = nfMidpoints.data();
        f.buckets = nfBuckets.data();
        f.zeroLevel = zeroLevel;
        return f;
    }
};

// nullopt when the scheme (or its layout on this shape) is not covered.
std::optional<DevicePlan> devicePlanFor(const Scheme& s, std::int64_t rows, std::int64_t cols);

// The first element of x[0, n) whose magnitude is `amax` (0 when amax is 0): q4_0/q5_0's
// signed maximum, as ggml's scan finds it.
inline float firstOfMagnitude(const float* x, std::int64_t n, float amax) {
    if (amax == 0.0f)
        return 0.0f;
    for (std::int64_t k = 0; k < n; ++k)
        if (dev::absf(x[k]) == amax)
            return x[k];
    return 0.0f;
}

// What a device run found besides the sums and the histogram.
struct DeviceSummary {
    float tensorMin = 0, tensorMax = 0; // with needsTensorStats()
    unsigned long long widestKey = 0;   // dev::widestKey of the widest group (MX: its row)
    std::int64_t saturated = 0, flushed = 0, nanBlocks = 0; // MX block counts
    int hqqIterations = 0;                                  // hqq: the solver's run
    double hqqStartMeanAbsError = 0, hqqBestMeanAbsError = 0;
    float hqqWidestZero = 0;       // hqq: the widest group's stored zero-point
    SinqFindings sinq;             // sinq: imbalances, kurtosis, the widest group
    std::vector<float> kmeansBook; // kmeans: the widest group's code book
};

// nvfp4's per-tensor scale from the tensor's min and max (0 for an all-zero tensor).
float nvfp4TensorScale(float tensorMin, float tensorMax);

// Cost, levels, note and diagnostics, as quantize() gives them. `w` is the input on the host
// (int's widest group's zero-point is recomputed from it).
void describeDeviceResult(const Scheme& s, const DevicePlan& plan, MatrixView w,
                          const DeviceSummary& summary, QuantOutput& out);

} // namespace qs
