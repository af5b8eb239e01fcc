#pragma once
// safetensors reader with all of the format's own validation rules (NUMERICS.md §12.1): header
// size limit, JSON object, known dtypes, offsets that tile the data buffer exactly.

#include "io/checkpoint.h"

namespace qs {

bool looksLikeSafetensors(std::span<const std::byte> head, std::uint64_t fileSize);
Result<Checkpoint> readSafetensors(std::shared_ptr<const MappedFile> file);

} // namespace qs
