#pragma once
// `quantscope-cli bench`: the time of one tensor's analysis under a scheme (quantize ->
// reconstruct -> error metrics -> 256-bin error histogram; bf16 input is decoded as part of it),
// on synthetic Gaussian weights (sd 0.02, seeded), as the median over repeats after warm-up. The
// same run times one streaming read of the input, the floor any analysis has to pay.

#include "metrics/error_metrics.h"
#include "quant/scheme.h"
#include "tensor/dtype.h"
#include "util/progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qs {

struct BenchRequest {
    Scheme scheme;
    std::int64_t rows = 0, cols = 0;
    DType dtype = DType::F32; // F32, BF16 or F16
    int repeat = 10;
    int warmup = 2;
    int histogramBins = 256;
    std::uint64_t seed = 1;
    int threads = 0; // worker threads (0: all cores)
    // false: the analysis above. true: only the quantizer proper, for the ggml block types
    // ggml's own byte output (ggmlQuantizeRows), as ggml's quantize_<type> is timed.
    bool quantizeOnly = false;
};

struct BenchResult {
    std::vector<double> timesMs; // the timed repeats, in order
    double medianMs = 0;
    double readMedianMs = 0; // one streaming read of the input bytes (a parallel sum)
    std::uint64_t elements = 0;
    std::uint64_t inputBytes = 0;
    bool fused = false; // the fused CPU path ran (else the separate passes)
    ErrorMetrics error; // of the last repeat, so a run can be checked for sense
    std::vector<std::uint64_t> errorHistogram; // of the last repeat (with histogram bins)
    std::string device;                        // "AMD EPYC 7B13 (2 threads)" or the GPU's name
    std::string backend = "cpu";               // "cpu" or "cuda"
    // CUDA: readMedianMs is a device-to-device copy of the input, copyGbps its bytes per second.
    double copyGbps = 0;
    int threads = 0; // worker threads used
    double inputGbps() const { return medianMs > 0 ? inputBytes / (medianMs * 1e6) : 0; }
    double readGbps() const { return readMedianMs > 0 ? inputBytes / (readMedianMs * 1e6) : 0; }
};

// The median of `v` (the mean of the two middle values for an even count); 0 for none.
double medianOf(std::vector<double> v);

// Gaussian N(0, sd^2) from a counter-based generator: the same (seed, n) always gives the same
// values whatever the threading.
std::vector<float> syntheticGaussian(std::uint64_t n, float sd, std::uint64_t seed);

// The CPU's model name and `threads` worker threads.
std::string cpuDescription(int threads);

Result<BenchResult> runCpuBench(const BenchRequest& request, const ProgressFn& progress = {});

} // namespace qs
