#include "cuda/cuda_engine_impl.h"

#include "analysis/bench.h"
#include "tensor/dtype.h"

#include <chrono>
#include <vector>

// `quantscope-cli bench --backend cuda`: the analysis of a synthetic tensor already on the
// device, timed, then device-to-device copies of it in the same run for the copy bandwidth.
namespace qs::cuda::detail {

using Clock = std::chrono::steady_clock;

Result<BenchResult> CudaEngine::bench(const BenchRequest& req, const ProgressFn& progress) {
    if (req.quantizeOnly)
        return makeError("--stage quantize runs on the CPU only", ErrorKind::NotApplicable);
    auto plan = devicePlanFor(req.scheme, req.rows, req.cols);
    if (!plan)
        return makeError(req.scheme.toString() + " has no CUDA kernels yet; try --backend cpu",
                         ErrorKind::NotApplicable);
    std::lock_guard lock(mutex_);
    const auto n = static_cast<std::uint64_t>(req.rows) * static_cast<std::uint64_t>(req.cols);
    const std::vector<float> values = syntheticGaussian(n, 0.02f, req.seed);
    if (plan->family == DeviceFamily::Sinq)
        plan->sinqKurtosis = sinqKurtosis(MatrixView{values.data(), req.rows, req.cols});
    InType type = InType::F32;
    std::vector<std::uint16_t> half;
    if (req.dtype != DType::F32) {
        type = req.dtype == DType::BF16 ? InType::BF16 : InType::F16;
        half.resize(n);
        for (std::uint64_t i = 0; i < n; ++i)
            half[i] = type == InType::BF16 ? floatToBf16(values[i]) : floatToHalf(values[i]);
    }
    const void* host = half.empty() ? static_cast<const void*>(values.data()) : half.data();
    const std::size_t bytes = n * static_cast<std::size_t>(inBytes(type));
    if (auto e = input_[0].reserve(bytes); e != cudaSuccess)
        return cudaFailure(e, "allocation");
    if (auto e = cudaMemcpy(input_[0].p, host, bytes, cudaMemcpyHostToDevice); e != cudaSuccess)
        return cudaFailure(e, "copy");
    Source src;
    src.type = type;
    src.rows = req.rows;
    src.cols = req.cols;
    src.chunkRows = req.rows;
    src.device = [&](long long) -> Result<const void*> {
        return static_cast<const void*>(input_[0].p);
    };

    BenchResult res;
    res.elements = n;
    res.inputBytes = bytes;
    res.threads = 1;
    res.fused = true;
    res.device = name_;
    res.backend = "cuda";
    const int total = req.warmup + req.repeat;
    for (int i = 0; i < total; ++i) {
        const auto t0 = Clock::now();
        auto r = run(*plan, src, req.histogramBins, nullptr, {});
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!r)
            return r.error();
        if (!*r)
            return makeError("the synthetic tensor holds NaN/Inf");
        res.error = (*r)->error;
        if ((*r)->histogram)
            res.errorHistogram = (*r)->histogram->counts;
        if (i >= req.warmup)
            res.timesMs.push_back(ms);
        if (!reportProgress(progress, 0.9 * (i + 1) / total))
            return cancelledError();
    }
    res.medianMs = medianOf(res.timesMs);

    // The device's copy bandwidth in the same run: device-to-device copies of the input.
    if (auto e = copy_.reserve(bytes); e != cudaSuccess)
        return cudaFailure(e, "allocation");
    cudaEvent_t start = nullptr, stop = nullptr;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    std::vector<double> copies;
    cudaError_t e = cudaSuccess;
    for (int i = 0; i < total && e == cudaSuccess; ++i) {
        cudaEventRecord(start, stream_);
        e = cudaMemcpyAsync(copy_.p, input_[0].p, bytes, cudaMemcpyDeviceToDevice, stream_);
        cudaEventRecord(stop, stream_);
        if (e == cudaSuccess)
            e = cudaEventSynchronize(stop);
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        if (i >= req.warmup)
            copies.push_back(ms);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    if (e != cudaSuccess)
        return cudaFailure(e, "copy");
    res.readMedianMs = medianOf(copies);
    res.copyGbps = res.readMedianMs > 0 ? static_cast<double>(bytes) / (res.readMedianMs * 1e6) : 0;
    return res;
}

} // namespace qs::cuda::detail
