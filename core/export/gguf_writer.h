#pragma once
// A GGUF v3 writer (NUMERICS.md §12.2): key-value pairs (every value type, arrays included, or
// copied verbatim from another GGUF), tensor infos with GGUF's reversed dimension order, and
// tensor data aligned to general.alignment (default 32; always written). Tensor sizes are known
// up front from the ggml type and shape, so the header is written first and each tensor's bytes
// are produced only when its turn comes: memory stays at one tensor. Not thread-safe; one
// writer per file.

#include "io/gguf_metadata.h"
#include "quant/ggml_blocks.h"
#include "util/progress.h"
#include "util/result.h"

#include <cstdint>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace qs {

class GgufWriter {
public:
    using Producer = std::function<Result<std::vector<std::byte>>()>;

    // Must be a power of two and a multiple of 8 (ggml's rule); also sets general.alignment.
    Status setAlignment(std::uint32_t alignment);
    std::uint32_t alignment() const { return m_alignment; }

    // Typed pairs; setting a key that exists replaces its value in place (order kept).
    void setString(const std::string& key, const std::string& value);
    void setU32(const std::string& key, std::uint32_t value);
    void setI32(const std::string& key, std::int32_t value);
    void setU64(const std::string& key, std::uint64_t value);
    void setF32(const std::string& key, float value);
    void setBool(const std::string& key, bool value);
    void setStringArray(const std::string& key, const std::vector<std::string>& values);
    void setI32Array(const std::string& key, const std::vector<std::int32_t>& values);
    void setF32Array(const std::string& key, const std::vector<float>& values);
    // A pair as GGUF encodes it after the key: u32 value type, then the value.
    void setEncoded(const std::string& key, std::span<const std::byte> typeAndValue);
    // Copies a pair of a parsed GGUF file verbatim (`file` = that file's bytes).
    Status copyPair(const GgufKv& kv, std::span<const std::byte> file);
    bool has(const std::string& key) const;
    void remove(const std::string& key);
    std::size_t pairCount() const { return m_pairs.size(); }

    // `shape` is row-major (PyTorch order); GGUF's ne[] is written reversed. Errors: a name
    // over 63 bytes or used twice, more than 4 dimensions, a row the type's block does not
    // divide.
    Status addTensor(const std::string& name, const std::vector<std::int64_t>& shape, GgmlType type,
                     Producer produce);
    std::uint64_t dataBytes() const; // the data section's size, padding included

    // Writes the whole file; each producer must return exactly its tensor's bytes.
    Status write(std::ostream& out, const ProgressFn& progress = {}) const;

private:
    struct Pair {
        std::string key;
        std::vector<std::byte> typeAndValue;
    };
    struct Tensor {
        std::string name;
        std::vector<std::int64_t> shape;
        GgmlType type;
        std::uint64_t bytes = 0;
        std::uint64_t offset = 0; // relative to the data section
        Producer produce;
    };
    void setPair(const std::string& key, std::vector<std::byte> typeAndValue);

    std::uint32_t m_alignment = 32;
    std::vector<Pair> m_pairs;
    std::vector<Tensor> m_tensors;
};

// Bytes of a tensor of `shape` (row-major) in ggml type `t`; nullopt when the last dimension is
// not a multiple of the block size.
std::optional<std::uint64_t> ggmlTensorBytes(GgmlType t, const std::vector<std::int64_t>& shape);

} // namespace qs
