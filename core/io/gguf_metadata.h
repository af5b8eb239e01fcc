#pragma once
// GGUF metadata: the key-value pairs of a GGUF header, parsed with every bound checked against
// the bytes actually present (NUMERICS.md §12.2). Each pair keeps its exact byte range in the file
// so a GGUF exporter can copy pairs verbatim, plus a readable one-line rendering for display.
// Pure functions over a byte span; any thread may call them.

#include "util/result.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace qs {

enum class GgufValueType : std::uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};

// "u8", "i32", "string", "array", ...; "type N" for an id outside the table.
std::string ggufValueTypeName(std::uint32_t id);

struct GgufKv {
    std::string key;
    GgufValueType type = GgufValueType::U8;
    GgufValueType elementType = GgufValueType::U8; // arrays only
    std::uint64_t count = 0;                       // arrays only: number of elements
    std::uint64_t offset = 0; // absolute byte offset of the pair (the key's length field)
    std::uint64_t size = 0;   // bytes of the whole pair: key, value type and value
    std::string display;      // "32000", "llama", "[string × 32000: <unk>, <s>, …]"
    std::optional<std::uint64_t> integer; // scalar unsigned/positive integer value, if any
};

// A bounds-checked little-endian reader over a file's bytes. Every read fails (returns false)
// instead of reading past the end.
class GgufCursor {
public:
    GgufCursor(std::span<const std::byte> bytes, std::uint64_t pos) : m_bytes(bytes), m_pos(pos) {}
    std::uint64_t pos() const { return m_pos; }
    std::uint64_t remaining() const { return m_pos <= m_bytes.size() ? m_bytes.size() - m_pos : 0; }
    bool readU32(std::uint32_t& v);
    bool readU64(std::uint64_t& v);
    bool skip(std::uint64_t n);
    // A u64 length then that many bytes; fails when the length exceeds what is left.
    bool readString(std::string_view& s);
    const std::byte* at() const { return m_bytes.data() + m_pos; }

private:
    std::span<const std::byte> m_bytes;
    std::uint64_t m_pos = 0;
};

// Parses the pair at the cursor. `displayBudget` is the number of display characters the caller
// still allows (bounding memory for hostile files); it is decreased. Errors say what is wrong,
// without the file name.
Result<GgufKv> readGgufKv(GgufCursor& cursor, std::uint64_t& displayBudget);

} // namespace qs
