#include "cuda/cuda_engine.h"

#include "cuda/cuda_engine_impl.h"
#include "cuda/cuda_info.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace qs::cuda {
namespace detail {

Result<FamArgs> CudaEngine::famArgs(const DevicePlan& plan) {
    FamArgs f;
    f.intFam = plan.intFam;
    f.mxFam = plan.mxFam;
    f.fpFam = plan.fpFam;
    f.q8Fam = plan.q8Fam;
    f.legacyFam = plan.legacyFam;
    f.kFam = plan.kFam;
    f.fam = plan.family == DeviceFamily::Int       ? Fam::Int
            : plan.family == DeviceFamily::Nf      ? Fam::Nf
            : plan.family == DeviceFamily::Compand ? Fam::Compand
            : plan.family == DeviceFamily::Fp      ? Fam::Fp
            : plan.family == DeviceFamily::Mx      ? Fam::Mx
            : plan.family == DeviceFamily::Q8_0    ? Fam::Q8_0
            : plan.family == DeviceFamily::KQuant  ? Fam::KQuant
            : plan.family == DeviceFamily::Hqq     ? Fam::Hqq
                                                   : Fam::Legacy;
    if (plan.family == DeviceFamily::Hqq) { // solveHqq filled the arrays
        f.hqqFam.maxq = static_cast<float>((1 << plan.hqqBits) - 1);
        f.hqqFam.params = hqqParams_.as<dev::HqqParams>();
        f.hqqFam.stored = hqqStored_.as<dev::HqqStored>();
    }
    if (plan.family == DeviceFamily::Nf) {
        const std::size_t n = plan.levels.size();
        if (n > static_cast<std::size_t>(dev::kMaxLevels))
            return makeError("codebook too large for the device kernels");
        if (auto e = tables_.reserve((dev::kMaxLevels + dev::kNfMidpoints) * sizeof(float) +
                                     dev::kNfBuckets + 1);
            e != cudaSuccess)
            return cudaFailure(e, "allocation");
        float* lv = tables_.as<float>();
        float* md = lv + dev::kMaxLevels;
        auto* bk = reinterpret_cast<unsigned char*>(md + dev::kNfMidpoints);
        cudaError_t e = cudaMemcpyAsync(lv, plan.levels.data(), n * sizeof(float),
                                        cudaMemcpyHostToDevice, stream_);
        if (e == cudaSuccess) // with its +inf padding
            e = cudaMemcpyAsync(md, plan.nfMidpoints.data(), (n + 1) * sizeof(float),
                                cudaMemcpyHostToDevice, stream_);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(bk, plan.nfBuckets.data(), dev::kNfBuckets + 1,
                                cudaMemcpyHostToDevice, stream_);
        if (e != cudaSuccess)
            return cudaFailure(e, "copy");
        f.nfFam = plan.nfFam();
        f.nfFam.levels = lv;
        f.nfFam.midpoints = md;
        f.nfFam.buckets = bk;
    }
    if (plan.family == DeviceFamily::Compand) { // 255 thresholds and 256 levels at most
        const std::size_t n = plan.thresholds.size();
        const std::size_t bytes = dev::kMaxLevels * (sizeof(double) + sizeof(float));
        if (auto e = tables_.reserve(bytes); e != cudaSuccess)
            return cudaFailure(e, "allocation");
        auto* th = tables_.as<double>();
        auto* lv = reinterpret_cast<float*>(th + dev::kMaxLevels);
        cudaError_t e = cudaMemcpyAsync(th, plan.thresholds.data(), n * sizeof(double),
                                        cudaMemcpyHostToDevice, stream_);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(lv, plan.levels.data(), plan.levels.size() * sizeof(float),
                                cudaMemcpyHostToDevice, stream_);
        if (e != cudaSuccess)
            return cudaFailure(e, "copy");
        f.compandFam = plan.compandFam();
        f.compandFam.thresholds = th;
        f.compandFam.levels = lv;
    }
    return f;
}

cudaError_t CudaEngine::resetTotals(bool forStats) {
    return launchResetTotals(totals_.as<Totals>(), forStats, stream_);
}

// The totals and, when `histBytes`, the histogram after them in `readBack_` (pinned: the copies
// are plain DMA), with one wait for everything before.
Result<Totals> CudaEngine::readTotals(std::size_t histBytes) {
    if (auto e = readBack_.reserve(sizeof(Totals) + histBytes); e != cudaSuccess)
        return cudaFailure(e, "allocation");
    cudaError_t e =
        cudaMemcpyAsync(readBack_.p, totals_.p, sizeof(Totals), cudaMemcpyDeviceToHost, stream_);
    if (e == cudaSuccess && histBytes)
        e = cudaMemcpyAsync(readBack_.as<char>() + sizeof(Totals), hist_.p, histBytes,
                            cudaMemcpyDeviceToHost, stream_);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(stream_);
    if (e != cudaSuccess)
        return cudaFailure(e, "kernel");
    Totals t;
    std::memcpy(&t, readBack_.p, sizeof t);
    return t;
}

Result<std::optional<DeviceRun>> CudaEngine::run(DevicePlan plan, Source& src, int bins,
                                                 float* hostRec, const ProgressFn& progress) {
    using Out = std::optional<DeviceRun>;
    DeviceRun out;
    DeviceSummary& sum = out.summary;
    const long long chunks = src.chunks();
    const bool hqq = plan.family == DeviceFamily::Hqq, sinq = plan.family == DeviceFamily::Sinq;
    const bool kmeans = plan.family == DeviceFamily::Kmeans;
    const bool given = sinq || kmeans; // the passes run over the reconstruction a solver wrote
    if ((hqq || given) && chunks != 1) // the solvers need the tensor whole on the device
        return Out{};
    const double passes =
        (plan.needsTensorStats() ? 1 : 0) + (hqq || given ? 1 : 0) + 1 + (bins > 0 ? 1 : 0);
    double done = 0;
    const ProgressFn solverProgress = [&](double f) {
        return reportProgress(progress, (done + f) / passes);
    };
    auto step = [&](long long c) {
        return reportProgress(progress, (done + static_cast<double>(c + 1) / chunks) / passes);
    };

    if (plan.needsTensorStats() && plan.tensorRange) { // the rows' tensor's, given
        sum.tensorMin = plan.tensorRange->first;
        sum.tensorMax = plan.tensorRange->second;
        ++done;
    } else if (plan.needsTensorStats()) {
        if (auto e = resetTotals(true); e != cudaSuccess)
            return cudaFailure(e, "copy");
        for (long long c = 0; c < chunks; ++c) {
            auto x = src.device(c);
            if (!x)
                return x.error();
            if (auto e = launchTensorStats(*x, src.type, src.rowsOf(c) * src.cols,
                                           totals_.as<Totals>(), stream_);
                e != cudaSuccess)
                return cudaFailure(e, "launch");
            if (!step(c))
                return cancelledError();
        }
        auto t = readTotals();
        if (!t)
            return t.error();
        if (t->nonFinite)
            return Out{};
        sum.tensorMin = fromOrderedKey(t->tminKey);
        sum.tensorMax = fromOrderedKey(t->tmaxKey);
        ++done;
    }
    if (plan.mxFam.nv) {
        plan.mxFam.tensorScale = nvfp4TensorScale(sum.tensorMin, sum.tensorMax);
        if (plan.mxFam.tensorScale == 0.0f) { // all zero: reconstructed as zero, error none
            const auto n = static_cast<std::uint64_t>(src.rows * src.cols);
            out.error.count = n;
            if (hostRec)
                std::fill(hostRec, hostRec + n, 0.0f);
            if (bins > 0)
                out.histogram = zeroDifferenceHistogram(bins, n);
            return Out{std::move(out)};
        }
    }
    if (hqq) {
        auto x = src.device(0);
        if (!x)
            return x.error();
        if (auto st = solveHqq(plan, *x, src.type, sum, solverProgress); !st)
            return st.error();
        ++done;
    }
    auto fam = famArgs(plan);
    if (!fam)
        return fam.error();

    GroupArgs a;
    a.type = src.type;
    a.cols = src.cols;
    a.groupCols = plan.groupCols;
    a.groupsPerRow = plan.groupsPerRow;
    a.wholeTensor = plan.wholeTensor;
    a.tmin = sum.tensorMin;
    a.tmax = sum.tensorMax;
    a.totals = totals_.as<Totals>();
    if (auto e = resetTotals(false); e != cudaSuccess)
        return cudaFailure(e, "copy");
    if (given) { // after the reset: the solver notes the widest group in the totals
        auto x = src.device(0);
        if (!x)
            return x.error();
        if (auto st = sinq ? solveSinq(plan, *x, src.type, sum, solverProgress)
                           : solveKmeans(plan, *x, src.type);
            !st)
            return st.error();
        if (!solverProgress(1.0))
            return cancelledError();
        ++done;
    }
    // The passes: the family's kernels, or (sinq, kmeans) over the reconstruction the solver wrote.
    auto launchPass = [&](int pass) {
        return given ? launchGiven(a.x, a.type, solverRec_.as<float>(), a.rows * a.cols, a, pass,
                                   sms_, stream_)
                     : launchGroups(*fam, a, pass, sms_, stream_);
    };
    for (long long c = 0; c < chunks; ++c) {
        auto x = src.device(c);
        if (!x)
            return x.error();
        a.x = *x;
        a.rows = src.rowsOf(c);
        a.rowOffset = c * src.chunkRows;
        const std::size_t recBytes = static_cast<std::size_t>(a.rows * a.cols) * sizeof(float);
        a.rec = nullptr;
        if (hostRec && !given) {
            if (auto e = rec_[0].reserve(recBytes); e != cudaSuccess)
                return cudaFailure(e, "allocation");
            a.rec = rec_[0].as<float>();
        }
        if (auto e = launchPass(0); e != cudaSuccess)
            return cudaFailure(e, "launch");
        if (hostRec) {
            const float* rec = given ? solverRec_.as<float>() : a.rec;
            if (const cudaError_t e = copyToHost(hostRec + a.rowOffset * a.cols, rec, recBytes);
                e != cudaSuccess)
                return cudaFailure(e, "copy");
        }
        if (!step(c))
            return cancelledError();
    }
    ++done;
    // Pass 1 right behind pass 0 on the stream: the kernels read the range from the totals.
    const std::size_t histBytes =
        bins > 0 ? static_cast<std::size_t>(bins) * sizeof(unsigned long long) : 0;
    if (bins > 0) {
        a.bins = bins;
        a.rec = nullptr;
        if (auto e = hist_.reserve(histBytes); e != cudaSuccess)
            return cudaFailure(e, "allocation");
        a.hist = hist_.as<unsigned long long>();
        if (auto e = cudaMemsetAsync(a.hist, 0, histBytes, stream_); e != cudaSuccess)
            return cudaFailure(e, "memset");
        for (long long c = chunks - 1; c >= 0; --c) { // the last chunk may still be resident
            auto x = src.device(c);
            if (!x)
                return x.error();
            a.x = *x;
            a.rows = src.rowsOf(c);
            a.rowOffset = c * src.chunkRows;
            if (auto e = launchPass(1); e != cudaSuccess)
                return cudaFailure(e, "launch");
            if (!step(chunks - 1 - c))
                return cancelledError();
        }
    }
    auto t = readTotals(histBytes);
    if (!t)
        return t.error();
    // NaN/Inf in the input (kernel_common.cuh sawNonFinite), or in the reconstruction of a
    // finite input under an overflowing scale, whose errors the plain histogram counts apart.
    if (t->nonFinite || !std::isfinite(t->sr) || !std::isfinite(t->se))
        return Out{};
    double maxErr = 0;
    std::memcpy(&maxErr, &t->maxAbsBits, sizeof maxErr);
    out.error.count = static_cast<std::uint64_t>(src.rows * src.cols);
    out.error.sumSqErr = t->se;
    out.error.sumSqRef = t->sr;
    out.error.sumSqRec = t->sq;
    out.error.dot = t->dot;
    out.error.maxAbsErr = maxErr;
    sum.widestKey = t->widestKey;
    sum.saturated = static_cast<std::int64_t>(t->saturated);
    sum.flushed = static_cast<std::int64_t>(t->flushed);
    sum.nanBlocks = static_cast<std::int64_t>(t->nanBlocks);
    if (sinq)
        if (auto st = sinqWidest(plan, t->widestKey, sum); !st)
            return st.error();
    if (kmeans)
        if (auto st = kmeansWidest(plan, t->widestKey, sum); !st)
            return st.error();
    if (const std::uint32_t w = dev::widestIndex(t->widestKey); hqq && w < plan.groupCount()) {
        dev::HqqStored widest; // its stored zero-point, for the levels
        if (auto e = copyToHost(&widest, hqqStored_.as<dev::HqqStored>() + w, sizeof widest);
            e != cudaSuccess)
            return cudaFailure(e, "copy");
        sum.hqqWidestZero = widest.zero;
    }
    if (bins > 0) { // the range the kernels used (kernel_common.cuh binRange)
        const double m = maxErr > 0 ? maxErr : 1e-12;
        Histogram h;
        h.lo = -m;
        h.hi = m;
        h.counts.assign(static_cast<std::size_t>(bins), 0);
        std::memcpy(h.counts.data(), readBack_.as<char>() + sizeof(Totals), histBytes);
        out.histogram = std::move(h);
    }
    return Out{std::move(out)};
}

std::optional<Result<FusedResult>> CudaEngine::analyze(const Scheme& s, MatrixView w,
                                                       const FusedRequest& req,
                                                       const ProgressFn& progress) {
    auto plan = devicePlanFor(s, w.rows, w.cols);
    if (!plan)
        return std::nullopt;
    if (plan->family == DeviceFamily::Sinq) // its diagnostic and fallback test, on the host
        plan->sinqKurtosis = sinqKurtosis(w);
    plan->tensorRange = req.tensorRange;
    std::lock_guard lock(mutex_);
    if (auto e = cudaSetDevice(device_); e != cudaSuccess)
        return Result<FusedResult>(cudaFailure(e, "device"));
    FusedResult result;
    if (req.keepReconstruction)
        result.output.reconstruction.resize(w.size());
    float* hostRec = req.keepReconstruction ? result.output.reconstruction.data() : nullptr;

    // The whole tensor when it fits in half the free memory; else chunks of whole rows, two
    // in flight (one copying, one computing), within a fifth of it.
    std::size_t freeBytes = 0, totalBytes = 0;
    if (auto e = cudaMemGetInfo(&freeBytes, &totalBytes); e != cudaSuccess)
        return Result<FusedResult>(cudaFailure(e, "memory query"));
    const std::size_t rowBytes =
        static_cast<std::size_t>(w.cols) * sizeof(float) * (hostRec ? 2 : 1);
    Source src;
    src.type = InType::F32;
    src.rows = w.rows;
    src.cols = w.cols;
    // QS_CUDA_MAX_CHUNK_BYTES caps a chunk's input (tests make small tensors stream with it).
    std::size_t cap = freeBytes / 10;
    if (const char* env = std::getenv("QS_CUDA_MAX_CHUNK_BYTES"))
        cap = std::min<std::size_t>(cap, std::strtoull(env, nullptr, 10));
    const bool whole = rowBytes * static_cast<std::size_t>(w.rows) <= std::min(freeBytes / 2, cap);
    src.chunkRows = whole ? w.rows
                          : static_cast<long long>(std::min<std::size_t>(
                                cap / rowBytes, static_cast<std::size_t>(w.rows)));
    if (src.chunkRows < 1)
        return Result<FusedResult>(makeError("not enough free device memory for one row"));
    const std::size_t chunkBytes = static_cast<std::size_t>(src.chunkRows * w.cols) * sizeof(float);
    long long resident[2] = {-1, -1};
    int lastSlot = -1; // the slot the kernels launched since the last call read
    src.device = [&](long long c) -> Result<const void*> {
        const int slot = whole ? 0 : static_cast<int>(c % 2);
        if (!whole && lastSlot >= 0) // the kernels reading lastSlot are all launched by now
            if (auto e = cudaEventRecord(computeDone_[lastSlot], stream_); e != cudaSuccess)
                return cudaFailure(e, "event");
        lastSlot = slot;
        if (resident[slot] == c)
            return static_cast<const void*>(input_[slot].p);
        if (auto e = input_[slot].reserve(chunkBytes); e != cudaSuccess)
            return cudaFailure(e, "allocation");
        const float* from = w.data + c * src.chunkRows * w.cols;
        const std::size_t bytes = static_cast<std::size_t>(src.rowsOf(c) * w.cols) * sizeof(float);
        cudaError_t e = cudaSuccess;
        if (whole) {
            e = cudaMemcpyAsync(input_[0].p, from, bytes, cudaMemcpyHostToDevice, stream_);
        } else {
            // The staging buffer is free once its last copy finished; the device buffer once the
            // kernels that read it did.
            e = staging_[slot].reserve(chunkBytes);
            if (e == cudaSuccess)
                e = cudaEventSynchronize(copyDone_[slot]);
            if (e == cudaSuccess) {
                std::memcpy(staging_[slot].p, from, bytes);
                e = cudaStreamWaitEvent(copyStream_, computeDone_[slot], 0);
            }
            if (e == cudaSuccess)
                e = cudaMemcpyAsync(input_[slot].p, staging_[slot].p, bytes, cudaMemcpyHostToDevice,
                                    copyStream_);
            if (e == cudaSuccess)
                e = cudaEventRecord(copyDone_[slot], copyStream_);
            if (e == cudaSuccess)
                e = cudaStreamWaitEvent(stream_, copyDone_[slot], 0);
        }
        if (e != cudaSuccess)
            return cudaFailure(e, "copy");
        resident[slot] = c;
        return static_cast<const void*>(input_[slot].p);
    };
    auto r = run(*plan, src, req.errorHistogramBins, hostRec, progress);
    if (!r)
        return Result<FusedResult>(r.error());
    if (!*r)
        return std::nullopt; // NaN/Inf: the CPU's plain path says what they become
    result.error = (*r)->error;
    result.errorHistogram = std::move((*r)->histogram);
    describeDeviceResult(s, *plan, w, (*r)->summary, result.output);
    return Result<FusedResult>(std::move(result));
}

} // namespace detail

std::unique_ptr<DeviceEngine> openCudaEngine(std::string& why) {
    const auto devs = devices(&why);
    if (devs.empty())
        return nullptr;
    int sms = 1;
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, devs[0].index);
    auto engine = std::make_unique<detail::CudaEngine>(devs[0].index, devs[0].name, sms);
    if (const cudaError_t e = engine->init(); e != cudaSuccess) {
        why = std::string("CUDA start-up failed: ") + cudaGetErrorString(e);
        return nullptr;
    }
    return engine;
}

void registerCudaEngine() {
    registerDeviceEngine(&openCudaEngine);
}

} // namespace qs::cuda
