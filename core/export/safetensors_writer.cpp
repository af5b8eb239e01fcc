#include "export/safetensors_writer.h"

#include "io/checkpoint.h"
#include "tensor/dtype.h"

#include <nlohmann/json.hpp>

#include <set>

namespace qs {

Status SafetensorsWriter::add(std::vector<SafetensorsEntry> entries, Producer produce) {
    Item item;
    for (const auto& e : entries) {
        const auto dt = dtypeFromName(e.dtype);
        if (!dt)
            return makeError("safetensors: unknown dtype " + e.dtype + " for " + e.name);
        for (const auto& other : m_items)
            for (const auto& o : other.entries)
                if (o.name == e.name)
                    return makeError("safetensors: tensor '" + e.name + "' added twice");
        std::uint64_t n = 0;
        if (!checkedNumel(e.shape, n) || (n * static_cast<std::uint64_t>(bitsOf(*dt))) % 8 != 0)
            return makeError("safetensors: '" + e.name + "' is not a whole number of bytes");
        item.bytes.push_back(n * static_cast<std::uint64_t>(bitsOf(*dt)) / 8);
    }
    item.entries = std::move(entries);
    item.produce = std::move(produce);
    m_items.push_back(std::move(item));
    return Ok{};
}

Status SafetensorsWriter::write(std::ostream& out, const ProgressFn& progress) const {
    nlohmann::ordered_json header;
    if (!m_meta.empty())
        header["__metadata__"] = m_meta;
    std::uint64_t offset = 0;
    for (const auto& item : m_items)
        for (std::size_t i = 0; i < item.entries.size(); ++i) {
            const auto& e = item.entries[i];
            header[e.name] = {{"dtype", e.dtype},
                              {"shape", e.shape},
                              {"data_offsets", {offset, offset + item.bytes[i]}}};
            offset += item.bytes[i];
        }
    std::string text = header.dump();
    text.resize((text.size() + 7) / 8 * 8, ' ');
    const std::uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (std::size_t k = 0; k < m_items.size(); ++k) {
        if (!reportProgress(progress, static_cast<double>(k) / static_cast<double>(m_items.size())))
            return cancelledError();
        const Item& item = m_items[k];
        auto blobs = item.produce();
        if (!blobs)
            return blobs.error();
        if (blobs->size() != item.entries.size())
            return makeError("safetensors: '" + item.entries.front().name +
                             "' produced the wrong number of parts");
        for (std::size_t i = 0; i < blobs->size(); ++i) {
            if ((*blobs)[i].size() != item.bytes[i])
                return makeError("safetensors: '" + item.entries[i].name + "' produced " +
                                 std::to_string((*blobs)[i].size()) + " bytes, expected " +
                                 std::to_string(item.bytes[i]));
            out.write(reinterpret_cast<const char*>((*blobs)[i].data()),
                      static_cast<std::streamsize>((*blobs)[i].size()));
        }
        if (!out)
            return makeError("write failed");
    }
    return Ok{};
}

} // namespace qs
