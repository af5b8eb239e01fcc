#pragma once
// The CUDA engine's pieces shared by its two files (cuda_engine.cpp: the runs and analyses;
// cuda_engine_bench.cpp: `bench`). Internal to core/cuda.

#include "analysis/compute_backend.h"
#include "cuda/cuda_kernels.h"
#include "cuda/device_plan.h"

#include <cuda_runtime.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace qs::cuda::detail {

inline Error cudaFailure(cudaError_t e, const char* what) {
    return makeError(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

// Device (or pinned host) memory that grows on demand.
template <bool Pinned> struct Buffer {
    void* p = nullptr;
    std::size_t size = 0;
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { release(); }
    void release() {
        if (Pinned)
            cudaFreeHost(p);
        else
            cudaFree(p);
        p = nullptr;
        size = 0;
    }
    cudaError_t reserve(std::size_t bytes) {
        if (bytes <= size)
            return cudaSuccess;
        release();
        const cudaError_t e = Pinned ? cudaMallocHost(&p, bytes) : cudaMalloc(&p, bytes);
        if (e == cudaSuccess)
            size = bytes;
        return e;
    }
    template <class T> T* as() const { return static_cast<T*>(p); }
};
using DeviceBuffer = Buffer<false>;
using PinnedBuffer = Buffer<true>;

// Where a run's chunks of whole rows come from: `device(c)` makes chunk c resident and returns
// its device address.
struct Source {
    InType type = InType::F32;
    long long rows = 0, cols = 0, chunkRows = 0;
    std::function<Result<const void*>(long long chunk)> device;
    long long chunks() const { return (rows + chunkRows - 1) / chunkRows; }
    long long rowsOf(long long c) const { return std::min(chunkRows, rows - c * chunkRows); }
};

struct DeviceRun {
    ErrorMetrics error;
    std::optional<Histogram> histogram;
    DeviceSummary summary;
};

class CudaEngine final : public DeviceEngine {
public:
    CudaEngine(int device, std::string name, int sms)
        : device_(device), name_(std::move(name)), sms_(sms) {}
    ~CudaEngine() override {
        for (auto& e : copyDone_)
            cudaEventDestroy(e);
        for (auto& e : computeDone_)
            cudaEventDestroy(e);
        cudaStreamDestroy(copyStream_);
        cudaStreamDestroy(stream_);
    }

    cudaError_t init() {
        cudaError_t e = cudaSetDevice(device_);
        if (e == cudaSuccess)
            e = cudaFree(nullptr); // creates the context: a driver mismatch shows here
        if (e == cudaSuccess)
            e = cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking);
        if (e == cudaSuccess)
            e = cudaStreamCreateWithFlags(&copyStream_, cudaStreamNonBlocking);
        for (int i = 0; i < 2 && e == cudaSuccess; ++i) {
            e = cudaEventCreateWithFlags(&copyDone_[i], cudaEventDisableTiming);
            if (e == cudaSuccess)
                e = cudaEventCreateWithFlags(&computeDone_[i], cudaEventDisableTiming);
        }
        if (e == cudaSuccess)
            e = totals_.reserve(sizeof(Totals));
        return e;
    }

    std::string deviceName() const override { return name_; }

    bool covers(const Scheme& s, std::int64_t rows, std::int64_t cols) const override {
        return devicePlanFor(s, rows, cols).has_value();
    }

    std::optional<Result<FusedResult>> analyze(const Scheme& s, MatrixView w,
                                               const FusedRequest& req,
                                               const ProgressFn& progress) override;
    Result<BenchResult> bench(const BenchRequest& req, const ProgressFn& progress) override;

private:
    Result<FamArgs> famArgs(const DevicePlan& plan);
    // Stats (where the plan needs them), pass 0, pass 1: nullopt when the tensor holds NaN/Inf.
    Result<std::optional<DeviceRun>> run(DevicePlan plan, Source& src, int bins, float* hostRec,
                                         const ProgressFn& progress);
    Result<Totals> readTotals(std::size_t histBytes = 0);
    // Device -> host on the analysis stream, waiting for it (and for everything before it).
    cudaError_t copyToHost(void* dst, const void* src, std::size_t bytes) {
        const cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_);
        return e == cudaSuccess ? cudaStreamSynchronize(stream_) : e;
    }
    cudaError_t resetTotals(bool forStats);
    // HQQ's solver on the tensor at `x` (whole on the device): the groups' parameters in
    // hqqParams_/hqqStored_, the run's figures in `sum`.
    Status solveHqq(const DevicePlan& plan, const void* x, InType type, DeviceSummary& sum,
                    const ProgressFn& progress);
    // SINQ on the tensor at `x` (whole on the device): the reconstruction in solverRec_, the widest
    // key in the totals (reset before), the run's figures in `sum` but for the widest group's
    // parameters (sinqWidest() after the passes).
    Status solveSinq(const DevicePlan& plan, const void* x, InType type, DeviceSummary& sum,
                     const ProgressFn& progress);
    Status sinqWidest(const DevicePlan& plan, unsigned long long widestKey, DeviceSummary& sum);
    // kmeans on the tensor at `x` (whole on the device): the reconstruction in solverRec_, the
    // code books in kmBooks_, the widest key in the totals (reset before).
    Status solveKmeans(const DevicePlan& plan, const void* x, InType type);
    Status kmeansWidest(const DevicePlan& plan, unsigned long long widestKey, DeviceSummary& sum);

    int device_;
    std::string name_;
    int sms_;
    std::mutex mutex_; // one analysis on the device at a time
    cudaStream_t stream_ = nullptr, copyStream_ = nullptr;
    cudaEvent_t copyDone_[2] = {nullptr, nullptr}, computeDone_[2] = {nullptr, nullptr};
    DeviceBuffer totals_, hist_, tables_, input_[2], rec_[2], copy_;
    DeviceBuffer hqqParams_, hqqStored_, hqqSum_;
    DeviceBuffer solverRec_, sinqCols_, sinqRows_, sinqStats_, sinqTiles_, sinqBook_;
    DeviceBuffer kmWork_, kmBooks_;
    PinnedBuffer staging_[2], readBack_;
};

} // namespace qs::cuda::detail
