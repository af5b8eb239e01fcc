#include "fixture_imatrix.h"

#include "fixture_gguf.h"

#include <cstring>

namespace qs::test {
namespace {

std::vector<std::uint8_t> floatBytes(const std::vector<float>& v) {
    std::vector<std::uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

void i32(std::vector<std::uint8_t>& b, std::int32_t v) {
    // (resize and copy: GCC 12 warns falsely on insert's inlined move, -Wstringop-overflow)
    const std::size_t at = b.size();
    b.resize(at + 4);
    std::memcpy(b.data() + at, &v, 4);
}

} // namespace

std::vector<std::uint8_t> imatrixGguf(const std::vector<ImatrixFixtureEntry>& entries,
                                      std::uint32_t chunks, const std::string& dataset) {
    GgufFixture f;
    f.addString("general.type", "imatrix");
    f.addU32("imatrix.chunk_count", chunks);
    f.addU32("imatrix.chunk_size", 512);
    GgufBytes datasets;
    datasets.u32(8).u64(1).str(dataset); // array of 1 string
    f.addKv("imatrix.datasets", 9, datasets);
    for (const auto& e : entries) {
        const auto rows = static_cast<std::int64_t>(e.counts.size());
        const auto cols = static_cast<std::int64_t>(e.sums.size()) / rows;
        f.addTensor({e.name + ".in_sum2", 0, {cols, rows}, floatBytes(e.sums)});
        f.addTensor({e.name + ".counts", 0, {1, rows}, floatBytes(e.counts)});
    }
    return f.bytes();
}

std::vector<std::uint8_t> imatrixLegacy(const std::vector<LegacyImatrixEntry>& entries,
                                        std::int32_t lastChunk, const std::string& dataset) {
    std::vector<std::uint8_t> b;
    i32(b, static_cast<std::int32_t>(entries.size()));
    for (const auto& e : entries) {
        i32(b, static_cast<std::int32_t>(e.name.size()));
        b.insert(b.end(), e.name.begin(), e.name.end());
        i32(b, e.ncall);
        i32(b, static_cast<std::int32_t>(e.stored.size()));
        const auto v = floatBytes(e.stored);
        b.insert(b.end(), v.begin(), v.end());
    }
    if (!dataset.empty()) {
        i32(b, lastChunk);
        i32(b, static_cast<std::int32_t>(dataset.size()));
        b.insert(b.end(), dataset.begin(), dataset.end());
    }
    return b;
}

} // namespace qs::test
