#include "io/torch_zip.h"

#include "io/pickle.h"

#include <algorithm>
#include <cstring>

namespace qs {
namespace {

constexpr std::uint64_t kMaxPickleBytes = 1ull << 30;

std::string archivePrefix(const ZipArchive& zip) {
    for (const auto& e : zip.entries())
        if (e.name == "data.pkl" || e.name.ends_with("/data.pkl"))
            return e.name.substr(0, e.name.size() - 8);
    return {};
}

bool contiguous(const std::vector<std::int64_t>& size, const std::vector<std::int64_t>& stride) {
    std::int64_t expected = 1;
    for (std::size_t k = size.size(); k-- > 0;) {
        if (size[k] != 1 && stride[k] != expected)
            return false;
        expected *= size[k];
    }
    return true;
}

// Wrapper dicts people save around a state dict: {"state_dict": {...}} or {"model": {...}}.
// Only a real level of nesting is a wrapper: a flat state dict whose keys all start with
// "model." (a Hugging Face LlamaModel, say) keeps its names.
std::vector<std::pair<std::string, std::shared_ptr<const pickle::Tensor>>>
tensorsInsideWrapper(const pickle::Ref& root) {
    auto all = pickle::collectTensors(root);
    if (!root || root->kind != pickle::Kind::Dict)
        return all;
    static const char* kWrappers[] = {"state_dict", "model_state_dict", "model", "module",
                                      "net",        "network"};
    for (const char* w : kWrappers)
        for (const auto& [key, value] : root->entries)
            if (key && key->kind == pickle::Kind::Str && key->s == w && value &&
                value->kind == pickle::Kind::Dict) {
                auto inner = pickle::collectTensors(value);
                if (!inner.empty() && inner.size() == all.size()) // every tensor is inside it
                    return inner;
            }
    return all;
}

} // namespace

bool isTorchZip(const ZipArchive& zip) {
    return zip.find(archivePrefix(zip) + "data.pkl") != nullptr;
}

bool isLegacyTorch(std::span<const std::byte> head) {
    // PROTO 2, LONG1 of 10 bytes: the magic number 0x1950a86a20f9469cfc6c.
    static const unsigned char kMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c,
                                           0xfc, 0x9c, 0x46, 0xf9, 0x20};
    return head.size() >= sizeof kMagic && std::memcmp(head.data(), kMagic, sizeof kMagic) == 0;
}

Result<Checkpoint> readTorchZip(std::shared_ptr<const MappedFile> file, const ZipArchive& zip) {
    const std::string& path = file->path();
    auto fail = [&](const std::string& what) { return makeError(path + ": " + what); };
    const std::string prefix = archivePrefix(zip);
    if (zip.find(prefix + "constants.pkl") ||
        std::any_of(zip.entries().begin(), zip.entries().end(),
                    [&](const ZipEntry& e) { return e.name.rfind(prefix + "code/", 0) == 0; }))
        return fail(
            "a TorchScript archive; load it with torch.jit.load and save model.state_dict() with "
            "torch.save or as safetensors");
    const ZipEntry* pkl = zip.find(prefix + "data.pkl");
    if (pkl->size > kMaxPickleBytes)
        return fail("data.pkl is larger than 1 GiB");
    auto bytes = zip.read(*pkl);
    if (!bytes)
        return bytes.error();
    auto root = pickle::unpickle(*bytes);
    if (!root)
        return fail(root.message());
    bool bigEndian = false;
    if (const ZipEntry* bo = zip.find(prefix + "byteorder")) {
        auto order = zip.read(*bo, 16);
        if (order && order->size() >= 3 && std::memcmp(order->data(), "big", 3) == 0)
            bigEndian = true;
    }

    const auto named = tensorsInsideWrapper(*root);
    Checkpoint ckpt(path, "pytorch");
    const int index = ckpt.addFile(file);
    for (const auto& [name, t] : named) {
        const std::string where = "tensor '" + name + "'";
        const ZipEntry* rec = zip.find(prefix + "data/" + t->storage->key);
        if (!rec)
            return fail(where + ": storage record data/" + t->storage->key + " is missing");
        const std::uint64_t storageEs =
            static_cast<std::uint64_t>(std::max(1, bitsOf(t->storage->dtype) / 8));
        const std::uint64_t es = static_cast<std::uint64_t>(bitsOf(t->dtype) / 8);
        if (t->storage->numel > UINT64_MAX / storageEs || rec->size < t->storage->numel * storageEs)
            return fail(where + ": storage record data/" + t->storage->key +
                        " is shorter than declared");
        TensorInfo info;
        info.name = name;
        info.shape = t->size;
        info.dtype = t->dtype;
        info.file = index;
        info.byteSwapped = bigEndian && es > 1;
        std::uint64_t numel = 0;
        if (!checkedNumel(info.shape, numel) || numel > UINT64_MAX / 16)
            return fail(where + ": shape " + info.shapeString() + " overflows");
        // The span of storage elements the view touches.
        std::uint64_t span = 0;
        if (numel > 0) {
            span = 1;
            for (std::size_t k = 0; k < t->size.size(); ++k) {
                const auto extent = static_cast<std::uint64_t>(t->size[k] - 1);
                const auto stride = static_cast<std::uint64_t>(t->stride[k]);
                if (stride != 0 && extent > (UINT64_MAX / 16) / stride)
                    return fail(where + ": strides overflow");
                span += extent * stride;
            }
        }
        const std::uint64_t storageBytes = rec->size;
        const auto offsetBytes = static_cast<std::uint64_t>(t->offset) * es;
        if (static_cast<std::uint64_t>(t->offset) > storageBytes / std::max<std::uint64_t>(es, 1) ||
            span * es > storageBytes - offsetBytes)
            return fail(where + ": view reaches past the end of its storage");
        if (contiguous(t->size, t->stride)) {
            info.nbytes = numel * es;
        } else {
            info.strides = t->stride;
            info.nbytes = span * es;
        }
        if (rec->stored())
            info.offset = rec->dataOffset + offsetBytes;
        else {
            info.zipMember = rec->name;
            info.offset = offsetBytes;
        }
        ckpt.addTensor(std::move(info));
    }
    if (ckpt.tensors().empty())
        return fail("the pickle holds no tensors");
    return ckpt;
}

} // namespace qs
