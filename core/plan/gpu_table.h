#pragma once
// Common accelerators and what fits on them. NVIDIA cards: the memory the driver reports
// (nvidia-smi's total, less than the name's nominal size: an "80 GB" H100 reports 79.6 GiB) and,
// usable, that less what the driver reserves (about half a GiB). Apple silicon shares its unified
// memory with the system; Metal lets the GPU use about three quarters of it by default, so
// `usableBytes` is 75% there. Any thread.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace qs {

struct GpuSpec {
    std::string_view name;
    std::uint64_t memoryBytes = 0; // as the driver reports it (Apple: the nominal size)
    std::uint64_t usableBytes = 0; // what a model may use
    bool unifiedMemory = false;    // Apple M-series
};

std::span<const GpuSpec> commonGpus();

struct GpuFit {
    const GpuSpec* gpu = nullptr;
    bool fits = false; // the whole requirement on one device
    // Devices needed when the model is split evenly across several; 0 for a unified-memory
    // device it does not fit (Macs are not pooled).
    std::uint64_t count = 0;
};

// How `totalBytes` fits on each of commonGpus(), in table order.
std::vector<GpuFit> fitOnCommonGpus(std::uint64_t totalBytes);

} // namespace qs
