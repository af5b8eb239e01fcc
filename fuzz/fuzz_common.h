#pragma once
// Shared by the fuzz targets: every input is treated as a whole file and pushed through the
// same entry point the CLI and GUI use (Checkpoint::open, content detection included), then
// every tensor small enough is decoded. The targets are built two ways: with clang's libFuzzer
// (QS_FUZZ=ON, scripts/fuzz) and with the standalone driver (standalone_driver.cpp) that replays
// the corpus and deterministic mutations of it as a ctest smoke.

#include "io/checkpoint.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace qs::fuzz {

// A per-process scratch directory in RAM where available.
inline const std::filesystem::path& scratchDir() {
    static const std::filesystem::path dir = [] {
        std::filesystem::path base = std::filesystem::exists("/dev/shm")
                                         ? std::filesystem::path("/dev/shm")
                                         : std::filesystem::temp_directory_path();
        auto d = base / ("quantscope-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratchDir(), ec);
        });
        return d;
    }();
    return dir;
}

inline std::string writeInput(const uint8_t* data, size_t size, const std::string& name) {
    const std::string path = (scratchDir() / name).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f)
        std::abort();
    if (size && std::fwrite(data, 1, size, f) != size)
        std::abort();
    std::fclose(f);
    return path;
}

// Decodes what a reader claims, bounded so a fuzz run stays fast; a reader that lies about sizes
// must fail here with an error, never read out of bounds.
inline void exercise(const Checkpoint& ckpt) {
    constexpr std::int64_t kMaxDecode = 1 << 20;
    int n = 0;
    for (const TensorInfo& t : ckpt.tensors()) {
        if (++n > 64)
            break;
        (void)t.typeName();
        (void)t.bitsPerWeight();
        (void)t.shapeString();
        if (t.numel() <= kMaxDecode)
            (void)ckpt.readFloat(t);
    }
    (void)ckpt.totalParameters();
    (void)ckpt.totalBytes();
}

inline void openAndExercise(const uint8_t* data, size_t size, const std::string& name) {
    auto ckpt = Checkpoint::open(writeInput(data, size, name));
    if (ckpt.ok())
        exercise(*ckpt);
}

} // namespace qs::fuzz
