#pragma once
// llama.cpp importance matrices as llama-imatrix writes them, built from the documented layouts
// (core/methods/imatrix_file.h), independent of the reader under test.

#include <cstdint>
#include <string>
#include <vector>

namespace qs::test {

struct ImatrixFixtureEntry {
    std::string name;          // llama.cpp tensor name, "blk.0.attn_q.weight"
    std::vector<float> sums;   // counts.size() rows of the tensor's input columns: sum of x^2
    std::vector<float> counts; // tokens per row (one row; one per expert)
};

// The GGUF format: general.type "imatrix", imatrix.chunk_count / chunk_size / datasets, and
// NAME.in_sum2 [rows, cols] and NAME.counts [rows, 1] as F32.
std::vector<std::uint8_t> imatrixGguf(const std::vector<ImatrixFixtureEntry>& entries,
                                      std::uint32_t chunks, const std::string& dataset);

// The legacy imatrix.dat: each entry's values stored as they are given (llama-imatrix stores
// the mean times ncall), then the trailer when `dataset` is not empty.
struct LegacyImatrixEntry {
    std::string name;
    std::int32_t ncall = 1;
    std::vector<float> stored;
};
std::vector<std::uint8_t> imatrixLegacy(const std::vector<LegacyImatrixEntry>& entries,
                                        std::int32_t lastChunk, const std::string& dataset);

} // namespace qs::test
