#include "analysis/bench.h"

#include "analysis/fused_analysis.h"
#include "analysis/tensor_analysis.h"
#include "quant/ggml_quant.h"
#include "quant/group_quant.h"

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>

namespace qs {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kChunk = std::size_t{1} << 16;

double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The streaming read: every input byte loaded once (summed so the loads cannot be dropped).
double streamingRead(const std::byte* p, std::size_t bytes) {
    const std::size_t words = bytes / sizeof(std::uint64_t);
    const auto* w = reinterpret_cast<const std::uint64_t*>(p);
    const std::uint64_t sum = tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, words, kChunk), std::uint64_t{0},
        [&](const tbb::blocked_range<std::size_t>& r, std::uint64_t acc) {
            for (std::size_t i = r.begin(); i != r.end(); ++i)
                acc += w[i];
            return acc;
        },
        [](std::uint64_t a, std::uint64_t b) { return a + b; });
    return static_cast<double>(sum & 1);
}

} // namespace

double medianOf(std::vector<double> v) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

std::vector<float> syntheticGaussian(std::uint64_t n, float sd, std::uint64_t seed) {
    std::vector<float> out(n);
    tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, (n + 1) / 2, kChunk),
                      [&](const tbb::blocked_range<std::uint64_t>& r) {
                          for (std::uint64_t i = r.begin(); i != r.end(); ++i) {
                              // Box-Muller on two counter-based uniforms; u1 in (0, 1].
                              const double u1 = 1.0 - uniformAt(seed, 2 * i);
                              const double u2 = uniformAt(seed, 2 * i + 1);
                              const double rad = sd * std::sqrt(-2.0 * std::log(u1));
                              out[2 * i] = static_cast<float>(rad * std::cos(2 * M_PI * u2));
                              if (2 * i + 1 < n)
                                  out[2 * i + 1] =
                                      static_cast<float>(rad * std::sin(2 * M_PI * u2));
                          }
                      });
    return out;
}

std::string cpuDescription(int threads) {
    std::string model = "CPU";
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos)
                model = line.substr(line.find_first_not_of(' ', colon + 1));
            break;
        }
    }
    return model + " (" + std::to_string(threads) + (threads == 1 ? " thread)" : " threads)");
}

Result<BenchResult> runCpuBench(const BenchRequest& req, const ProgressFn& progress) {
    if (req.rows <= 0 || req.cols <= 0)
        return makeError("bench needs a shape of at least 1x1");
    if (req.dtype != DType::F32 && req.dtype != DType::BF16 && req.dtype != DType::F16)
        return makeError("bench input must be f32, bf16 or f16");
    const auto n = static_cast<std::uint64_t>(req.rows) * static_cast<std::uint64_t>(req.cols);
    const int cores = tbb::info::default_concurrency();
    const int threads = req.threads > 0 ? std::min(req.threads, cores) : cores;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(threads));
    std::optional<GgmlType> ggml;
    if (req.quantizeOnly) {
        ggml = ggmlTypeForFamily(req.scheme.family);
        if (!ggml || !ggmlCanQuantize(*ggml))
            return makeError("--stage quantize times ggml's block quantizers; " +
                             req.scheme.toString() + " is not one");
        if (!ggmlRowBytes(*ggml, req.cols))
            return makeError(req.scheme.toString() + ": " + std::to_string(req.cols) +
                                 " columns are not a whole number of blocks",
                             ErrorKind::NotApplicable);
    }
    BenchResult res;
    res.elements = n;
    res.threads = threads;
    res.device = cpuDescription(threads);
    res.fused = !req.quantizeOnly && fusedAnalysisCovers(req.scheme);

    std::vector<float> values = syntheticGaussian(n, 0.02f, req.seed);
    std::vector<std::uint16_t> half; // the stored form of bf16/f16 input
    if (req.dtype != DType::F32) {
        half.resize(n);
        const bool bf16 = req.dtype == DType::BF16;
        tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, n, kChunk),
                          [&](const tbb::blocked_range<std::uint64_t>& r) {
                              for (auto i = r.begin(); i != r.end(); ++i)
                                  half[i] = bf16 ? floatToBf16(values[i]) : floatToHalf(values[i]);
                          });
    }
    const auto* input = half.empty() ? reinterpret_cast<const std::byte*>(values.data())
                                     : reinterpret_cast<const std::byte*>(half.data());
    res.inputBytes = n * static_cast<std::uint64_t>(bitsOf(req.dtype) / 8);
    const MatrixView view{values.data(), req.rows, req.cols};
    AnalysisOptions opts;
    opts.histogramBins = req.histogramBins;
    opts.weightHistogram = false;

    // The quantizers' output, allocated once (not timed), as ggml's quantize_chunk is measured.
    std::vector<std::byte> blocks(
        ggml ? *ggmlRowBytes(*ggml, req.cols) * static_cast<std::size_t>(req.rows) : 0);
    std::vector<double> reads;
    const int total = req.warmup + req.repeat;
    for (int i = 0; i < total; ++i) {
        auto t0 = Clock::now();
        if (!half.empty()) // decoding the stored bf16/f16 is part of the work
            tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, n, kChunk),
                              [&](const tbb::blocked_range<std::uint64_t>& r) {
                                  decodeToFloat(req.dtype, {input + r.begin() * 2, r.size() * 2},
                                                {values.data() + r.begin(), r.size()});
                              });
        double ms = 0;
        if (ggml) {
            auto st = ggmlQuantizeRowsInto(*ggml, view, blocks);
            ms = msSince(t0);
            if (!st)
                return st.error();
        } else {
            auto a = analyzeTensor(view, req.scheme, opts);
            ms = msSince(t0);
            if (!a)
                return a.error();
            res.error = a->error;
            if (a->errorHistogram)
                res.errorHistogram = a->errorHistogram->counts;
        }
        t0 = Clock::now();
        volatile double sink = streamingRead(input, res.inputBytes);
        (void)sink;
        const double readMs = msSince(t0);
        if (i >= req.warmup) {
            res.timesMs.push_back(ms);
            reads.push_back(readMs);
        }
        if (!reportProgress(progress, static_cast<double>(i + 1) / total))
            return cancelledError();
    }
    res.medianMs = medianOf(res.timesMs);
    res.readMedianMs = medianOf(reads);
    return res;
}

} // namespace qs
