#pragma once
// The directory of a ZIP archive (ZIP64 included), read from a memory-mapped file. Stored
// members are addressed in place (no copy); deflated ones are inflated through libzip on
// request, never more than the size the directory declares.

#include "io/mapped_file.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qs {

struct ZipEntry {
    std::string name;
    std::uint16_t method = 0; // 0 stored, 8 deflated
    std::uint64_t compressedSize = 0;
    std::uint64_t size = 0;
    std::uint64_t dataOffset = 0; // absolute offset of the member's (compressed) bytes
    bool stored() const { return method == 0; }
};

class ZipArchive {
public:
    static bool looksLikeZip(std::span<const std::byte> head);
    static Result<ZipArchive> open(std::shared_ptr<const MappedFile> file);

    const std::vector<ZipEntry>& entries() const { return m_entries; }
    const ZipEntry* find(const std::string& name) const;
    const std::shared_ptr<const MappedFile>& file() const { return m_file; }

    // The member's uncompressed bytes, at most `maxBytes` of them (from the start).
    Result<std::vector<std::byte>> read(const ZipEntry& e,
                                        std::uint64_t maxBytes = UINT64_MAX) const;

private:
    std::shared_ptr<const MappedFile> m_file;
    std::vector<ZipEntry> m_entries;
};

} // namespace qs
