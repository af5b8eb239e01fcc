#include "io/gguf_reader.h"

#include "quant/ggml_quant.h"
#include "util/text.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <set>

namespace qs {
namespace {

constexpr std::uint32_t kMagic = 0x46554747; // "GGUF" read as a little-endian u32
constexpr std::uint32_t kMaxDims = 4;        // GGML_MAX_DIMS
constexpr std::uint64_t kMaxNameLength = 65535;
// Display text kept for metadata; real files need a few MB (vocabularies are summarised).
constexpr std::uint64_t kMetadataBudget = 64ull << 20;
// Smallest possible key-value pair (empty key, type, 1-byte value) and tensor info (empty
// name, n_dims 0, type, offset): a count that needs more bytes than the file has is a lie.
constexpr std::uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;

std::uint32_t loadU32(std::span<const std::byte> b, std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}

std::uint32_t byteSwap32(std::uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}

std::optional<DType> plainDType(GgmlType t) {
    switch (t) {
    case GgmlType::F32:
        return DType::F32;
    case GgmlType::F16:
        return DType::F16;
    case GgmlType::BF16:
        return DType::BF16;
    case GgmlType::F64:
        return DType::F64;
    case GgmlType::I8:
        return DType::I8;
    case GgmlType::I16:
        return DType::I16;
    case GgmlType::I32:
        return DType::I32;
    case GgmlType::I64:
        return DType::I64;
    default:
        return std::nullopt;
    }
}

// ggml's spelling in capitals, as llama.cpp prints it: "Q4_K", "IQ2_XXS"; "type 99" if unknown.
std::string storedTypeName(std::uint32_t id) {
    const auto* tr = ggmlTypeTraits(static_cast<GgmlType>(id));
    if (!tr)
        return "type " + std::to_string(id);
    std::string s = tr->name;
    for (auto& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// Decodes a block-quantized tensor from the mapped file on demand.
class GgmlTensorSource : public TensorSource {
public:
    GgmlTensorSource(std::shared_ptr<const MappedFile> file, std::uint32_t typeId)
        : m_file(std::move(file)), m_typeId(typeId) {}

    Status read(const TensorInfo& t, std::span<float> out) const override {
        const auto type = static_cast<GgmlType>(m_typeId);
        if (!ggmlTypeTraits(type) || !ggmlCanDequantize(type))
            return makeError("tensor '" + t.name + "' is stored as ggml " +
                             storedTypeName(m_typeId) + ", which Quantscope cannot decode");
        const auto bytes = m_file->bytes();
        if (t.offset > bytes.size() || t.nbytes > bytes.size() - t.offset)
            return makeError("tensor '" + t.name + "' lies past the end of " + m_file->path());
        if (auto st = ggmlDequantize(type, bytes.subspan(t.offset, t.nbytes), out); !st)
            return makeError("tensor '" + t.name + "': " + st.message());
        return Ok{};
    }

private:
    std::shared_ptr<const MappedFile> m_file;
    std::uint32_t m_typeId;
};

Status checkVersion(std::uint32_t version) {
    if (version == 2 || version == 3)
        return Ok{};
    if (version == 1)
        return makeError("GGUF version 1 is not supported (it predates 64-bit counts); convert "
                         "the model again with a current llama.cpp");
    const std::uint32_t swapped = byteSwap32(version);
    if (swapped >= 1 && swapped <= 3)
        return makeError("big-endian GGUF (version " + std::to_string(swapped) +
                         ") is not supported; convert the model to little-endian GGUF");
    return makeError("unsupported GGUF version " + std::to_string(version));
}

Status readTensorInfo(GgufCursor& c, GgufTensorEntry& e, std::uint64_t& relOffset) {
    std::string_view name;
    if (!c.readString(name))
        return makeError("tensor name runs past the end of the file");
    if (name.size() > kMaxNameLength)
        return makeError("tensor name of " + std::to_string(name.size()) + " bytes is too long");
    e.name = printableLine(name);
    std::uint32_t nDims = 0;
    if (!c.readU32(nDims))
        return makeError("tensor '" + e.name + "': header runs past the end of the file");
    if (nDims > kMaxDims)
        return makeError("tensor '" + e.name + "' has " + std::to_string(nDims) +
                         " dimensions (at most 4)");
    std::vector<std::int64_t> ne(nDims);
    for (auto& d : ne) {
        std::uint64_t v = 0;
        if (!c.readU64(v))
            return makeError("tensor '" + e.name + "': dimensions run past the end of the file");
        if (v > static_cast<std::uint64_t>(INT64_MAX))
            return makeError("tensor '" + e.name + "': dimension " + std::to_string(v) +
                             " is too large");
        d = static_cast<std::int64_t>(v);
    }
    if (!c.readU32(e.typeId) || !c.readU64(relOffset))
        return makeError("tensor '" + e.name + "': header runs past the end of the file");
    e.shape.assign(ne.rbegin(), ne.rend());
    return Ok{};
}

// Size of the tensor's data, checked: the element count must not overflow and ne[0] must be
// whole blocks. Unknown types get size 0 (their extent cannot be known).
Status sizeTensor(GgufTensorEntry& e) {
    std::uint64_t numel = 0;
    if (!checkedNumel(e.shape, numel) || numel > static_cast<std::uint64_t>(INT64_MAX))
        return makeError("tensor '" + e.name + "': shape overflows");
    const auto* tr = ggmlTypeTraits(static_cast<GgmlType>(e.typeId));
    if (!tr)
        return Ok{};
    const std::uint64_t ne0 = e.shape.empty() ? 1 : static_cast<std::uint64_t>(e.shape.back());
    const auto block = static_cast<std::uint64_t>(tr->blockSize);
    if (ne0 % block != 0)
        return makeError("tensor '" + e.name + "': rows of " + std::to_string(ne0) + " " +
                         storedTypeName(e.typeId) + " values are not whole blocks of " +
                         std::to_string(block));
    const std::uint64_t blocks = numel / block;
    if (blocks > UINT64_MAX / static_cast<std::uint64_t>(tr->bytesPerBlock))
        return makeError("tensor '" + e.name + "': size overflows");
    e.nbytes = blocks * static_cast<std::uint64_t>(tr->bytesPerBlock);
    return Ok{};
}

Status checkLayout(std::vector<GgufTensorEntry>& tensors, std::uint64_t fileSize) {
    std::vector<const GgufTensorEntry*> sorted;
    for (const auto& e : tensors) {
        if (e.offset > fileSize || e.nbytes > fileSize - e.offset)
            return makeError("tensor '" + e.name + "' data runs past the end of the file");
        // An unknown type's size is unknown, but no ggml type packs more than 8 values a byte;
        // more would let a lying shape make a reader allocate without bound.
        std::uint64_t numel = 0;
        checkedNumel(e.shape, numel);
        if (!ggmlTypeTraits(static_cast<GgmlType>(e.typeId)) && numel / 8 > fileSize - e.offset)
            return makeError("tensor '" + e.name + "' of " + storedTypeName(e.typeId) + " claims " +
                             std::to_string(numel) + " values, more than the file can hold");
        if (e.nbytes)
            sorted.push_back(&e);
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->offset < b->offset; });
    for (std::size_t i = 1; i < sorted.size(); ++i)
        if (sorted[i]->offset < sorted[i - 1]->offset + sorted[i - 1]->nbytes)
            return makeError("tensors '" + sorted[i - 1]->name + "' and '" + sorted[i]->name +
                             "' overlap");
    return Ok{};
}

} // namespace

bool looksLikeGguf(std::span<const std::byte> head) {
    return head.size() >= 4 && loadU32(head, 0) == kMagic;
}

Result<GgufFile> parseGguf(std::span<const std::byte> bytes) {
    if (bytes.size() < 24)
        return makeError("file too short for a GGUF header");
    if (!looksLikeGguf(bytes))
        return makeError("not a GGUF file (no GGUF magic)");
    GgufFile f;
    f.version = loadU32(bytes, 4);
    if (auto st = checkVersion(f.version); !st)
        return st.error();
    GgufCursor c(bytes, 8);
    std::uint64_t nTensors = 0, nKv = 0;
    c.readU64(nTensors);
    c.readU64(nKv);
    if (nKv > c.remaining() / kMinKvBytes)
        return makeError("header claims " + std::to_string(nKv) +
                         " metadata entries, more than the file can hold");
    if (nTensors > c.remaining() / kMinTensorInfoBytes)
        return makeError("header claims " + std::to_string(nTensors) +
                         " tensors, more than the file can hold");
    std::uint64_t budget = kMetadataBudget;
    std::set<std::string> keys;
    for (std::uint64_t i = 0; i < nKv; ++i) {
        auto kv = readGgufKv(c, budget);
        if (!kv)
            return kv.error();
        if (!keys.insert(kv->key).second)
            return makeError("duplicate metadata key '" + kv->key + "'");
        if (kv->key == "general.alignment") {
            if (!kv->integer)
                return makeError("general.alignment must be a non-negative integer, not a " +
                                 ggufValueTypeName(static_cast<std::uint32_t>(kv->type)));
            // ggml accepts any power of two; files it loads must open here too
            if (!std::has_single_bit(*kv->integer) || *kv->integer > (1u << 30))
                return makeError("general.alignment " + kv->display + " is not a power of two");
            f.alignment = *kv->integer;
        }
        f.metadata.push_back(std::move(kv).value());
    }
    f.metadataEnd = c.pos();
    std::set<std::string> names;
    std::vector<std::uint64_t> relOffsets;
    for (std::uint64_t i = 0; i < nTensors; ++i) {
        GgufTensorEntry e;
        std::uint64_t rel = 0;
        if (auto st = readTensorInfo(c, e, rel); !st)
            return st.error();
        if (!names.insert(e.name).second)
            return makeError("duplicate tensor name '" + e.name + "'");
        if (rel % f.alignment != 0)
            return makeError("tensor '" + e.name + "' offset " + std::to_string(rel) +
                             " is not a multiple of the alignment " + std::to_string(f.alignment));
        if (auto st = sizeTensor(e); !st)
            return st.error();
        relOffsets.push_back(rel);
        f.tensors.push_back(std::move(e));
    }
    const std::uint64_t pad = (f.alignment - c.pos() % f.alignment) % f.alignment;
    f.dataOffset = c.pos() + pad;
    if (!f.tensors.empty() && f.dataOffset > bytes.size())
        return makeError("file ends before its tensor data section");
    for (std::size_t i = 0; i < f.tensors.size(); ++i) {
        if (relOffsets[i] > bytes.size() - std::min<std::uint64_t>(f.dataOffset, bytes.size()))
            return makeError("tensor '" + f.tensors[i].name + "' offset " +
                             std::to_string(relOffsets[i]) + " lies past the end of the file");
        f.tensors[i].offset = f.dataOffset + relOffsets[i];
    }
    if (auto st = checkLayout(f.tensors, bytes.size()); !st)
        return st.error();
    return f;
}

Result<Checkpoint> readGguf(std::shared_ptr<const MappedFile> file) {
    auto parsed = parseGguf(file->bytes());
    if (!parsed)
        return makeError(printableLine(file->path() + ": " + parsed.message()));
    Checkpoint ckpt(file->path(), "gguf");
    const int index = ckpt.addFile(file);
    for (const auto& kv : parsed->metadata)
        ckpt.setMetadata(kv.key, kv.display);
    for (auto& e : parsed->tensors) {
        TensorInfo t;
        t.name = e.name;
        t.shape = e.shape;
        t.file = index;
        t.offset = e.offset;
        t.nbytes = e.nbytes;
        if (auto plain = plainDType(static_cast<GgmlType>(e.typeId))) {
            t.dtype = *plain;
        } else {
            t.dtype = DType::F32; // what decoding yields
            t.storedType = storedTypeName(e.typeId);
            t.source = std::make_shared<GgmlTensorSource>(file, e.typeId);
        }
        ckpt.addTensor(std::move(t));
    }
    return ckpt;
}

} // namespace qs
