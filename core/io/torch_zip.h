#pragma once
// PyTorch checkpoints in the zip format torch.save has written since 1.6 (.pt, .pth, .bin):
// data.pkl is read by the restricted unpickler (io/pickle.h), tensors point into the
// data/<key> storage records, views keep their offsets and strides. Nothing is executed.

#include "io/checkpoint.h"
#include "io/zip_archive.h"

namespace qs {

bool isTorchZip(const ZipArchive& zip);
// The pickled magic number that starts a legacy (pre-1.6) torch.save file.
bool isLegacyTorch(std::span<const std::byte> head);
Result<Checkpoint> readTorchZip(std::shared_ptr<const MappedFile> file, const ZipArchive& zip);

} // namespace qs
