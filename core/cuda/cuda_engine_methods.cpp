#include "cuda/cuda_engine_impl.h"

#include "methods/matrix_imbalance.h"

#include <algorithm>
#include <cmath>
#include <vector>

// The CUDA engine's solvers, run before the analysis passes: HQQ's zero-points and SINQ's
// Sinkhorn scaling and quantization (cuda/hqq_kernels.cu, cuda/sinq_kernels.cu).
namespace qs::cuda::detail {

Status CudaEngine::solveHqq(const DevicePlan& plan, const void* x, InType type, DeviceSummary& sum,
                            const ProgressFn& progress) {
    const long long groups = plan.groupCount();
    cudaError_t e = hqqParams_.reserve(static_cast<std::size_t>(groups) * sizeof(dev::HqqParams));
    if (e == cudaSuccess)
        e = hqqStored_.reserve(static_cast<std::size_t>(groups) * sizeof(dev::HqqStored));
    if (e == cudaSuccess)
        e = hqqSum_.reserve(sizeof(double));
    if (e != cudaSuccess)
        return cudaFailure(e, "allocation");
    auto* params = hqqParams_.as<dev::HqqParams>();
    if (e = launchHqqStart(x, type, groups, plan.groupCols, plan.hqqBits, params, sms_, stream_);
        e != cudaSuccess)
        return cudaFailure(e, "launch");
    // As quantizeHqqCodes: beta grows by kappa after each step; the solver stops at the first
    // step whose mean |error| (before its update) does not improve, keeping that update.
    const auto maxq = static_cast<float>((1 << plan.hqqBits) - 1);
    const double n = static_cast<double>(std::max<long long>(plan.rows * plan.cols, 1));
    float beta = plan.hqq.beta;
    double best = 1e4;
    for (int i = 0; i < plan.hqq.iterations; ++i) {
        e = cudaMemsetAsync(hqqSum_.p, 0, sizeof(double), stream_);
        if (e == cudaSuccess)
            e = launchHqqStep(x, type, groups, plan.groupCols, maxq, beta, plan.hqq.lpNorm, params,
                              hqqSum_.as<double>(), sms_, stream_);
        double absSum = 0;
        if (e == cudaSuccess)
            e = copyToHost(&absSum, hqqSum_.p, sizeof absSum);
        if (e != cudaSuccess)
            return cudaFailure(e, "kernel");
        const double err = absSum / n;
        beta *= plan.hqq.kappa;
        if (i == 0)
            sum.hqqStartMeanAbsError = err;
        sum.hqqIterations = i + 1;
        if (!reportProgress(progress, static_cast<double>(i + 1) / plan.hqq.iterations))
            return cancelledError();
        if (err < best)
            best = err;
        else
            break;
    }
    sum.hqqBestMeanAbsError = best;
    if (e = launchHqqStore(params, groups, hqqStored_.as<dev::HqqStored>(), sms_, stream_);
        e != cudaSuccess)
        return cudaFailure(e, "launch");
    return Ok{};
}

namespace {

template <class T> cudaError_t reserveCount(DeviceBuffer& b, long long count) {
    return b.reserve(static_cast<std::size_t>(count > 0 ? count : 1) * sizeof(T));
}

} // namespace

Status CudaEngine::solveSinq(const DevicePlan& plan, const void* x, InType type, DeviceSummary& sum,
                             const ProgressFn& progress) {
    const SinqSetup& u = plan.sinq;
    SinqArgs a;
    a.x = x;
    a.type = type;
    a.rows = u.rows;
    a.cols = u.cols;
    a.th = u.th;
    a.tw = u.tw;
    a.rowTiles = u.rowTiles;
    a.colTiles = u.colTiles;
    a.grid = u.grid;
    a.bits = u.bits;
    a.count = static_cast<int>(u.codebook.size());
    const long long colN = u.rowTiles * u.cols, rowN = u.rows * u.colTiles;
    const long long tiles = u.rowTiles * u.colTiles, n = u.rows * u.cols;
    cudaError_t e = reserveCount<float>(sinqCols_, 3 * colN);
    if (e == cudaSuccess)
        e = reserveCount<float>(sinqRows_, 5 * rowN);
    if (e == cudaSuccess)
        e = reserveCount<double>(sinqStats_, rowN + colN + u.rows + u.cols);
    if (e == cudaSuccess)
        e = reserveCount<dev::SinqTileState>(sinqTiles_, tiles);
    if (e == cudaSuccess)
        e = reserveCount<float>(sinqBook_, a.count);
    if (e == cudaSuccess)
        e = reserveCount<float>(solverRec_, n);
    if (e != cudaSuccess)
        return cudaFailure(e, "allocation");
    float* cols = sinqCols_.as<float>();
    a.logMu1 = cols;
    a.mu1 = cols + colN;
    a.colScale = cols + 2 * colN;
    float* rows = sinqRows_.as<float>();
    a.logMu2 = rows;
    a.mu2 = rows + rowN;
    a.rowScale = rows + 2 * rowN;
    a.s1 = rows + 3 * rowN;
    a.z = rows + 4 * rowN;
    double* stats = sinqStats_.as<double>();
    a.rs = stats;
    a.cs = stats + rowN;
    a.fullRowStd = stats + rowN + colN;
    a.fullColStd = a.fullRowStd + u.rows;
    a.tiles = sinqTiles_.as<dev::SinqTileState>();
    a.codebook = sinqBook_.as<float>();
    a.rec = solverRec_.as<float>();
    a.widestKey = &totals_.as<Totals>()->widestKey;
    if (a.count > 0)
        e = cudaMemcpyAsync(sinqBook_.p, u.codebook.data(), u.codebook.size() * sizeof(float),
                            cudaMemcpyHostToDevice, stream_);
    if (e != cudaSuccess)
        return cudaFailure(e, "copy");

    // The deviations of the weight's rows and columns, for its imbalance (read back below).
    std::vector<double> rowStd(static_cast<std::size_t>(u.rows)),
        colStd(static_cast<std::size_t>(u.cols));
    auto imbalance = [&]() -> Result<double> {
        cudaError_t err = copyToHost(rowStd.data(), a.fullRowStd, rowStd.size() * sizeof(double));
        if (err == cudaSuccess)
            err = copyToHost(colStd.data(), a.fullColStd, colStd.size() * sizeof(double));
        if (err != cudaSuccess)
            return cudaFailure(err, "kernel");
        return imbalanceFromDeviations(rowStd, colStd);
    };
    if (e = launchSinqInit(a, sms_, stream_); e == cudaSuccess)
        e = launchSinqRawStd(a, sms_, stream_);
    if (e != cudaSuccess)
        return cudaFailure(e, "launch");
    auto before = imbalance();
    if (!before)
        return before.error();
    sum.sinq.imbalanceBefore = *before;
    sum.sinq.kurtosis = plan.sinqKurtosis;
    sum.sinq.fallback = u.kurtosisFallback && plan.sinqKurtosis > 5.0;
    // As sinkhornNormalize: the first round sets each tile's target and imbalance before; with
    // no rounds (iters=0, or the kurtosis fallback) the scales stay 1.
    const int order = sum.sinq.fallback ? 0 : u.order;
    for (int it = 0; it < std::max(order, 1); ++it) {
        if (e = launchSinqRound(a, it == 0, order > 0, sms_, stream_); e != cudaSuccess)
            return cudaFailure(e, "launch");
        if (!reportProgress(progress, 0.9 * (it + 1) / std::max(order, 1)))
            return cancelledError();
    }
    if (e = launchSinqQuantize(a, sms_, stream_); e != cudaSuccess)
        return cudaFailure(e, "launch");
    auto after = imbalance();
    if (!after)
        return after.error();
    sum.sinq.imbalanceAfter = *after;
    // The tiles' mean imbalances before and after, added in tile order as the CPU does.
    std::vector<dev::SinqTileState> states(static_cast<std::size_t>(tiles));
    if (e = copyToHost(states.data(), a.tiles, states.size() * sizeof(dev::SinqTileState));
        e != cudaSuccess)
        return cudaFailure(e, "copy");
    for (const dev::SinqTileState& st : states) {
        sum.sinq.tileBefore += st.before / static_cast<double>(tiles);
        sum.sinq.tileAfter += st.best / static_cast<double>(tiles);
    }
    return reportProgress(progress, 1.0) ? Status(Ok{}) : Status(cancelledError());
}

Status CudaEngine::sinqWidest(const DevicePlan& plan, unsigned long long widestKey,
                              DeviceSummary& sum) {
    const std::uint32_t w = dev::widestIndex(widestKey);
    if (widestKey == 0 || w >= plan.sinq.rows * plan.sinq.colTiles)
        return Ok{};
    float s1 = 0, z = 0;
    const float* rows = sinqRows_.as<float>();
    const long long rowN = plan.sinq.rows * plan.sinq.colTiles;
    cudaError_t e = copyToHost(&s1, rows + 3 * rowN + w, sizeof s1);
    if (e == cudaSuccess)
        e = copyToHost(&z, rows + 4 * rowN + w, sizeof z);
    if (e != cudaSuccess)
        return cudaFailure(e, "copy");
    sum.sinq.widest = w;
    sum.sinq.widestScale = s1;
    sum.sinq.widestZero = z;
    return Ok{};
}

Status CudaEngine::solveKmeans(const DevicePlan& plan, const void* x, InType type) {
    KmeansArgs a;
    a.x = x;
    a.type = type;
    a.rows = plan.rows;
    a.cols = plan.cols;
    a.groupCols = plan.groupCols;
    a.groupsPerRow = plan.groupsPerRow;
    a.k = 1 << plan.kmeansBits;
    a.maxIterations = plan.kmeans.maxIterations;
    a.relTolerance = plan.kmeans.relTolerance;
    cudaError_t e = reserveCount<dev::KmWork>(kmWork_, kmeansSlots(sms_));
    if (e == cudaSuccess)
        e = reserveCount<float>(kmBooks_, plan.groupCount() * a.k);
    if (e == cudaSuccess)
        e = reserveCount<float>(solverRec_, plan.rows * plan.cols);
    if (e != cudaSuccess)
        return cudaFailure(e, "allocation");
    a.work = kmWork_.as<dev::KmWork>();
    a.books = kmBooks_.as<float>();
    a.rec = solverRec_.as<float>();
    a.widestKey = &totals_.as<Totals>()->widestKey;
    if (e = launchKmeans(a, sms_, stream_); e != cudaSuccess)
        return cudaFailure(e, "launch");
    return Ok{};
}

Status CudaEngine::kmeansWidest(const DevicePlan& plan, unsigned long long widestKey,
                                DeviceSummary& sum) {
    const std::uint32_t w = dev::widestIndex(widestKey);
    if (widestKey == 0 || w >= plan.groupCount())
        return Ok{};
    const int k = 1 << plan.kmeansBits;
    sum.kmeansBook.resize(static_cast<std::size_t>(k));
    if (auto e = copyToHost(sum.kmeansBook.data(), kmBooks_.as<float>() + std::size_t{w} * k,
                            k * sizeof(float));
        e != cudaSuccess)
        return cudaFailure(e, "copy");
    return Ok{};
}

} // namespace qs::cuda::detail
