#pragma once
// The CUDA backend's engine (analysis/compute_backend.h's DeviceEngine): the families of
// cuda/device_plan.h analysed on the first CUDA device, the tensor kept on the device through
// quantize -> reconstruct -> error sums -> error histogram. Tensors that do not fit in device
// memory stream through in chunks of whole rows, copied from pinned buffers while the previous
// chunk computes. Plain C++ interface: callers never see CUDA headers.

#include "analysis/compute_backend.h"

namespace qs::cuda {

// Registers the engine's opener with the core (the programs call it once at startup).
void registerCudaEngine();

// Opens the engine on device 0, or returns null and says why (no device, the driver, ...).
std::unique_ptr<DeviceEngine> openCudaEngine(std::string& why);

} // namespace qs::cuda
