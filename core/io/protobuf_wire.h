#pragma once
// A minimal reader of the protocol-buffers wire format over bytes already in memory (a mapped
// file). Nothing is copied: length-delimited fields come back as spans into the input, so a
// multi-gigabyte ONNX initializer stays where it is, and positions are 64-bit, so there is no
// 2 GB limit either. Stateless apart from its cursor; any thread may use its own reader.

#include <cstddef>
#include <cstdint>
#include <span>

namespace qs::pb {

enum class WireType : std::uint8_t { Varint = 0, Fixed64 = 1, Len = 2, Fixed32 = 5 };

struct Field {
    std::uint32_t number = 0;
    WireType type = WireType::Varint;
    std::uint64_t value = 0;          // Varint, Fixed32 and Fixed64 payloads
    std::span<const std::byte> bytes; // Len payload, a view into the reader's input
};

// Decodes the varint at `pos` and advances past it; false when it runs past the end of `in` or
// is longer than the 10 bytes a 64-bit value can take.
bool readVarint(std::span<const std::byte> in, std::size_t& pos, std::uint64_t& out);

class WireReader {
public:
    explicit WireReader(std::span<const std::byte> message) : m_in(message) {}

    // Reads the next field. Returns false at the end of the message and on malformed input;
    // error() tells the two apart. Groups (wire types 3 and 4) count as malformed: no ONNX
    // writer emits them.
    bool next(Field& f);
    // Null at a clean end of the message, else what was wrong.
    const char* error() const { return m_error; }
    std::size_t position() const { return m_pos; }

private:
    bool fail(const char* why) {
        m_error = why;
        return false;
    }

    std::span<const std::byte> m_in;
    std::size_t m_pos = 0;
    const char* m_error = nullptr;
};

// Elements in a packed repeated field: fixed-width ones by size, varints by their final bytes.
// False when the payload is not a whole number of elements.
bool countPacked(WireType element, std::span<const std::byte> payload, std::uint64_t& count);

} // namespace qs::pb
