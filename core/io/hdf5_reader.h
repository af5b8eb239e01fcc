#pragma once
// HDF5 files: every numeric dataset at any depth, named by its path (Keras legacy .h5 files
// lose the "model_weights/" prefix; Keras 3 .weights.h5 keep their object-tree paths such as
// layers/dense/vars/0), and .keras archives (the model.weights.h5 inside the zip). Contiguous
// little-endian datasets are read in place from the mapped file; chunked or filtered ones
// through the HDF5 library when the tensor is read. Keras kernels are stored [in, out].
// libhdf5 runs only in short-lived child processes (io/isolated_call.h): it crashes on some
// corrupt files, and such a crash becomes a one-line error here.

#include "io/checkpoint.h"
#include "io/zip_archive.h"

namespace qs {

bool looksLikeHdf5(std::span<const std::byte> head);
Result<Checkpoint> readHdf5(std::shared_ptr<const MappedFile> file);
Result<Checkpoint> readKerasArchive(std::shared_ptr<const MappedFile> file, const ZipArchive& zip);

} // namespace qs
