#include "plan/gpu_table.h"

#include <array>
#include <vector>

namespace qs {

namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

constexpr GpuSpec nvidia(std::string_view name, std::uint64_t gib) {
    return GpuSpec{name, gib * kGiB, gib * kGiB, false};
}

constexpr GpuSpec apple(std::string_view name, std::uint64_t gib) {
    return GpuSpec{name, gib * kGiB, gib * kGiB / 4 * 3, true};
}

constexpr std::array kGpus = {
    nvidia("RTX 3060 12 GB", 12),
    nvidia("RTX 4090 24 GB", 24),
    nvidia("L4 24 GB", 24),
    nvidia("RTX 5090 32 GB", 32),
    nvidia("A100 40 GB", 40),
    nvidia("L40S 48 GB", 48),
    nvidia("A100 80 GB", 80),
    nvidia("H100 80 GB", 80),
    nvidia("H200 141 GB", 141),
    nvidia("B200 192 GB", 192),
    apple("Apple M-series 16 GB", 16),
    apple("Apple M-series 24 GB", 24),
    apple("Apple M-series 36 GB", 36),
    apple("Apple M-series 48 GB", 48),
    apple("Apple M-series 64 GB", 64),
    apple("Apple M-series 96 GB", 96),
    apple("Apple M-series 128 GB", 128),
    apple("Apple M-series 192 GB", 192),
    apple("Apple M-series 512 GB", 512),
};

} // namespace

std::span<const GpuSpec> commonGpus() {
    return kGpus;
}

std::vector<GpuFit> fitOnCommonGpus(std::uint64_t totalBytes) {
    std::vector<GpuFit> out;
    for (const GpuSpec& g : kGpus) {
        GpuFit f;
        f.gpu = &g;
        f.fits = totalBytes <= g.usableBytes;
        f.count = totalBytes == 0 ? 1 : (totalBytes + g.usableBytes - 1) / g.usableBytes;
        if (g.unifiedMemory && !f.fits)
            f.count = 0; // a model is not split across several Macs' unified memory
        out.push_back(f);
    }
    return out;
}

} // namespace qs
