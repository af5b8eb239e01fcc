// Fuzz target: a sharded checkpoint's model.safetensors.index.json, beside one valid shard
// (model-00001-of-00001.safetensors holding "a" and "b"), so both the index's own checks and
// its agreement with the shards are exercised.
#include "fuzz_common.h"

#include <cstring>
#include <string>

namespace {

void writeShard() {
    static bool done = false;
    if (done)
        return;
    done = true;
    const std::string header = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                               R"("b":{"dtype":"F16","shape":[4],"data_offsets":[16,24]}})";
    std::string file(8, '\0');
    const std::uint64_t n = header.size();
    std::memcpy(file.data(), &n, 8);
    file += header;
    file.append(24, '\x3c');
    qs::fuzz::writeInput(reinterpret_cast<const uint8_t*>(file.data()), file.size(),
                         "model-00001-of-00001.safetensors");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    writeShard();
    qs::fuzz::openAndExercise(data, size, "model.safetensors.index.json");
    return 0;
}
