// qs-cuda-check: the CUDA engine's checks (cuda_parity.h) without Qt, for the GPU machine of
// scripts/device-bundle. Prints a line per failed or skipped check; exit 0 when all pass, 1 when
// any fails, 77 when there is no device.
#include "cuda/cuda_engine.h"
#include "cuda_parity.h"

#include <cstdio>

using namespace qs::cudacheck;

int main() {
    std::string why;
    auto engine = qs::cuda::openCudaEngine(why);
    if (!engine) {
        std::printf("SKIP no CUDA device: %s\n", why.c_str());
        return 77;
    }
    std::printf("device: %s\n", engine->deviceName().c_str());
    int failed = 0, passed = 0, skipped = 0;
    auto report = [&](const std::string& name, const Failures& f) {
        if (f.size() == 1 && f[0].rfind("skip:", 0) == 0) {
            ++skipped;
            std::printf("skip %s (%s)\n", name.c_str(), f[0].c_str() + 6);
            return;
        }
        if (f.empty()) {
            ++passed;
            return;
        }
        ++failed;
        std::printf("FAIL %s\n", name.c_str());
        for (const auto& s : f)
            std::printf("     %s\n", s.c_str());
    };
    for (const ParityCase& c : parityCases())
        report("parity " + c.spec + " " + std::to_string(c.rows) + "x" + std::to_string(c.cols),
               checkParity(*engine, c));
    report("chunked", checkChunked(*engine));
    for (const char* s : {"int4:g128", "nf4:g64", "mxfp4", "nvfp4", "int8:tensor", "q8_0"})
        for (const char* t : {"bf16", "f16", "f32"})
            report(std::string("half inputs ") + s + " " + t, checkHalfInputs(*engine, s, t));
    report("non-finite", checkNonFinite(*engine));
    report("tensor range", checkTensorRange(*engine));
    report("cancel", checkCancel(*engine));
    std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
