#pragma once
// The codebooks of bitsandbytes-style quantization and their packing, as pure functions:
//   - the inverse standard normal CDF (Acklam's rational approximation + one Halley step on
//     erfc, |error| < 1e-15 over (0, 1));
//   - NormalFloat codebooks nf2..nf8: nf4 is bitsandbytes' table verbatim (NUMERICS.md 1.1);
//     other k follow bnb's create_normal_map construction with
//     offset_k = ((1 - 1/(2(2^k - 1))) + (1 - 1/(2^(k+1)))) / 2 (0.9677083 for k = 4):
//     2^(k-1) positive quantiles Phi^-1(linspace(offset_k, 0.5, 2^(k-1) + 1)[:-1]), 2^(k-1) - 1
//     negative ones -Phi^-1(linspace(offset_k, 0.5, 2^(k-1))[:-1]), and an exact 0; float32,
//     sorted, divided by the largest. linspace is torch's float32 one (start + i*step below half,
//     end - (n-1-i)*step above);
//   - bnb's FP4 (get_4bit_type("fp4")): magnitudes {0, 0.0625, 8, 12, 4, 6, 2, 3}/12 for codes
//     0..7, bit 3 the sign, and the CUDA kernel's threshold tree to encode;
//   - bnb's signed 8-bit dynamic map create_dynamic_map(signed=True, max_exponent_bits=7,
//     total_bits=8), used by double quantization;
//   - nibble packing: bitsandbytes puts the FIRST element in the HIGH nibble; torchao and ggml put
//     it in the low nibble. An odd count leaves the last byte's other nibble 0.

#include <cstdint>
#include <span>
#include <vector>

namespace qs {

double inverseNormalCdf(double p); // p in (0, 1); +-inf at 0 / 1, NaN outside

std::vector<float> torchLinspaceF32(double start, double end, int steps);
double normalFloatOffset(int k);
std::vector<float> normalFloatCodebook(int k); // sorted, 2^k values, k in 2..8

std::span<const float> bnbFp4Table();    // 16 entries indexed by code
std::uint8_t encodeBnbFp4(float scaled); // x / absmax in [-1, 1] -> code 0..15
std::vector<float> bnbFp4Levels();       // distinct values, sorted (15)
std::vector<float> bnbDynamicMap();      // 256 entries, sorted

std::vector<std::uint8_t> packNibblesHighFirst(std::span<const std::uint8_t> codes);
std::vector<std::uint8_t> unpackNibblesHighFirst(std::span<const std::uint8_t> bytes,
                                                 std::size_t count);
std::vector<std::uint8_t> packNibblesLowFirst(std::span<const std::uint8_t> codes);
std::vector<std::uint8_t> unpackNibblesLowFirst(std::span<const std::uint8_t> bytes,
                                                std::size_t count);

} // namespace qs
