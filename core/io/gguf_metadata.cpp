#include "io/gguf_metadata.h"

#include "util/text.h"

#include <charconv>
#include <cstring>

namespace qs {
namespace {

constexpr int kMaxArrayDepth = 8;             // nested arrays deeper than this are refused
constexpr std::size_t kMaxStringShown = 4096; // a chat template stays readable, a 1 GB one does not
constexpr std::size_t kMaxElementShown = 40;
constexpr std::uint64_t kShortArray = 8; // arrays up to this length are shown whole
constexpr std::uint64_t kShownElements = 4;

constexpr const char* kTypeNames[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                      "bool", "string", "array", "u64", "i64", "f64"};

bool knownType(std::uint32_t id) {
    return id <= static_cast<std::uint32_t>(GgufValueType::F64);
}

// Bytes of a fixed-size value, 0 for strings and arrays.
std::uint64_t scalarSize(GgufValueType t) {
    switch (t) {
    case GgufValueType::U8:
    case GgufValueType::I8:
    case GgufValueType::Bool:
        return 1;
    case GgufValueType::U16:
    case GgufValueType::I16:
        return 2;
    case GgufValueType::U32:
    case GgufValueType::I32:
    case GgufValueType::F32:
        return 4;
    case GgufValueType::U64:
    case GgufValueType::I64:
    case GgufValueType::F64:
        return 8;
    default:
        return 0;
    }
}

template <class T> T load(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <class T> std::string numberText(T v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

std::string scalarText(GgufValueType t, const std::byte* p, std::optional<std::uint64_t>* integer) {
    auto asInteger = [&](auto v) {
        if (integer && v >= 0)
            *integer = static_cast<std::uint64_t>(v);
        return numberText(v);
    };
    switch (t) {
    case GgufValueType::U8:
        return asInteger(load<std::uint8_t>(p));
    case GgufValueType::I8:
        return asInteger(load<std::int8_t>(p));
    case GgufValueType::U16:
        return asInteger(load<std::uint16_t>(p));
    case GgufValueType::I16:
        return asInteger(load<std::int16_t>(p));
    case GgufValueType::U32:
        return asInteger(load<std::uint32_t>(p));
    case GgufValueType::I32:
        return asInteger(load<std::int32_t>(p));
    case GgufValueType::U64:
        return asInteger(load<std::uint64_t>(p));
    case GgufValueType::I64:
        return asInteger(load<std::int64_t>(p));
    case GgufValueType::F32:
        return numberText(load<float>(p));
    case GgufValueType::F64:
        return numberText(load<double>(p));
    case GgufValueType::Bool:
        return load<std::uint8_t>(p) ? "true" : "false";
    default:
        return {};
    }
}

// At most `limit` bytes of `s`, cut at a UTF-8 character boundary, on one line.
std::string shortened(std::string_view s, std::size_t limit) {
    if (s.size() <= limit)
        return printableLine(s);
    std::size_t n = limit;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
        --n;
    return printableLine(s.substr(0, n)) + "…";
}

class ValueReader {
public:
    ValueReader(GgufCursor& c, std::uint64_t& budget) : m_c(c), m_budget(budget) {}

    // Reads one value of type `id`; appends its rendering to `out` when out is set.
    Status read(std::uint32_t id, int depth, std::string* out, std::size_t stringLimit,
                GgufKv* kv) {
        if (!knownType(id))
            return makeError("unknown value type " + std::to_string(id));
        const auto t = static_cast<GgufValueType>(id);
        if (const auto n = scalarSize(t)) {
            if (m_c.remaining() < n)
                return makeError("value runs past the end of the file");
            if (out)
                append(*out, scalarText(t, m_c.at(), kv ? &kv->integer : nullptr));
            m_c.skip(n);
            return Ok{};
        }
        if (t == GgufValueType::String) {
            std::string_view s;
            if (!m_c.readString(s))
                return makeError("string length runs past the end of the file");
            if (out)
                append(*out, shortened(s, stringLimit));
            return Ok{};
        }
        return readArray(depth, out, kv);
    }

    Status budgetLeft() const {
        if (m_exhausted)
            return makeError("metadata text exceeds the memory limit");
        return Ok{};
    }

private:
    void append(std::string& out, const std::string& s) {
        if (s.size() > m_budget) {
            m_exhausted = true;
            return;
        }
        m_budget -= s.size();
        out += s;
    }

    Status readArray(int depth, std::string* out, GgufKv* kv) {
        if (depth >= kMaxArrayDepth)
            return makeError("arrays nested deeper than " + std::to_string(kMaxArrayDepth));
        std::uint32_t elem = 0;
        std::uint64_t count = 0;
        if (!m_c.readU32(elem) || !m_c.readU64(count))
            return makeError("array header runs past the end of the file");
        if (!knownType(elem))
            return makeError("array of unknown value type " + std::to_string(elem));
        const auto et = static_cast<GgufValueType>(elem);
        // Each element takes at least this many bytes, so a count the file cannot hold is a lie.
        const std::uint64_t minSize = scalarSize(et)                ? scalarSize(et)
                                      : et == GgufValueType::String ? 8
                                                                    : 12;
        if (count > m_c.remaining() / minSize)
            return makeError("array of " + std::to_string(count) + " " + ggufValueTypeName(elem) +
                             " elements does not fit in the file");
        if (kv) {
            kv->elementType = et;
            kv->count = count;
        }
        const bool whole = count <= kShortArray;
        const std::uint64_t shown = whole ? count : kShownElements;
        if (out) {
            append(*out, "[");
            if (!whole)
                append(*out, ggufValueTypeName(elem) + " × " + std::to_string(count) + ": ");
        }
        for (std::uint64_t i = 0; i < count; ++i) {
            if (scalarSize(et) && i == shown) { // skip the unshown rest in one step
                m_c.skip((count - i) * scalarSize(et));
                break;
            }
            std::string* target = out && i < shown ? out : nullptr;
            if (target && i > 0)
                append(*out, ", ");
            if (auto st = read(elem, depth + 1, target, kMaxElementShown, nullptr); !st)
                return st;
        }
        if (out)
            append(*out, whole ? "]" : ", …]");
        return Ok{};
    }

    GgufCursor& m_c;
    std::uint64_t& m_budget;
    bool m_exhausted = false;
};

} // namespace

std::string ggufValueTypeName(std::uint32_t id) {
    return knownType(id) ? kTypeNames[id] : "type " + std::to_string(id);
}

bool GgufCursor::readU32(std::uint32_t& v) {
    if (remaining() < 4)
        return false;
    v = load<std::uint32_t>(at());
    m_pos += 4;
    return true;
}

bool GgufCursor::readU64(std::uint64_t& v) {
    if (remaining() < 8)
        return false;
    v = load<std::uint64_t>(at());
    m_pos += 8;
    return true;
}

bool GgufCursor::skip(std::uint64_t n) {
    if (remaining() < n)
        return false;
    m_pos += n;
    return true;
}

bool GgufCursor::readString(std::string_view& s) {
    const auto start = m_pos;
    std::uint64_t n = 0;
    if (!readU64(n) || n > remaining()) {
        m_pos = start;
        return false;
    }
    s = std::string_view(reinterpret_cast<const char*>(at()), static_cast<std::size_t>(n));
    m_pos += n;
    return true;
}

Result<GgufKv> readGgufKv(GgufCursor& c, std::uint64_t& displayBudget) {
    GgufKv kv;
    kv.offset = c.pos();
    std::string_view key;
    if (!c.readString(key))
        return makeError("metadata key runs past the end of the file");
    kv.key = printableLine(key);
    std::uint32_t type = 0;
    if (!c.readU32(type))
        return makeError("metadata '" + kv.key + "': value type runs past the end of the file");
    if (!knownType(type))
        return makeError("metadata '" + kv.key + "' has unknown value type " +
                         std::to_string(type));
    kv.type = static_cast<GgufValueType>(type);
    ValueReader reader(c, displayBudget);
    if (auto st = reader.read(type, 0, &kv.display, kMaxStringShown, &kv); !st)
        return makeError("metadata '" + kv.key + "': " + st.message());
    if (auto st = reader.budgetLeft(); !st)
        return makeError("metadata '" + kv.key + "': " + st.message());
    kv.size = c.pos() - kv.offset;
    return kv;
}

} // namespace qs
