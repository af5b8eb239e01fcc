#pragma once
// SINQ's arithmetic (methods/sinq.h), written once for the CPU (methods/sinq.cpp) and the CUDA
// kernels (cuda/sinq_kernels.cu): the standard deviation of a row or column of a tile (two
// passes, in double, in order), one Sinkhorn update of a log-scale, and the quantization of a
// row of the normalised tile on SINQ's grids. The values come through an accessor, so the device
// reads them from the tensor (the normalised value computed on the fly, the same float
// divisions) where the CPU reads a copy. exp and log are taken in double and rounded to float on
// both sides: glibc's and CUDA's (within 1 and 2 ulp of double) round to the same float but where
// the exact value lies within a few ulp of double of a float tie.

#include "cuda/device_scalar.h"

namespace qs::dev {

enum class SinqGrid : int { Uniform, Symmetric, NormalFloat };

QS_HD float sinqExp(float x) {
    return static_cast<float>(exp(static_cast<double>(x)));
}
QS_HD float sinqLog(float x) {
    return static_cast<float>(log(static_cast<double>(x)));
}

// The unbiased standard deviation of at(0..n-1) (rowStdDevs / columnStdDevs: the mean first,
// then the squares, each summed in order).
template <class At> QS_HD double sinqStdDev(const At& at, long long n) {
    double mean = 0;
    for (long long k = 0; k < n; ++k)
        mean += at(k);
    mean /= static_cast<double>(n);
    double ss = 0;
    for (long long k = 0; k < n; ++k) {
        const double d = at(k) - mean;
        ss += d * d;
    }
    return sqrt(ss / static_cast<double>(n - 1));
}

QS_HD double sinqClampStd(double s) { // std::clamp(s, 1e-3, 1e3)
    return s < 1e-3 ? 1e-3 : 1e3 < s ? 1e3 : s;
}

// One Sinkhorn update of a log-scale from the deviation of its column (or row) and the target.
QS_HD float sinqStepLog(float logMu, double sd, float tgt) {
    const float ratio = clampf(static_cast<float>(sinqClampStd(sd)) / tgt, 0.7f, 2.0f);
    return clampf(logMu + sinqLog(ratio), -0.3f, 10.0f);
}

// Tile t of a [rows, cols] weight cut into th x tw tiles (colTiles across): its first row and
// column, its height and width (the last ones may be short), its tile row and column.
struct SinqTileGeom {
    long long r0, c0, h, w, tr, tc;
};
QS_HD SinqTileGeom sinqTile(long long t, long long rows, long long cols, long long th, long long tw,
                            long long colTiles) {
    SinqTileGeom g;
    g.tr = t / colTiles;
    g.tc = t % colTiles;
    g.r0 = g.tr * th;
    g.c0 = g.tc * tw;
    g.h = rows - g.r0 < th ? rows - g.r0 : th;
    g.w = cols - g.c0 < tw ? cols - g.c0 : tw;
    return g;
}

// A tile's Sinkhorn state between rounds on the device: the best (latest accepted) imbalance,
// the imbalance before, the target deviation, and whether its scaling is frozen.
struct SinqTileState {
    double best, before;
    float tgt;
    int frozen;
};

struct SinqRowQuant {
    float scale = 1, zero = 0; // float32, before the fp16 storage
};

// One row of a normalised tile (n values at(k)) on the grid: put(k, level value before the
// zero-point) for each, and the row's scale and zero-point. `codebook` (`count` levels) for the
// NormalFloat grid.
template <class At, class Put>
QS_HD SinqRowQuant sinqQuantizeRow(SinqGrid grid, int bits, const float* codebook, int count,
                                   const At& at, long long n, const Put& put) {
    const int maxq = (1 << bits) - 1;
    if (grid == SinqGrid::NormalFloat) {
        double sum = 0;
        for (long long i = 0; i < n; ++i)
            sum += at(i);
        const auto mu = static_cast<float>(sum / static_cast<double>(n));
        float amax = 0;
        for (long long i = 0; i < n; ++i) {
            const float d = absf(at(i) - mu);
            amax = amax < d ? d : amax; // std::max(amax, d)
        }
        const float scale = amax < 1e-4f ? 1e-4f : amax;
        const float z = -mu / scale;
        for (long long i = 0; i < n; ++i) {
            const float x = at(i) / scale + z;
            int best = 0; // torch.argmin: the first of equal distances
            for (int c = 1; c < count; ++c)
                if (absf(x - codebook[c]) < absf(x - codebook[best]))
                    best = c;
            put(i, codebook[best]);
        }
        return {scale, z};
    }
    if (grid == SinqGrid::Symmetric) {
        const int maxInt = maxq / 2 - 1, minInt = -((maxq + 1) / 2);
        float amax = 0;
        for (long long i = 0; i < n; ++i) {
            const float a = absf(at(i));
            amax = amax < a ? a : amax;
        }
        const float scale = (amax < 1e-5f ? 1e-5f : amax) / static_cast<float>(maxInt);
        for (long long i = 0; i < n; ++i)
            put(i,
                clampf(rne(at(i) / scale), static_cast<float>(minInt), static_cast<float>(maxInt)));
        return {scale, 0.0f};
    }
    float lo = at(0), hi = lo; // std::minmax_element: the first smallest, the last largest
    for (long long i = 1; i < n; ++i) {
        const float v = at(i);
        if (v < lo)
            lo = v;
        if (!(v < hi))
            hi = v;
    }
    const float range = hi - lo;
    const float scale = (range < 1e-4f ? 1e-4f : range) / static_cast<float>(maxq);
    const float z = -rne(lo / scale);
    for (long long i = 0; i < n; ++i)
        put(i, clampf(rne(at(i) / scale + z), 0.0f, static_cast<float>(maxq)));
    return {scale, z};
}

} // namespace qs::dev
