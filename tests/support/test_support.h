#pragma once
// Shared helpers for the QTest executables: paths to the source tree and the sample, fixture
// writers for each file format (tests write their own data), and named tolerances.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qs::test {

// Relative tolerance for float32 reconstructions compared with an independent computation.
inline constexpr double kFloatRelTol = 1e-6;

std::string sourceDir();  // QS_SOURCE_DIR from ctest, else the compiled-in source path
std::string samplePath(); // resources/samples/stories260K.safetensors
std::string binaryDir();  // QS_BINARY_DIR from ctest, else the compiled-in build path

struct FixtureTensor {
    std::string name;
    std::string dtype; // safetensors dtype string
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes; // raw little-endian data
};

std::vector<std::uint8_t> floatBytes(const std::vector<float>& v);

// Writes a valid safetensors file (header padded to 8 bytes, tensors laid out in order).
void writeSafetensors(const std::string& path, const std::vector<FixtureTensor>& tensors,
                      const std::vector<std::pair<std::string, std::string>>& metadata = {});
// Writes raw bytes (for malformed-file tests).
void writeBytes(const std::string& path, const std::vector<std::uint8_t>& bytes);
std::vector<std::uint8_t> safetensorsBytes(const std::string& headerJson,
                                           const std::vector<std::uint8_t>& data);

// Writes a .npy file: `descr` like "<f4", header as numpy writes it (version 1.0 unless the
// header needs more), data given raw.
void writeNpy(const std::string& path, const std::string& descr,
              const std::vector<std::int64_t>& shape, const std::vector<std::uint8_t>& data,
              bool fortranOrder = false, int version = 1);

} // namespace qs::test
