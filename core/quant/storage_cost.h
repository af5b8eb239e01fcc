#pragma once
// The exact storage a quantized tensor costs: payload codes plus scales, zero-points and
// second-level scales, in bits. bitsPerWeight() is total bits over elements, so it is honest.

#include <cstdint>

namespace qs {

struct StorageCost {
    std::uint64_t elements = 0;
    std::uint64_t payloadBits = 0;
    std::uint64_t scaleBits = 0;
    std::uint64_t zeroBits = 0;
    std::uint64_t extraBits = 0; // second-level scales, tensor scales, codebooks

    // Adds another tensor's cost (whole-model totals).
    void merge(const StorageCost& o) {
        elements += o.elements;
        payloadBits += o.payloadBits;
        scaleBits += o.scaleBits;
        zeroBits += o.zeroBits;
        extraBits += o.extraBits;
    }

    std::uint64_t totalBits() const { return payloadBits + scaleBits + zeroBits + extraBits; }
    std::uint64_t bytes() const { return (totalBits() + 7) / 8; }
    double bitsPerWeight() const {
        return elements ? static_cast<double>(totalBits()) / static_cast<double>(elements) : 0.0;
    }
};

} // namespace qs
