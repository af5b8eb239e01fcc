#pragma once
// Codebook grids of ggml's IQ1/IQ2/IQ3 types (ggml-common.h's iq*_grid tables), for the decoders
// in ggml_dequant_iq.cpp. Entry k of a 64-bit grid packs eight byte values, byte j being element
// j of grid point k; 32-bit grids pack four. Internal to core/quant.

#include <cstdint>

namespace qs::ggml {

extern const std::uint64_t kIq2xxsGrid[256];
extern const std::uint64_t kIq2xsGrid[512];
extern const std::uint64_t kIq2sGrid[1024];
extern const std::uint32_t kIq3xxsGrid[256];
extern const std::uint32_t kIq3sGrid[512];
extern const std::uint64_t kIq1sGrid[2048]; // signed bytes: -1, 0, +1

// Byte j (0 = least significant) of a grid entry: ggml reads grids through a byte pointer on a
// little-endian host, which is what this spells out portably.
constexpr std::uint8_t gridByte(std::uint64_t entry, int j) {
    return static_cast<std::uint8_t>(entry >> (8 * j));
}

// ksigns_iq2xs[i]: the 7 stored sign bits plus an eighth that makes the count of minus signs
// even (ggml drops the eighth bit from the file because it follows from the other seven).
constexpr std::uint8_t ksignsIq2xs(unsigned i) {
    unsigned parity = 0;
    for (unsigned b = i; b; b >>= 1)
        parity ^= b & 1u;
    return static_cast<std::uint8_t>((i & 127u) | (parity << 7));
}

} // namespace qs::ggml
