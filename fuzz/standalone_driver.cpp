// Runs a fuzz target without libFuzzer (any compiler): every file named on the command line (or
// found in a named directory) is fed to LLVMFuzzerTestOneInput, then --mutations N deterministic
// variants of each (bit flips, interesting bytes, inserted/deleted/duplicated ranges, truncation)
// from --seed S. A crash, a sanitizer report or an abort fails the run; this is the CI smoke of
// every target and the replay of the regression inputs that past fuzzing found.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Bytes = std::vector<uint8_t>;

Bytes readFile(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
}

void run(const Bytes& b) {
    LLVMFuzzerTestOneInput(b.data(), b.size());
}

Bytes mutate(Bytes b, std::mt19937_64& rng) {
    static const uint8_t kInteresting[] = {0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x10, 0x40};
    auto pick = [&](size_t n) { return n ? static_cast<size_t>(rng() % n) : 0; };
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
        switch (rng() % 7) {
        case 0: // flip a bit
            if (!b.empty())
                b[pick(b.size())] ^= static_cast<uint8_t>(1u << (rng() % 8));
            break;
        case 1: // an interesting byte
            if (!b.empty())
                b[pick(b.size())] = kInteresting[pick(sizeof kInteresting)];
            break;
        case 2: { // an interesting 64-bit little-endian value (sizes, offsets, counts)
            if (b.size() < 8)
                break;
            const uint64_t vals[] = {0,
                                     1,
                                     0xFFFFFFFFull,
                                     0x7FFFFFFFFFFFFFFFull,
                                     ~0ull,
                                     uint64_t(b.size()),
                                     uint64_t(b.size()) + 1,
                                     1ull << 40};
            const uint64_t v = vals[pick(std::size(vals))];
            const size_t at = pick(b.size() - 7);
            for (int i = 0; i < 8; ++i)
                b[at + i] = static_cast<uint8_t>(v >> (8 * i));
            break;
        }
        case 3: // truncate
            b.resize(pick(b.size() + 1));
            break;
        case 4: { // delete a range
            if (b.empty())
                break;
            const size_t at = pick(b.size());
            const size_t n = std::min(b.size() - at, 1 + pick(16));
            b.erase(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + n));
            break;
        }
        case 5: { // insert random bytes
            const size_t at = pick(b.size() + 1);
            Bytes ins(1 + pick(16));
            for (auto& x : ins)
                x = static_cast<uint8_t>(rng());
            b.insert(b.begin() + static_cast<long>(at), ins.begin(), ins.end());
            break;
        }
        default: { // duplicate a range elsewhere
            if (b.size() < 2)
                break;
            const size_t from = pick(b.size());
            const size_t n = std::min(b.size() - from, 1 + pick(32));
            Bytes chunk(b.begin() + static_cast<long>(from),
                        b.begin() + static_cast<long>(from + n));
            const size_t at = pick(b.size() + 1);
            b.insert(b.begin() + static_cast<long>(at), chunk.begin(), chunk.end());
            break;
        }
        }
    }
    return b;
}

} // namespace

int main(int argc, char** argv) {
    long mutations = 0;
    uint64_t seed = 1;
    std::vector<std::filesystem::path> files;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--mutations" && i + 1 < argc) {
            mutations = std::strtol(argv[++i], nullptr, 10);
        } else if (a == "--seed" && i + 1 < argc) {
            seed = std::strtoull(argv[++i], nullptr, 10);
        } else if (std::filesystem::is_directory(a)) {
            for (const auto& e : std::filesystem::recursive_directory_iterator(a))
                if (e.is_regular_file())
                    files.push_back(e.path());
        } else if (std::filesystem::is_regular_file(a)) {
            files.emplace_back(a);
        } else if (!std::filesystem::exists(a)) {
            continue; // an absent regression folder is fine
        }
    }
    std::sort(files.begin(), files.end()); // deterministic order
    const auto t0 = std::chrono::steady_clock::now();
    std::mt19937_64 rng(seed);
    long runs = 0;
    run({});
    for (const auto& f : files) {
        const Bytes b = readFile(f);
        run(b);
        ++runs;
        for (long m = 0; m < mutations; ++m, ++runs)
            run(mutate(b, rng));
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%zu inputs, %ld runs, %.2f s, no crash\n", files.size(), runs, s);
    return 0;
}
