#pragma once
// A GGUF writer built from the documented layout (NUMERICS.md §12.2), independent of the reader
// under test: header, key-value pairs, tensor infos, padding, aligned data. Tests build valid
// files with it and then break them on purpose, so it also reports where each section starts.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qs::test {

// Little-endian encoders for GGUF's fields.
struct GgufBytes {
    std::vector<std::uint8_t> b;
    GgufBytes& u8(std::uint8_t v);
    GgufBytes& u16(std::uint16_t v);
    GgufBytes& u32(std::uint32_t v);
    GgufBytes& u64(std::uint64_t v);
    GgufBytes& f32(float v);
    GgufBytes& f64(double v);
    GgufBytes& str(std::string_view s); // u64 length + bytes
    GgufBytes& raw(const std::vector<std::uint8_t>& v);
};

struct GgufFixtureTensor {
    std::string name;
    std::uint32_t type = 0;       // ggml type id
    std::vector<std::int64_t> ne; // GGUF order: ne[0] (contiguous) first
    std::vector<std::uint8_t> data;
    std::int64_t offsetOverride = -1; // >= 0: write this relative offset instead of the real one
};

class GgufFixture {
public:
    explicit GgufFixture(std::uint32_t version = 3) : m_version(version) {}
    // A pair whose value bytes (after the type) are given encoded.
    void addKv(std::string_view key, std::uint32_t type, const GgufBytes& value);
    void addString(std::string_view key, std::string_view value);
    void addU32(std::string_view key, std::uint32_t value);
    // Writes general.alignment too, and lays data out on this alignment.
    void setAlignment(std::uint32_t alignment);
    void addTensor(GgufFixtureTensor t) { m_tensors.push_back(std::move(t)); }

    std::vector<std::uint8_t> bytes() const;
    // Section starts of the last bytes() call: key-value pairs, tensor infos, data.
    std::size_t kvStart() const { return 24; }
    std::size_t infoStart() const { return m_infoStart; }
    std::size_t dataStart() const { return m_dataStart; }

private:
    std::uint32_t m_version;
    std::uint32_t m_alignment = 32;
    std::uint64_t m_kvCount = 0;
    GgufBytes m_kvs;
    std::vector<GgufFixtureTensor> m_tensors;
    mutable std::size_t m_infoStart = 0, m_dataStart = 0;
};

} // namespace qs::test
