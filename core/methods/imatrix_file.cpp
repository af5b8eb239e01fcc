#include "methods/imatrix_file.h"

#include "export/llama_names.h"
#include "io/checkpoint.h"
#include "io/gguf_reader.h"
#include "io/mapped_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qs {
namespace {

constexpr std::string_view kSum2 = ".in_sum2";
constexpr std::string_view kCounts = ".counts";

Result<ImatrixFile> readGgufImatrix(const std::string& path) {
    auto ckpt = Checkpoint::open(path);
    if (!ckpt)
        return ckpt.error();
    const auto& meta = ckpt->metadata();
    if (!isImportanceMatrix(*ckpt)) {
        const auto type = meta.find("general.type");
        return makeError("a GGUF file but not an importance matrix (general.type is " +
                         (type == meta.end() ? std::string("missing") : type->second) + ")");
    }
    ImatrixFile f;
    f.format = "gguf";
    if (auto it = meta.find("imatrix.chunk_count"); it != meta.end())
        f.chunks = std::strtoull(it->second.c_str(), nullptr, 10);
    if (auto it = meta.find("imatrix.datasets"); it != meta.end())
        f.datasets = it->second;
    for (const TensorInfo& t : ckpt->tensors()) {
        if (!t.name.ends_with(kSum2))
            continue;
        const std::string name = t.name.substr(0, t.name.size() - kSum2.size());
        const TensorInfo* c = ckpt->find(name + std::string(kCounts));
        if (!c)
            return makeError(t.name + " has no " + name + std::string(kCounts));
        const std::int64_t mats = t.rows(), cols = t.cols();
        if (c->numel() != mats)
            return makeError(name + ": " + std::to_string(c->numel()) + " counts for " +
                             std::to_string(mats) + " rows of sums");
        auto sums = ckpt->readFloat(t);
        if (!sums)
            return makeError(t.name + ": " + sums.message());
        auto counts = ckpt->readFloat(*c);
        if (!counts)
            return makeError(c->name + ": " + counts.message());
        std::vector<float>& e = f.entries[name];
        e.resize(sums->size());
        for (std::int64_t j = 0; j < mats; ++j) {
            const float count = (*counts)[static_cast<std::size_t>(j)];
            for (std::int64_t i = 0; i < cols; ++i) {
                const auto k = static_cast<std::size_t>(j * cols + i);
                e[k] = count == 0.0f ? 1.0f : (*sums)[k] / count;
            }
        }
    }
    if (f.entries.empty())
        return makeError("an importance matrix with no tensor.in_sum2 entries");
    return f;
}

// Little-endian reads that fail instead of passing the end.
class Reader {
public:
    explicit Reader(std::span<const std::byte> b) : m_b(b) {}
    std::size_t left() const { return m_b.size() - m_pos; }
    bool i32(std::int32_t& v) {
        if (left() < 4)
            return false;
        std::memcpy(&v, m_b.data() + m_pos, 4);
        m_pos += 4;
        return true;
    }
    bool bytes(std::size_t n, const std::byte*& p) {
        if (left() < n)
            return false;
        p = m_b.data() + m_pos;
        m_pos += n;
        return true;
    }

private:
    std::span<const std::byte> m_b;
    std::size_t m_pos = 0;
};

Result<ImatrixFile> readLegacyImatrix(std::span<const std::byte> bytes) {
    Reader r(bytes);
    std::int32_t n = 0;
    if (!r.i32(n) || n <= 0 || static_cast<std::size_t>(n) > r.left() / 16)
        return makeError("not an importance matrix (neither GGUF nor llama.cpp's imatrix.dat: "
                         "its entry count does not fit the file)");
    ImatrixFile f;
    f.format = "legacy";
    for (std::int32_t k = 0; k < n; ++k) {
        const std::string where = "entry " + std::to_string(k + 1) + " of " + std::to_string(n);
        std::int32_t len = 0, ncall = 0, nval = 0;
        const std::byte* name = nullptr;
        const std::byte* values = nullptr;
        if (!r.i32(len) || len <= 0 || !r.bytes(static_cast<std::size_t>(len), name))
            return makeError(where + ": its name runs past the end of the file");
        if (!r.i32(ncall) || !r.i32(nval) || nval <= 0 ||
            !r.bytes(static_cast<std::size_t>(nval) * 4, values))
            return makeError(where + ": its values run past the end of the file");
        if (ncall < 0)
            return makeError(where + ": a negative call count");
        std::vector<float> v(static_cast<std::size_t>(nval));
        std::memcpy(v.data(), values, v.size() * 4);
        if (ncall > 0)
            for (auto& x : v)
                x /= static_cast<float>(ncall);
        f.entries[std::string(reinterpret_cast<const char*>(name), static_cast<std::size_t>(len))] =
            std::move(v);
    }
    std::int32_t last = 0, len = 0;
    const std::byte* dataset = nullptr;
    if (r.i32(last)) {
        f.chunks = last > 0 ? static_cast<std::uint64_t>(last) : 0;
        if (r.i32(len) && len > 0 && r.bytes(static_cast<std::size_t>(len), dataset))
            f.datasets.assign(reinterpret_cast<const char*>(dataset),
                              static_cast<std::size_t>(len));
    }
    return f;
}

} // namespace

bool isImportanceMatrix(const Checkpoint& ckpt) {
    const auto type = ckpt.metadata().find("general.type");
    return ckpt.format() == "gguf" && type != ckpt.metadata().end() && type->second == "imatrix";
}

const std::vector<float>* ImatrixFile::find(const std::string& tensorName) const {
    if (auto it = entries.find(tensorName); it != entries.end())
        return &it->second;
    if (const auto g = hfToGgufName(tensorName))
        if (auto it = entries.find(*g); it != entries.end())
            return &it->second;
    return nullptr;
}

ImportanceWeights ImatrixFile::weightsFor(const std::string& tensorName) const {
    const std::vector<float>* v = find(tensorName);
    return {v ? std::span<const float>(*v) : std::span<const float>(), path};
}

Result<ImatrixFile> readImatrixFile(const std::string& path) {
    auto file = MappedFile::open(path);
    if (!file)
        return makeError(path + ": " + file.message());
    const auto bytes = (*file)->bytes();
    auto f = looksLikeGguf(bytes.first(std::min<std::size_t>(bytes.size(), 16)))
                 ? readGgufImatrix(path)
                 : readLegacyImatrix(bytes);
    if (!f)
        return makeError(path + ": " + f.message());
    for (const auto& [name, v] : f->entries)
        for (const float x : v)
            if (!std::isfinite(x)) // llama-quantize refuses these too
                return makeError(path + ": " + name + " has a value that is not finite");
    f->path = path;
    return f;
}

} // namespace qs
