// Fuzz target: safetensors files through Checkpoint::open (content detection, header parsing,
// decoding).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    qs::fuzz::openAndExercise(data, size, "model.safetensors");
    return 0;
}
