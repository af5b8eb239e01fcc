// Fuzz target: npz files through Checkpoint::open (content detection, header parsing, decoding).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    qs::fuzz::openAndExercise(data, size, "arrays.npz");
    return 0;
}
