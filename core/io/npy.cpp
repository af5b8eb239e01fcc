#include "io/npy.h"

#include "util/text.h"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <optional>

namespace qs {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMaxHeader = 1 << 20;

// Minimal reader for the Python dict literal in an .npy header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
public:
    explicit HeaderParser(std::string_view s) : m_s(s) {}

    std::string descr;
    bool fortran = false;
    std::vector<std::int64_t> shape;
    bool sawDescr = false, sawFortran = false, sawShape = false;

    std::optional<std::string> parse() {
        skip();
        if (!eat('{'))
            return "header is not a dict";
        for (;;) {
            skip();
            if (eat('}'))
                break;
            auto key = str();
            if (!key)
                return "expected a quoted key";
            skip();
            if (!eat(':'))
                return "expected ':' after '" + *key + "'";
            skip();
            if (*key == "descr") {
                if (peek() == '[')
                    return "structured dtypes are not supported";
                auto v = str();
                if (!v)
                    return "descr is not a string";
                descr = *v;
                sawDescr = true;
            } else if (*key == "fortran_order") {
                if (word("True"))
                    fortran = true;
                else if (word("False"))
                    fortran = false;
                else
                    return "fortran_order is not True/False";
                sawFortran = true;
            } else if (*key == "shape") {
                if (!eat('('))
                    return "shape is not a tuple";
                for (;;) {
                    skip();
                    if (eat(')'))
                        break;
                    auto d = integer();
                    if (!d)
                        return "shape holds something other than a non-negative integer";
                    shape.push_back(*d);
                    if (shape.size() > kMaxDims)
                        return "shape has more than 64 dimensions";
                    skip();
                    if (eat(','))
                        continue;
                    skip();
                    if (!eat(')'))
                        return "shape tuple is not closed";
                    break;
                }
                sawShape = true;
            } else {
                return "unexpected key '" + *key + "'";
            }
            skip();
            if (eat(','))
                continue;
            skip();
            if (!eat('}'))
                return "expected ',' or '}'";
            break;
        }
        if (!sawDescr || !sawFortran || !sawShape)
            return "header lacks descr, fortran_order or shape";
        return std::nullopt;
    }

private:
    std::string_view m_s;
    size_t m_i = 0;
    char peek() const { return m_i < m_s.size() ? m_s[m_i] : '\0'; }
    void skip() {
        while (m_i < m_s.size() && std::isspace(static_cast<unsigned char>(m_s[m_i])))
            ++m_i;
    }
    bool eat(char c) {
        if (peek() != c)
            return false;
        ++m_i;
        return true;
    }
    bool word(std::string_view w) {
        if (m_s.substr(m_i, w.size()) != w)
            return false;
        m_i += w.size();
        return true;
    }
    std::optional<std::string> str() {
        const char q = peek();
        if (q != '\'' && q != '"')
            return std::nullopt;
        const size_t end = m_s.find(q, m_i + 1);
        if (end == std::string_view::npos)
            return std::nullopt;
        std::string out(m_s.substr(m_i + 1, end - m_i - 1));
        m_i = end + 1;
        return out;
    }
    std::optional<std::int64_t> integer() {
        std::int64_t v = 0;
        size_t start = m_i;
        while (m_i < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[m_i]))) {
            const int digit = m_s[m_i] - '0';
            if (v > (INT64_MAX - digit) / 10)
                return std::nullopt;
            v = v * 10 + digit;
            ++m_i;
        }
        if (m_i == start)
            return std::nullopt;
        if (peek() == 'L') // Python 2 long literal
            ++m_i;
        return v;
    }
};

struct DescrType {
    DType type;
    bool swapped;
};

std::optional<DescrType> parseDescr(const std::string& d, std::string& why) {
    if (d.find('O') != std::string::npos) {
        why = "object arrays are pickles and are never loaded";
        return std::nullopt;
    }
    if (d.size() < 3) {
        why = "unsupported dtype '" + d + "'";
        return std::nullopt;
    }
    const char order = d[0];
    const std::string code = d.substr(1);
    static const std::pair<const char*, DType> kCodes[] = {
        {"b1", DType::Bool}, {"u1", DType::U8},  {"i1", DType::I8},  {"u2", DType::U16},
        {"i2", DType::I16},  {"u4", DType::U32}, {"i4", DType::I32}, {"u8", DType::U64},
        {"i8", DType::I64},  {"f2", DType::F16}, {"f4", DType::F32}, {"f8", DType::F64},
        {"c8", DType::C64},
    };
    for (const auto& [c, t] : kCodes) {
        if (code == c) {
            if (order != '<' && order != '>' && order != '|' && order != '=') {
                why = "bad byte order in dtype '" + d + "'";
                return std::nullopt;
            }
            return DescrType{t, order == '>' && bitsOf(t) > 8};
        }
    }
    why = "unsupported dtype '" + d + "'";
    return std::nullopt;
}

} // namespace

bool looksLikeNpy(std::span<const std::byte> head) {
    return head.size() >= 6 && std::memcmp(head.data(), kMagic, 6) == 0;
}

Result<NpyHeader> parseNpyHeader(std::span<const std::byte> b) {
    auto fail = [&](const std::string& what) { return makeError(printableLine(what)); };
    if (b.size() < 10 || !looksLikeNpy(b))
        return fail("not a NumPy .npy file");
    const auto major = static_cast<unsigned>(b[6]);
    size_t headerLen = 0, prefix = 0;
    if (major == 1) {
        headerLen = static_cast<size_t>(b[8]) | static_cast<size_t>(b[9]) << 8;
        prefix = 10;
    } else if (major == 2 || major == 3) {
        if (b.size() < 12)
            return fail("truncated .npy header");
        std::uint32_t n;
        std::memcpy(&n, b.data() + 8, 4);
        headerLen = n;
        prefix = 12;
    } else {
        return fail("unsupported .npy format version " + std::to_string(major));
    }
    if (headerLen > kMaxHeader)
        return fail(".npy header of " + std::to_string(headerLen) + " bytes is implausibly large");
    if (headerLen > b.size() - prefix)
        return fail(".npy header runs past the end of the file");
    std::string_view text(reinterpret_cast<const char*>(b.data() + prefix), headerLen);
    HeaderParser parser(text);
    if (auto err = parser.parse())
        return fail("malformed .npy header: " + *err);
    std::string why;
    const auto dt = parseDescr(parser.descr, why);
    if (!dt)
        return fail(why);

    NpyHeader h;
    h.version = std::to_string(major) + "." + std::to_string(unsigned(b[7]));
    h.descr = parser.descr;
    TensorInfo& t = h.tensor;
    t.shape = parser.shape;
    t.dtype = dt->type;
    t.byteSwapped = dt->swapped;
    t.fortranOrder = parser.fortran;
    std::uint64_t numel = 0;
    if (!checkedNumel(t.shape, numel) || numel > UINT64_MAX / 8)
        return fail("shape " + t.shapeString() + " overflows");
    t.nbytes = numel * static_cast<std::uint64_t>(bitsOf(t.dtype) / 8);
    t.offset = prefix + headerLen;
    return h;
}

Result<Checkpoint> readNpy(std::shared_ptr<const MappedFile> file) {
    const std::string& path = file->path();
    const auto b = file->bytes();
    auto header = parseNpyHeader(b);
    if (!header)
        return makeError(path + ": " + header.message());
    TensorInfo t = std::move(header->tensor);
    t.name = std::filesystem::path(path).stem().string();
    if (t.nbytes > b.size() - t.offset)
        return makeError(path + ": data is truncated: shape " + t.shapeString() + " needs " +
                         std::to_string(t.nbytes) + " bytes, the file has " +
                         std::to_string(b.size() - t.offset));
    Checkpoint ckpt(path, "npy");
    t.file = ckpt.addFile(file);
    ckpt.setMetadata("npy.version", header->version);
    ckpt.setMetadata("npy.descr", header->descr);
    ckpt.addTensor(std::move(t));
    return ckpt;
}

} // namespace qs
