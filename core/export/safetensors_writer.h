#pragma once
// A safetensors writer (NUMERICS.md §12.1): JSON header padded with spaces to a multiple of 8,
// tensors tiling the data buffer in the order added. Sizes are declared up front, so the header
// is written first and each item's bytes are produced only when its turn comes (one item in
// memory at a time). An item is one or more entries produced together (a quantized weight's
// packed codes, scales and zero-points). Not thread-safe; one writer per file.

#include "util/progress.h"
#include "util/result.h"

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace qs {

struct SafetensorsEntry {
    std::string name;
    std::string dtype; // "F32", "I32", "U8", "F8_E4M3", ...
    std::vector<std::int64_t> shape;
};

class SafetensorsWriter {
public:
    using Producer = std::function<Result<std::vector<std::vector<std::byte>>>()>;

    void setMetadata(const std::string& key, const std::string& value) { m_meta[key] = value; }
    // Errors: an unknown dtype, a duplicate name, a size that is not whole bytes.
    Status add(std::vector<SafetensorsEntry> entries, Producer produce);
    Status write(std::ostream& out, const ProgressFn& progress = {}) const;

private:
    struct Item {
        std::vector<SafetensorsEntry> entries;
        std::vector<std::uint64_t> bytes;
        Producer produce;
    };
    std::map<std::string, std::string> m_meta;
    std::vector<Item> m_items;
};

} // namespace qs
