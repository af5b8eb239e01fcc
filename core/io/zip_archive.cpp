#include "io/zip_archive.h"

#include "util/text.h"

#include <zip.h>

#include <algorithm>
#include <cstring>

namespace qs {
namespace {

constexpr std::uint32_t kEocdSig = 0x06054b50;
constexpr std::uint32_t kZip64EocdSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kLocalSig = 0x04034b50;

// Bounds-checked little-endian reads over the mapped file.
class Reader {
public:
    explicit Reader(std::span<const std::byte> b) : m_b(b) {}
    bool has(std::uint64_t off, std::uint64_t n) const {
        return off <= m_b.size() && n <= m_b.size() - off;
    }
    template <class T> T at(std::uint64_t off) const {
        T v{};
        std::memcpy(&v, m_b.data() + off, sizeof(T));
        return v;
    }
    std::string str(std::uint64_t off, std::uint64_t n) const {
        return std::string(reinterpret_cast<const char*>(m_b.data() + off), n);
    }
    std::uint64_t size() const { return m_b.size(); }

private:
    std::span<const std::byte> m_b;
};

// Deflate expands at most about 1032:1.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

} // namespace

bool ZipArchive::looksLikeZip(std::span<const std::byte> head) {
    return head.size() >= 4 && head[0] == std::byte{'P'} && head[1] == std::byte{'K'} &&
           head[2] == std::byte{3} && head[3] == std::byte{4};
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
    auto it = std::find_if(m_entries.begin(), m_entries.end(),
                           [&](const ZipEntry& e) { return e.name == name; });
    return it == m_entries.end() ? nullptr : &*it;
}

Result<ZipArchive> ZipArchive::open(std::shared_ptr<const MappedFile> file) {
    const Reader r(file->bytes());
    auto fail = [&](const std::string& what) {
        return makeError(printableLine(file->path() + ": " + what));
    };
    if (r.size() < 22)
        return fail("too short for a ZIP archive");
    // The end-of-central-directory record lies in the last 22 + 65535 bytes.
    std::uint64_t eocd = UINT64_MAX;
    const std::uint64_t lowest = r.size() > 22 + 65535 ? r.size() - 22 - 65535 : 0;
    for (std::uint64_t p = r.size() - 22 + 1; p-- > lowest;)
        if (r.at<std::uint32_t>(p) == kEocdSig) {
            eocd = p;
            break;
        }
    if (eocd == UINT64_MAX)
        return fail("ZIP end-of-central-directory record not found (truncated archive?)");
    std::uint64_t count = r.at<std::uint16_t>(eocd + 10);
    std::uint64_t cdSize = r.at<std::uint32_t>(eocd + 12);
    std::uint64_t cdOffset = r.at<std::uint32_t>(eocd + 16);
    if (eocd >= 20 && r.at<std::uint32_t>(eocd - 20) == kZip64LocatorSig) {
        const auto z64 = r.at<std::uint64_t>(eocd - 20 + 8);
        if (!r.has(z64, 56) || r.at<std::uint32_t>(z64) != kZip64EocdSig)
            return fail("bad ZIP64 end-of-central-directory record");
        count = r.at<std::uint64_t>(z64 + 32);
        cdSize = r.at<std::uint64_t>(z64 + 40);
        cdOffset = r.at<std::uint64_t>(z64 + 48);
    }
    if (!r.has(cdOffset, cdSize))
        return fail("ZIP central directory lies outside the file");
    if (count > cdSize / 46)
        return fail("ZIP central directory claims more entries than it can hold");

    ZipArchive zip;
    zip.m_file = file;
    std::uint64_t p = cdOffset;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (!r.has(p, 46) || r.at<std::uint32_t>(p) != kCentralSig)
            return fail("corrupt ZIP central directory entry " + std::to_string(i));
        const auto flags = r.at<std::uint16_t>(p + 8);
        ZipEntry e;
        e.method = r.at<std::uint16_t>(p + 10);
        e.compressedSize = r.at<std::uint32_t>(p + 20);
        e.size = r.at<std::uint32_t>(p + 24);
        const auto nameLen = r.at<std::uint16_t>(p + 28);
        const auto extraLen = r.at<std::uint16_t>(p + 30);
        const auto commentLen = r.at<std::uint16_t>(p + 32);
        std::uint64_t local = r.at<std::uint32_t>(p + 42);
        if (!r.has(p + 46, std::uint64_t(nameLen) + extraLen + commentLen))
            return fail("corrupt ZIP central directory entry " + std::to_string(i));
        e.name = r.str(p + 46, nameLen);
        // ZIP64 extended information: the 64-bit values of the fields that are 0xFFFFFFFF.
        for (std::uint64_t x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
            const auto id = r.at<std::uint16_t>(x), len = r.at<std::uint16_t>(x + 2);
            if (x + 4 + len > p + 46 + nameLen + extraLen)
                break;
            if (id == 0x0001) {
                std::uint64_t q = x + 4;
                auto take = [&](std::uint64_t& field) {
                    if (field == 0xFFFFFFFF && q + 8 <= x + 4 + len) {
                        field = r.at<std::uint64_t>(q);
                        q += 8;
                    }
                };
                take(e.size);
                take(e.compressedSize);
                take(local);
            }
            x += 4 + len;
        }
        if (flags & 1)
            return fail("ZIP member '" + e.name + "' is encrypted");
        if (e.method != 0 && e.method != 8)
            return fail("ZIP member '" + e.name + "' uses compression method " +
                        std::to_string(e.method) + " (only stored and deflated are supported)");
        if (!r.has(local, 30) || r.at<std::uint32_t>(local) != kLocalSig)
            return fail("ZIP member '" + e.name + "' has no valid local header");
        e.dataOffset =
            local + 30 + r.at<std::uint16_t>(local + 26) + r.at<std::uint16_t>(local + 28);
        if (!r.has(e.dataOffset, e.compressedSize))
            return fail("ZIP member '" + e.name + "' runs past the end of the file");
        if (e.stored() && e.size != e.compressedSize)
            return fail("ZIP member '" + e.name + "' is stored but its sizes disagree");
        // A larger claim than deflate can produce is corrupt (or a bomb); it must not size an
        // allocation.
        if (!e.stored() && e.size > e.compressedSize * kMaxDeflateRatio + 1024)
            return fail("ZIP member '" + e.name + "' claims " + std::to_string(e.size) +
                        " bytes from " + std::to_string(e.compressedSize) +
                        " compressed, more than deflate can produce");
        zip.m_entries.push_back(std::move(e));
        p += 46 + std::uint64_t(nameLen) + extraLen + commentLen;
    }
    return zip;
}

Result<std::vector<std::byte>> ZipArchive::read(const ZipEntry& e, std::uint64_t maxBytes) const {
    const std::uint64_t want = std::min(maxBytes, e.size);
    std::vector<std::byte> out;
    try {
        out.resize(want);
    } catch (const std::bad_alloc&) {
        return makeError("not enough memory to read ZIP member '" + e.name + "'");
    }
    const auto bytes = m_file->bytes();
    if (e.stored()) {
        if (want) // an empty member's buffer may be null
            std::memcpy(out.data(), bytes.data() + e.dataOffset, want);
        return out;
    }
    // Inflate through libzip, over the mapped bytes (no copy of the archive).
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    zip_t* za = src ? zip_open_from_source(src, ZIP_RDONLY, &err) : nullptr;
    if (!za) {
        if (src)
            zip_source_free(src);
        const std::string msg = zip_error_strerror(&err);
        zip_error_fini(&err);
        return makeError(m_file->path() + ": libzip cannot open the archive: " + msg);
    }
    zip_error_fini(&err);
    std::string problem;
    zip_file_t* zf = zip_fopen(za, e.name.c_str(), 0);
    if (!zf) {
        problem = zip_strerror(za);
    } else {
        std::uint64_t got = 0;
        while (got < want) {
            const zip_int64_t n = zip_fread(zf, out.data() + got, want - got);
            if (n < 0) {
                problem = zip_file_strerror(zf);
                break;
            }
            if (n == 0)
                break;
            got += static_cast<std::uint64_t>(n);
        }
        if (problem.empty() && got != want)
            problem = "member is shorter than its directory entry says";
        zip_fclose(zf);
    }
    zip_discard(za);
    if (!problem.empty())
        return makeError(
            printableLine(m_file->path() + ": cannot inflate '" + e.name + "': " + problem));
    return out;
}

} // namespace qs
