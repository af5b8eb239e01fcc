#include "plan/gpu_table.h"

#include <array>
#include <vector>

namespace qs {

namespace {

constexpr std::uint64_t kGiB = 1ull << 30;
constexpr std::uint64_t kMiB = 1ull << 20;
// What the driver keeps of the memory it reports (nvidia-smi's "Reserved": 480 MiB on the H100,
// 616 MiB on the H200 measured below); 512 MiB where it was not measured.
constexpr std::uint64_t kTypicalReserveMiB = 512;

// `totalMiB` as nvidia-smi reports the card's memory ("memory.total"), `reservedMiB` what of it
// the driver keeps: a model may use the rest.
constexpr GpuSpec nvidia(std::string_view name, std::uint64_t totalMiB,
                         std::uint64_t reservedMiB = kTypicalReserveMiB) {
    return GpuSpec{name, totalMiB * kMiB, (totalMiB - reservedMiB) * kMiB, false};
}

constexpr GpuSpec apple(std::string_view name, std::uint64_t gib) {
    return GpuSpec{name, gib * kGiB, gib * kGiB / 4 * 3, true};
}

// The H100 and H200 figures were read with nvidia-smi on the machines lent to this project
// (2026-11-24: 81559 MiB total, 480 reserved; 143771 total, 616 reserved); the others are the
// totals nvidia-smi reports for those cards. The names keep the vendors' nominal sizes: an
// "80 GB" H100 offers 79.2 GiB, a "192 GB" B200 about 178.6.
constexpr std::array kGpus = {
    nvidia("RTX 3060 12 GB", 12288),     nvidia("RTX 4090 24 GB", 24564),
    nvidia("L4 24 GB", 23034),           nvidia("RTX 5090 32 GB", 32607),
    nvidia("A100 40 GB", 40960),         nvidia("L40S 48 GB", 46068),
    nvidia("A100 80 GB", 81920),         nvidia("H100 80 GB", 81559, 480),
    nvidia("H200 141 GB", 143771, 616),  nvidia("B200 192 GB", 183359),
    apple("Apple M-series 16 GB", 16),   apple("Apple M-series 24 GB", 24),
    apple("Apple M-series 36 GB", 36),   apple("Apple M-series 48 GB", 48),
    apple("Apple M-series 64 GB", 64),   apple("Apple M-series 96 GB", 96),
    apple("Apple M-series 128 GB", 128), apple("Apple M-series 192 GB", 192),
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
