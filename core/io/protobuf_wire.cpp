#include "io/protobuf_wire.h"

#include <cstring>

namespace qs::pb {

bool readVarint(std::span<const std::byte> in, std::size_t& pos, std::uint64_t& out) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (pos >= in.size())
            return false;
        const auto b = static_cast<std::uint8_t>(in[pos++]);
        v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            out = v;
            return true;
        }
    }
    return false;
}

bool WireReader::next(Field& f) {
    if (m_error || m_pos >= m_in.size())
        return false;
    std::uint64_t tag = 0;
    if (!readVarint(m_in, m_pos, tag))
        return fail("truncated or overlong field tag");
    if (tag >> 3 == 0 || tag >> 3 > 0x1FFFFFFF)
        return fail("invalid field number");
    f.number = static_cast<std::uint32_t>(tag >> 3);
    const auto remaining = [&] { return m_in.size() - m_pos; };
    switch (tag & 7) {
    case 0:
        f.type = WireType::Varint;
        if (!readVarint(m_in, m_pos, f.value))
            return fail("truncated varint");
        return true;
    case 1:
        f.type = WireType::Fixed64;
        if (remaining() < 8)
            return fail("truncated 64-bit field");
        std::memcpy(&f.value, m_in.data() + m_pos, 8); // little-endian hosts only (x86-64, arm64)
        m_pos += 8;
        return true;
    case 5: {
        f.type = WireType::Fixed32;
        if (remaining() < 4)
            return fail("truncated 32-bit field");
        std::uint32_t v = 0;
        std::memcpy(&v, m_in.data() + m_pos, 4);
        f.value = v;
        m_pos += 4;
        return true;
    }
    case 2: {
        f.type = WireType::Len;
        std::uint64_t n = 0;
        if (!readVarint(m_in, m_pos, n))
            return fail("truncated length");
        if (n > remaining())
            return fail("a field runs past the end of its message (truncated file?)");
        f.bytes = m_in.subspan(m_pos, static_cast<std::size_t>(n));
        m_pos += static_cast<std::size_t>(n);
        return true;
    }
    default:
        return fail("unsupported wire type (protobuf groups or garbage)");
    }
}

bool countPacked(WireType element, std::span<const std::byte> payload, std::uint64_t& count) {
    switch (element) {
    case WireType::Fixed32:
        count = payload.size() / 4;
        return payload.size() % 4 == 0;
    case WireType::Fixed64:
        count = payload.size() / 8;
        return payload.size() % 8 == 0;
    case WireType::Varint: {
        std::uint64_t n = 0;
        for (auto b : payload)
            n += (static_cast<std::uint8_t>(b) & 0x80) ? 0 : 1;
        count = n;
        // A varint ends on a byte without the continuation bit; so must the payload.
        return payload.empty() || !(static_cast<std::uint8_t>(payload.back()) & 0x80);
    }
    default:
        return false;
    }
}

} // namespace qs::pb
