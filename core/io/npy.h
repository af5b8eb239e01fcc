#pragma once
// NumPy .npy reader (format versions 1.0-3.0, both byte orders, C and Fortran order). Object
// arrays are refused: they are pickles. The tensor is named after the file's stem.

#include "io/checkpoint.h"

namespace qs {

bool looksLikeNpy(std::span<const std::byte> head);

// The header of an .npy stream starting at `bytes[0]`: the tensor's dtype, shape and order,
// with `tensor.offset` = where the data starts relative to the stream and `tensor.nbytes` its
// size (the data itself is not checked: `bytes` may hold only the header).
struct NpyHeader {
    TensorInfo tensor;
    std::string version, descr;
};
Result<NpyHeader> parseNpyHeader(std::span<const std::byte> bytes);
Result<Checkpoint> readNpy(std::shared_ptr<const MappedFile> file);

} // namespace qs

namespace qs {

// Writes a float32 C-order .npy (format 1.0, header padded to 64 bytes). Writes to a temporary
// file beside `path` and renames it into place, so a failed write never leaves half a file.
Status writeNpyFloat32(const std::string& path, const std::vector<std::int64_t>& shape,
                       std::span<const float> data);

} // namespace qs
