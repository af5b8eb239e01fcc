#pragma once
// The CUDA backend's first, smallest piece: device discovery and a trivial kernel that proves
// the GPU build path works end to end. Plain C++ interface; callers never see CUDA headers.
// All functions are safe to call without a GPU or driver: they report that instead of failing.

#include <string>
#include <vector>

namespace qs::cuda {

struct DeviceInfo {
    int index = 0;
    std::string name;
    std::size_t totalMemoryBytes = 0;
    int computeMajor = 0, computeMinor = 0;
};

// Empty when no usable device/driver; `why` (if given) then says what was found instead.
std::vector<DeviceInfo> devices(std::string* why = nullptr);

// y[i] = a * x[i] on device 0 (round trip through device memory). Returns false and sets `why`
// when no device is usable.
bool scaleOnDevice(const std::vector<float>& x, float a, std::vector<float>& y,
                   std::string* why = nullptr);

} // namespace qs::cuda
