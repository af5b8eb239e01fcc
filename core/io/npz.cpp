#include "io/npz.h"

#include "io/npy.h"

namespace qs {

namespace {
// Enough for any .npy header numpy writes (its reader caps headers at 10000 bytes by default).
constexpr std::uint64_t kHeaderProbe = 1 << 16;
} // namespace

Result<Checkpoint> readNpz(std::shared_ptr<const MappedFile> file, const ZipArchive& zip) {
    Checkpoint ckpt(file->path(), "npz");
    const int index = ckpt.addFile(file);
    for (const ZipEntry& e : zip.entries()) {
        if (!e.name.ends_with(".npy"))
            continue;
        auto head = zip.read(e, kHeaderProbe);
        if (!head)
            return head.error();
        auto header = parseNpyHeader(*head);
        if (!header)
            return makeError(file->path() + ": member " + e.name + ": " + header.message());
        TensorInfo t = std::move(header->tensor);
        t.name = e.name.substr(0, e.name.size() - 4);
        t.file = index;
        if (t.offset + t.nbytes > e.size)
            return makeError(file->path() + ": member " + e.name + " is truncated: shape " +
                             t.shapeString() + " needs " + std::to_string(t.nbytes) +
                             " bytes of data");
        if (e.stored())
            t.offset += e.dataOffset;
        else
            t.zipMember = e.name;
        ckpt.addTensor(std::move(t));
    }
    if (ckpt.tensors().empty())
        return makeError(file->path() + ": a ZIP archive without .npy members (not an .npz)");
    return ckpt;
}

} // namespace qs
