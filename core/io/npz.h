#pragma once
// NumPy .npz archives: a ZIP of .npy members, stored or deflated. Each member is a tensor
// named after the member without ".npy". Stored members are read in place; deflated ones are
// inflated when the tensor is read.

#include "io/checkpoint.h"
#include "io/zip_archive.h"

namespace qs {

Result<Checkpoint> readNpz(std::shared_ptr<const MappedFile> file, const ZipArchive& zip);

} // namespace qs
