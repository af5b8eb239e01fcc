#pragma once
// HDF5 fixture writer: datasets of chosen types, layouts and filters, at any path.

#include <cstdint>
#include <string>
#include <vector>

namespace qs::test {

struct Hdf5Dataset {
    std::string path; // e.g. "model_weights/dense/dense/kernel:0" (groups are created)
    std::string type; // "f32", "f64", "f32be", "f16", "i16", "u8", "str"
    std::vector<std::uint64_t> dims;
    std::vector<double> values; // converted to `type`
    bool chunkedGzip = false;
};

void writeHdf5(const std::string& path, const std::vector<Hdf5Dataset>& datasets,
               const std::vector<std::pair<std::string, std::string>>& rootStringAttributes = {});

} // namespace qs::test
