#pragma once
// GGUF files (llama.cpp/ggml), versions 2 and 3, little-endian (NUMERICS.md §12.2). Opening parses
// the header only; tensors stay in the memory map and are decoded on read: plain types as their
// DType, ggml block types through ggmlDequantize. A tensor of a type id this build does not know
// is listed ("type 99") and fails only when read. Version 1 and big-endian files are refused with
// a message saying so. Every count, length and offset is checked against the file's size, so a
// hostile header ends in an error, never in a crash or an unbounded allocation.

#include "io/checkpoint.h"
#include "io/gguf_metadata.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace qs {

struct GgufTensorEntry {
    std::string name;
    std::vector<std::int64_t> shape; // row-major: GGUF's ne[] reversed
    std::uint32_t typeId = 0;        // ggml_type as stored
    std::uint64_t offset = 0;        // absolute byte offset of the data in the file
    std::uint64_t nbytes = 0;        // 0 when the type is unknown
};

struct GgufFile {
    std::uint32_t version = 0;
    std::uint64_t alignment = 32;
    std::uint64_t dataOffset = 0;         // absolute start of the (aligned) data section
    std::uint64_t metadataEnd = 0;        // where the key-value pairs end and tensor infos begin
    std::vector<GgufKv> metadata;         // in file order, each with its byte range
    std::vector<GgufTensorEntry> tensors; // in file order
};

bool looksLikeGguf(std::span<const std::byte> head);

// Parses and validates a whole GGUF header. Errors are one line without the file name.
Result<GgufFile> parseGguf(std::span<const std::byte> bytes);

// The checkpoint of a GGUF file: tensors in file order, metadata keys with readable values.
Result<Checkpoint> readGguf(std::shared_ptr<const MappedFile> file);

} // namespace qs
