// Fuzz target: the restricted unpickler on raw data.pkl bytes. Nothing may ever be executed;
// unknown opcodes and globals must be errors, and whatever it accepts must be walkable.
#include "io/pickle.h"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto root = qs::pickle::unpickle(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
    if (root.ok())
        (void)qs::pickle::collectTensors(*root);
    return 0;
}
