#include "fixture_gguf.h"

#include <cstring>

namespace qs::test {
namespace {

template <class T> void put(std::vector<std::uint8_t>& b, T v) {
    std::uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    b.insert(b.end(), tmp, tmp + sizeof(T));
}

std::uint64_t alignUp(std::uint64_t v, std::uint64_t a) {
    return (v + a - 1) / a * a;
}

} // namespace

GgufBytes& GgufBytes::u8(std::uint8_t v) {
    put(b, v);
    return *this;
}
GgufBytes& GgufBytes::u16(std::uint16_t v) {
    put(b, v);
    return *this;
}
GgufBytes& GgufBytes::u32(std::uint32_t v) {
    put(b, v);
    return *this;
}
GgufBytes& GgufBytes::u64(std::uint64_t v) {
    put(b, v);
    return *this;
}
GgufBytes& GgufBytes::f32(float v) {
    put(b, v);
    return *this;
}
GgufBytes& GgufBytes::f64(double v) {
    put(b, v);
    return *this;
}
GgufBytes& GgufBytes::str(std::string_view s) {
    put(b, static_cast<std::uint64_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
    return *this;
}
GgufBytes& GgufBytes::raw(const std::vector<std::uint8_t>& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
}

void GgufFixture::addKv(std::string_view key, std::uint32_t type, const GgufBytes& value) {
    m_kvs.str(key).u32(type).raw(value.b);
    ++m_kvCount;
}

void GgufFixture::addString(std::string_view key, std::string_view value) {
    addKv(key, 8, GgufBytes().str(value));
}

void GgufFixture::addU32(std::string_view key, std::uint32_t value) {
    addKv(key, 4, GgufBytes().u32(value));
}

void GgufFixture::setAlignment(std::uint32_t alignment) {
    m_alignment = alignment;
    addU32("general.alignment", alignment);
}

std::vector<std::uint8_t> GgufFixture::bytes() const {
    GgufBytes out;
    out.raw({'G', 'G', 'U', 'F'}).u32(m_version).u64(m_tensors.size()).u64(m_kvCount);
    out.raw(m_kvs.b);
    m_infoStart = out.b.size();
    std::vector<std::uint64_t> offsets;
    std::uint64_t running = 0;
    for (const auto& t : m_tensors) {
        offsets.push_back(t.offsetOverride >= 0 ? static_cast<std::uint64_t>(t.offsetOverride)
                                                : running);
        running = alignUp(running + t.data.size(), m_alignment);
    }
    for (std::size_t i = 0; i < m_tensors.size(); ++i) {
        const auto& t = m_tensors[i];
        out.str(t.name).u32(static_cast<std::uint32_t>(t.ne.size()));
        for (auto d : t.ne)
            out.u64(static_cast<std::uint64_t>(d));
        out.u32(t.type).u64(offsets[i]);
    }
    out.b.resize(alignUp(out.b.size(), m_alignment), 0);
    m_dataStart = out.b.size();
    for (std::size_t i = 0; i < m_tensors.size(); ++i) {
        if (m_tensors[i].offsetOverride >= 0)
            continue; // a deliberately wrong offset points at data laid out for the others
        out.b.resize(m_dataStart + offsets[i], 0);
        out.raw(m_tensors[i].data);
    }
    out.b.resize(m_dataStart + alignUp(out.b.size() - m_dataStart, m_alignment), 0);
    return out.b;
}

} // namespace qs::test
