#include "cuda/cuda_info.h"

#include <cuda_runtime.h>

namespace qs::cuda {
namespace {

__global__ void scaleKernel(const float* x, float a, float* y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}

bool check(cudaError_t err, std::string* why) {
    if (err == cudaSuccess) return true;
    if (why) *why = cudaGetErrorString(err);
    return false;
}

} // namespace

std::vector<DeviceInfo> devices(std::string* why) {
    std::vector<DeviceInfo> out;
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice) {
        if (why)
            *why = err == cudaErrorNoDevice
                       ? "no CUDA device"
                       : std::string("no usable NVIDIA driver (") + cudaGetErrorString(err) + ")";
        return out;
    }
    if (!check(err, why)) return out;
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (!check(cudaGetDeviceProperties(&prop, i), why)) continue;
        out.push_back({i, prop.name, prop.totalGlobalMem, prop.major, prop.minor});
    }
    if (out.empty() && why && why->empty()) *why = "no CUDA device";
    return out;
}

bool scaleOnDevice(const std::vector<float>& x, float a, std::vector<float>& y, std::string* why) {
    if (devices(why).empty()) return false;
    const int n = static_cast<int>(x.size());
    const size_t bytes = x.size() * sizeof(float);
    float *dx = nullptr, *dy = nullptr;
    bool ok = check(cudaMalloc(&dx, bytes), why) && check(cudaMalloc(&dy, bytes), why) &&
              check(cudaMemcpy(dx, x.data(), bytes, cudaMemcpyHostToDevice), why);
    if (ok) {
        scaleKernel<<<(n + 255) / 256, 256>>>(dx, a, dy, n);
        y.resize(x.size());
        ok = check(cudaGetLastError(), why) &&
             check(cudaMemcpy(y.data(), dy, bytes, cudaMemcpyDeviceToHost), why);
    }
    cudaFree(dx);
    cudaFree(dy);
    return ok;
}

} // namespace qs::cuda
