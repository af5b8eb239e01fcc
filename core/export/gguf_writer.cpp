#include "export/gguf_writer.h"

#include "quant/ggml_quant.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace qs {
namespace {

constexpr std::uint32_t kGgufMagic = 0x46554747; // "GGUF"
constexpr std::uint32_t kGgufVersion = 3;
constexpr std::size_t kMaxNameBytes = 63; // GGML_MAX_NAME - 1

class Bytes {
public:
    template <class T> Bytes& put(T v) {
        static_assert(std::endian::native == std::endian::little);
        // (resize and copy: GCC 12 warns falsely on insert's inlined move, -Wstringop-overflow)
        const std::size_t at = b.size();
        b.resize(at + sizeof(T));
        std::memcpy(b.data() + at, &v, sizeof(T));
        return *this;
    }
    Bytes& str(const std::string& s) {
        put<std::uint64_t>(s.size());
        const auto* p = reinterpret_cast<const std::byte*>(s.data());
        b.insert(b.end(), p, p + s.size());
        return *this;
    }
    std::vector<std::byte> b;
};

std::vector<std::byte> typed(GgufValueType t, const std::function<void(Bytes&)>& value) {
    Bytes x;
    x.put(static_cast<std::uint32_t>(t));
    value(x);
    return std::move(x.b);
}

template <class T> std::vector<std::byte> array(GgufValueType elem, const std::vector<T>& values) {
    return typed(GgufValueType::Array, [&](Bytes& x) {
        x.put(static_cast<std::uint32_t>(elem)).put<std::uint64_t>(values.size());
        for (const auto& v : values)
            if constexpr (std::is_same_v<T, std::string>)
                x.str(v);
            else
                x.put(v);
    });
}

std::uint64_t alignUp(std::uint64_t v, std::uint64_t a) {
    return (v + a - 1) / a * a;
}

} // namespace

std::optional<std::uint64_t> ggmlTensorBytes(GgmlType t, const std::vector<std::int64_t>& shape) {
    const std::int64_t cols = shape.empty() ? 1 : shape.back();
    std::int64_t rows = 1;
    for (std::size_t i = 0; i + 1 < shape.size(); ++i)
        rows *= shape[i];
    const auto row = ggmlRowBytes(t, cols);
    if (!row)
        return std::nullopt;
    return static_cast<std::uint64_t>(rows) * *row;
}

Status GgufWriter::setAlignment(std::uint32_t alignment) {
    if (alignment == 0 || alignment % 8 != 0 || (alignment & (alignment - 1)) != 0)
        return makeError("GGUF alignment must be a power of two and a multiple of 8, not " +
                         std::to_string(alignment));
    m_alignment = alignment;
    setU32("general.alignment", alignment);
    return Ok{};
}

void GgufWriter::setPair(const std::string& key, std::vector<std::byte> typeAndValue) {
    for (auto& p : m_pairs)
        if (p.key == key) {
            p.typeAndValue = std::move(typeAndValue);
            return;
        }
    m_pairs.push_back({key, std::move(typeAndValue)});
}

void GgufWriter::setString(const std::string& key, const std::string& value) {
    setPair(key, typed(GgufValueType::String, [&](Bytes& x) { x.str(value); }));
}
void GgufWriter::setU32(const std::string& key, std::uint32_t value) {
    setPair(key, typed(GgufValueType::U32, [&](Bytes& x) { x.put(value); }));
}
void GgufWriter::setI32(const std::string& key, std::int32_t value) {
    setPair(key, typed(GgufValueType::I32, [&](Bytes& x) { x.put(value); }));
}
void GgufWriter::setU64(const std::string& key, std::uint64_t value) {
    setPair(key, typed(GgufValueType::U64, [&](Bytes& x) { x.put(value); }));
}
void GgufWriter::setF32(const std::string& key, float value) {
    setPair(key, typed(GgufValueType::F32, [&](Bytes& x) { x.put(value); }));
}
void GgufWriter::setBool(const std::string& key, bool value) {
    setPair(key, typed(GgufValueType::Bool,
                       [&](Bytes& x) { x.put(static_cast<std::uint8_t>(value ? 1 : 0)); }));
}
void GgufWriter::setStringArray(const std::string& key, const std::vector<std::string>& values) {
    setPair(key, array(GgufValueType::String, values));
}
void GgufWriter::setI32Array(const std::string& key, const std::vector<std::int32_t>& values) {
    setPair(key, array(GgufValueType::I32, values));
}
void GgufWriter::setF32Array(const std::string& key, const std::vector<float>& values) {
    setPair(key, array(GgufValueType::F32, values));
}
void GgufWriter::setEncoded(const std::string& key, std::span<const std::byte> typeAndValue) {
    setPair(key, std::vector<std::byte>(typeAndValue.begin(), typeAndValue.end()));
}

Status GgufWriter::copyPair(const GgufKv& kv, std::span<const std::byte> file) {
    const std::uint64_t keyBytes = 8 + kv.key.size();
    if (kv.offset > file.size() || kv.size > file.size() - kv.offset || kv.size < keyBytes + 4)
        return makeError("GGUF pair '" + kv.key + "' lies outside its file");
    setEncoded(kv.key, file.subspan(kv.offset + keyBytes, kv.size - keyBytes));
    return Ok{};
}

bool GgufWriter::has(const std::string& key) const {
    return std::any_of(m_pairs.begin(), m_pairs.end(), [&](const Pair& p) { return p.key == key; });
}

void GgufWriter::remove(const std::string& key) {
    std::erase_if(m_pairs, [&](const Pair& p) { return p.key == key; });
}

Status GgufWriter::addTensor(const std::string& name, const std::vector<std::int64_t>& shape,
                             GgmlType type, Producer produce) {
    if (name.empty() || name.size() > kMaxNameBytes)
        return makeError("GGUF tensor name '" + name + "' must be 1 to 63 bytes");
    if (shape.empty() || shape.size() > 4)
        return makeError("GGUF tensor '" + name + "' must have 1 to 4 dimensions");
    for (const auto& t : m_tensors)
        if (t.name == name)
            return makeError("GGUF tensor '" + name + "' added twice");
    const auto bytes = ggmlTensorBytes(type, shape);
    const GgmlTypeTraits* tr = ggmlTypeTraits(type);
    if (!bytes || !tr)
        return makeError("GGUF tensor '" + name + "': rows of " + std::to_string(shape.back()) +
                         " are not a multiple of the " + (tr ? tr->name : "?") + " block");
    std::uint64_t offset = 0;
    if (!m_tensors.empty())
        offset = alignUp(m_tensors.back().offset + m_tensors.back().bytes, m_alignment);
    m_tensors.push_back({name, shape, type, *bytes, offset, std::move(produce)});
    return Ok{};
}

std::uint64_t GgufWriter::dataBytes() const {
    return m_tensors.empty()
               ? 0
               : alignUp(m_tensors.back().offset + m_tensors.back().bytes, m_alignment);
}

Status GgufWriter::write(std::ostream& out, const ProgressFn& progress) const {
    Bytes h;
    h.put(kGgufMagic).put(kGgufVersion);
    h.put<std::uint64_t>(m_tensors.size()).put<std::uint64_t>(m_pairs.size());
    for (const auto& p : m_pairs) {
        h.str(p.key);
        h.b.insert(h.b.end(), p.typeAndValue.begin(), p.typeAndValue.end());
    }
    for (const auto& t : m_tensors) {
        h.str(t.name).put(static_cast<std::uint32_t>(t.shape.size()));
        for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it)
            h.put(static_cast<std::uint64_t>(*it));
        h.put(static_cast<std::uint32_t>(t.type)).put(t.offset);
    }
    h.b.resize(alignUp(h.b.size(), m_alignment), std::byte{0});
    out.write(reinterpret_cast<const char*>(h.b.data()), static_cast<std::streamsize>(h.b.size()));

    std::uint64_t written = 0;
    const std::vector<char> zeros(m_alignment, 0);
    for (std::size_t i = 0; i < m_tensors.size(); ++i) {
        const Tensor& t = m_tensors[i];
        if (!reportProgress(progress,
                            static_cast<double>(i) / static_cast<double>(m_tensors.size())))
            return cancelledError();
        out.write(zeros.data(), static_cast<std::streamsize>(t.offset - written));
        auto data = t.produce();
        if (!data)
            return data.error();
        if (data->size() != t.bytes)
            return makeError("GGUF tensor '" + t.name + "': produced " +
                             std::to_string(data->size()) + " bytes, expected " +
                             std::to_string(t.bytes));
        out.write(reinterpret_cast<const char*>(data->data()),
                  static_cast<std::streamsize>(data->size()));
        written = t.offset + t.bytes;
        if (!out)
            return makeError("write failed");
    }
    out.write(zeros.data(), static_cast<std::streamsize>(dataBytes() - written));
    return Ok{};
}

} // namespace qs
