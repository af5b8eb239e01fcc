#pragma once
// A read-only memory map of a whole file. Opening reads nothing; pages come in on access.
// Movable, not copyable; the mapping lives as long as the object. Any thread may read.

#include "util/result.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace qs {

class MappedFile {
public:
    static Result<std::shared_ptr<const MappedFile>> open(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::string& path() const { return m_path; }
    std::uint64_t size() const { return m_size; }
    std::span<const std::byte> bytes() const { return {m_data, static_cast<size_t>(m_size)}; }
    // Gives back the resident pages wholly inside [offset, offset + length) (madvise DONTNEED):
    // streaming a checkpoint through then costs no more resident memory than its window. The
    // bytes stay readable; a later access reads them from the page cache again.
    void release(std::uint64_t offset, std::uint64_t length) const;

private:
    MappedFile() = default;
    std::string m_path;
    const std::byte* m_data = nullptr;
    std::uint64_t m_size = 0;
};

} // namespace qs
