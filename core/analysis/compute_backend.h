#pragma once
// Which engine computes an analysis: the CPU, or a device engine (the CUDA backend) that the
// programs built with one register at startup. The choice is process-wide (the CLI's
// --backend, the GUI's status-bar selector) and analyzeTensor() follows it for the schemes the
// device covers; everything else, a tensor holding NaN/Inf, and any device failure run on the
// CPU, so a result is always there. Thread-safe.

#include "analysis/bench.h"
#include "analysis/fused_analysis.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace qs {

enum class Backend { Auto, Cpu, Cuda };

std::optional<Backend> parseBackend(std::string_view text); // "auto", "cpu", "cuda"
std::string_view backendName(Backend b);                    // "auto", "cpu", "cuda"

// A device's engine. Its methods may be called from several threads at once.
class DeviceEngine {
public:
    virtual ~DeviceEngine() = default;
    virtual std::string deviceName() const = 0; // e.g. "NVIDIA H100 80GB HBM3"
    virtual bool covers(const Scheme& s, std::int64_t rows, std::int64_t cols) const = 0;
    // As analyzeFused(): nullopt when it declines (NaN/Inf in the tensor); an error when the
    // device failed or the run was cancelled through `progress`.
    virtual std::optional<Result<FusedResult>> analyze(const Scheme& s, MatrixView w,
                                                       const FusedRequest& request,
                                                       const ProgressFn& progress) = 0;
    // `quantscope-cli bench` on the device (the same request as runCpuBench).
    virtual Result<BenchResult> bench(const BenchRequest& request, const ProgressFn& progress) = 0;
};

// Opens the device engine, or returns null and says why there is none ("no CUDA device",
// "CUDA driver version is insufficient for CUDA runtime version", ...).
using DeviceEngineOpener = std::unique_ptr<DeviceEngine> (*)(std::string& why);
void registerDeviceEngine(DeviceEngineOpener open);
bool deviceEngineBuilt(); // whether a device engine was registered (this build has CUDA)

struct BackendStatus {
    Backend active = Backend::Cpu; // Cpu or Cuda
    std::string device;            // the device's or the CPU's name
    std::string note;              // why the CPU where a device was asked for; else empty
    bool deviceAvailable = false;  // a device engine opened (now or before)
};

// Chooses the backend from now on. Auto: the device when one opens, else the CPU; Cuda: the
// same, with a note that says why it fell back; Cpu: the CPU. The engine is opened once and
// kept for the life of the process.
BackendStatus selectBackend(Backend requested);
// Opens the device engine now if it was not tried yet (a CUDA context takes a moment: the GUI
// calls this off its thread, then selectBackend() returns at once). Changes no selection.
void prepareDeviceEngine();
BackendStatus backendStatus();
DeviceEngine* activeDeviceEngine(); // null: the CPU

} // namespace qs
