#include "cuda_parity.h"

#include "analysis/fused_analysis.h"
#include "analysis/tensor_analysis.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <sstream>

namespace qs::cudacheck {
namespace {

std::string num(double v) {
    std::ostringstream o;
    o.precision(17);
    o << v;
    return o.str();
}

void near(Failures& f, double device, double cpu, const std::string& what) {
    if (!(std::fabs(device - cpu) <= 1e-9 * std::max(1e-300, std::fabs(cpu))))
        f.push_back(what + ": device " + num(device) + " cpu " + num(cpu));
}

template <class T> void same(Failures& f, const T& device, const T& cpu, const std::string& what) {
    if (!(device == cpu))
        f.push_back(what + " differs");
}

} // namespace

std::vector<ParityCase> parityCases() {
    const char* specs[] = {"int4:g128",
                           "int4:g128:sym",
                           "int8:channel",
                           "int3:tensor",
                           "int2:g32:sym:range=full",
                           "int5:g100",
                           "nf4:g64",
                           "nf4:channel",
                           "nf2:tensor",
                           "nf8:g128",
                           "mxfp4",
                           "mxfp6_e2m3",
                           "mxfp6_e3m2",
                           "mxfp8_e4m3",
                           "mxfp8_e5m2",
                           "mxint8",
                           "nvfp4",
                           "mxfp4:scale=rceil",
                           "mxfp8_e4m3:scale=even",
                           "fp4",
                           "fp6_e2m3:g32",
                           "fp8_e4m3",
                           "fp8_e5m2:g64",
                           "fp8_e4m3:tensor",
                           "q8_0",
                           "q4_0",
                           "q4_1",
                           "q5_0",
                           "q5_1",
                           "q2_k",
                           "q4_k",
                           "q5_k",
                           "q6_k",
                           "iq4_nl",
                           "mulaw4",
                           "mulaw8:g64",
                           "alaw4:g128",
                           "hqq4:g64",
                           "hqq3:g128",
                           "hqq8:channel",
                           "hqq2:g32:iters=5",
                           "sinq4:g64",
                           "sinq_nf4:g64",
                           "sinq3:g32:tiling=2D",
                           "sinq4:g64:sym",
                           "kmeans4:g64",
                           "kmeans2:g128",
                           "kmeans3:g32:iters=5"};
    std::vector<ParityCase> out;
    for (const char* s : specs)
        for (auto [r, c] : {std::pair{96, 512}, {33, 1000}, {5, 16384}, {1, 7}})
            out.push_back({s, r, c});
    return out;
}

std::vector<float> testWeights(std::int64_t rows, std::int64_t cols, unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> d(0.0f, 0.02f);
    std::vector<float> w(static_cast<std::size_t>(rows * cols));
    for (float& v : w)
        v = d(gen);
    for (std::int64_t k = 0; k < std::min<std::int64_t>(cols, 16); ++k)
        w[static_cast<std::size_t>(k)] = 0.25f * static_cast<float>(k) - 2.0f;
    if (rows > 2)
        for (std::int64_t c = 0; c < cols; ++c)
            w[static_cast<std::size_t>(cols + c)] = 0.0f;
    w[w.size() / 3] = 0.9f;
    return w;
}

Failures checkParity(DeviceEngine& engine, const std::string& spec, const std::vector<float>& w,
                     std::int64_t rows, std::int64_t cols) {
    Failures f;
    auto parsed = Scheme::parse(spec);
    if (!parsed)
        return {"bad spec " + spec};
    const Scheme& s = *parsed;
    const MatrixView m{w.data(), rows, cols};
    if (!engine.covers(s, rows, cols))
        return {"skip: layout not covered"};
    FusedRequest req;
    req.errorHistogramBins = 256;
    req.keepReconstruction = true;
    auto dev = engine.analyze(s, m, req, {});
    if (!dev)
        return {"declined a finite tensor"};
    if (!*dev)
        return {"device error: " + dev->message()};
    auto cpu = quantize(s, m);
    if (!cpu)
        return {"cpu error: " + cpu.message()};
    const auto& rec = (*dev)->output.reconstruction;
    if (rec.size() != w.size())
        return {"reconstruction size differs"};
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < w.size(); ++i)
        if (std::memcmp(&rec[i], &cpu->reconstruction[i], sizeof(float)) != 0 && wrong++ < 3)
            f.push_back("element " + std::to_string(i) + " (row " +
                        std::to_string(i / static_cast<std::size_t>(cols)) + "): x " + num(w[i]) +
                        " device " + num(rec[i]) + " cpu " + num(cpu->reconstruction[i]));
    if (wrong > 3)
        f.push_back(std::to_string(wrong) + " elements differ in all");
    const ErrorMetrics e = computeErrorMetrics(w, cpu->reconstruction);
    const Histogram h = computeDifferenceHistogram(w, cpu->reconstruction, 256);
    // The sums, the max and the histogram of a device result (`tag` names the run).
    auto metrics = [&](const FusedResult& r, const std::string& tag) {
        const ErrorMetrics& d = r.error;
        same(f, d.count, e.count, tag + "count");
        near(f, d.sumSqErr, e.sumSqErr, tag + "sum sq err");
        near(f, d.sumSqRef, e.sumSqRef, tag + "sum sq ref");
        near(f, d.sumSqRec, e.sumSqRec, tag + "sum sq rec");
        near(f, d.dot, e.dot, tag + "dot");
        if (d.maxAbsErr != e.maxAbsErr)
            f.push_back(tag + "max |err|: device " + num(d.maxAbsErr) + " cpu " + num(e.maxAbsErr));
        if (!r.errorHistogram) {
            f.push_back(tag + "no error histogram");
        } else {
            same(f, r.errorHistogram->lo, h.lo, tag + "histogram lo");
            same(f, r.errorHistogram->hi, h.hi, tag + "histogram hi");
            same(f, r.errorHistogram->counts, h.counts, tag + "histogram counts");
        }
    };
    metrics(**dev, "");
    // Without the reconstruction kept the kernels take their fast paths (values in registers,
    // reads ahead, the max in float first): the same figures.
    req.keepReconstruction = false;
    auto fast = engine.analyze(s, m, req, {});
    if (!fast || !*fast)
        f.push_back("without the reconstruction: " +
                    (fast ? fast->message() : std::string("declined")));
    else {
        metrics(**fast, "without the reconstruction: ");
        same(f, (*fast)->output.levels, cpu->levels, "without the reconstruction: levels");
    }
    const QuantOutput& o = (*dev)->output;
    same(f, o.levels, cpu->levels, "levels");
    same(f, o.levelsNote, cpu->levelsNote,
         "levels note (" + o.levelsNote + " vs " + cpu->levelsNote + ")");
    same(f, o.cost.bytes(), cpu->cost.bytes(), "cost");
    if (o.diagnostics.size() != cpu->diagnostics.size())
        f.push_back("diagnostics count differs");
    else
        for (std::size_t i = 0; i < o.diagnostics.size(); ++i) {
            const Diagnostic &dd = o.diagnostics[i], &cd = cpu->diagnostics[i];
            if (dd.key != cd.key)
                f.push_back("diagnostic " + dd.key + " where the CPU has " + cd.key);
            else if (dd.key.ends_with("mean_abs_err")) // HQQ's sums, added in another order
                near(f, dd.value, cd.value, "diagnostic " + dd.key);
            else if (!(dd.value == cd.value || (std::isnan(dd.value) && std::isnan(cd.value))))
                f.push_back("diagnostic " + dd.key + ": device " + num(dd.value) + " cpu " +
                            num(cd.value));
        }
    return f;
}

Failures checkParity(DeviceEngine& engine, const ParityCase& c) {
    return checkParity(engine, c.spec,
                       testWeights(c.rows, c.cols, static_cast<unsigned>(c.rows * 7 + c.cols)),
                       c.rows, c.cols);
}

Failures checkChunked(DeviceEngine& engine) {
    Failures f;
    setenv("QS_CUDA_MAX_CHUNK_BYTES", std::to_string(3 * 1024 * 4).c_str(), 1);
    const auto w = testWeights(50, 1024, 11);
    for (const char* spec : {"int4:g128", "nf4:tensor", "nvfp4", "int8:tensor", "mxfp4", "q8_0"})
        for (const std::string& e : checkParity(engine, spec, w, 50, 1024))
            f.push_back(std::string(spec) + " in chunks: " + e);
    unsetenv("QS_CUDA_MAX_CHUNK_BYTES");
    return f;
}

Failures checkHalfInputs(DeviceEngine& engine, const std::string& spec, const std::string& dtype) {
    Failures f;
    BenchRequest req;
    req.scheme = *Scheme::parse(spec);
    req.rows = 256;
    req.cols = 1024;
    req.dtype = dtype == "bf16" ? DType::BF16 : dtype == "f16" ? DType::F16 : DType::F32;
    req.repeat = 2;
    req.warmup = 1;
    auto dev = engine.bench(req, {});
    if (!dev)
        return {"device bench: " + dev.message()};
    same(f, dev->backend, std::string("cuda"), "backend");
    if (!(dev->copyGbps > 0))
        f.push_back("no copy bandwidth");
    const BackendStatus before = backendStatus();
    selectBackend(Backend::Cpu); // runCpuBench goes through analyzeTensor
    auto cpu = runCpuBench(req, {});
    selectBackend(before.active);
    if (!cpu)
        return {"cpu bench: " + cpu.message()};
    near(f, dev->error.sumSqErr, cpu->error.sumSqErr, "sum sq err");
    near(f, dev->error.sumSqRef, cpu->error.sumSqRef, "sum sq ref");
    if (dev->error.maxAbsErr != cpu->error.maxAbsErr)
        f.push_back("max |err| differs");
    // The histogram too: the 2-byte inputs' kernels (packs kept as read, the next read ahead).
    if (dev->errorHistogram.empty() || dev->errorHistogram != cpu->errorHistogram)
        f.push_back("error histogram differs");
    return f;
}

Failures checkNonFinite(DeviceEngine& engine) {
    Failures f;
    auto w = testWeights(8, 256, 3);
    for (float bad : {std::nanf(""), INFINITY}) {
        w[300] = bad;
        for (const char* spec : {"int4:g128", "int4:tensor", "nf4:g64", "mxfp4", "nvfp4"}) {
            auto r = engine.analyze(*Scheme::parse(spec), {w.data(), 8, 256}, {}, {});
            if (r)
                f.push_back(std::string(spec) + " did not decline " + num(bad));
        }
    }
    return f;
}

Failures checkTensorRange(DeviceEngine& engine) {
    Failures f;
    auto w = testWeights(50, 1024, 13);
    w[5] = 3.5f; // the tensor's max, in row 0: rows 20-39 have a narrower range of their own
    const auto range = finiteRange(w.data(), static_cast<std::int64_t>(w.size()));
    const std::int64_t r0 = 20, rows = 20, cols = 1024;
    const float* x = w.data() + r0 * cols;
    const std::span<const float> xs(x, static_cast<std::size_t>(rows * cols));
    for (const char* spec :
         {"int4:tensor", "int8:tensor:sym", "nf4:tensor", "fp8_e4m3:tensor", "mulaw8", "nvfp4"}) {
        const Scheme s = *Scheme::parse(spec);
        if (!engine.covers(s, rows, cols)) {
            f.push_back(std::string(spec) + ": not covered");
            continue;
        }
        auto whole = quantize(s, {w.data(), 50, cols});
        if (!whole) {
            f.push_back(std::string(spec) + ": cpu " + whole.message());
            continue;
        }
        const std::span<const float> expected(whole->reconstruction.data() + r0 * cols, xs.size());
        FusedRequest req;
        req.errorHistogramBins = 256;
        req.keepReconstruction = true;
        req.tensorRange = range;
        auto dev = engine.analyze(s, {x, rows, cols}, req, {});
        if (!dev || !*dev) {
            f.push_back(std::string(spec) + ": " + (dev ? dev->message() : "declined"));
            continue;
        }
        const auto& rec = (*dev)->output.reconstruction;
        if (rec.size() != xs.size() ||
            std::memcmp(rec.data(), expected.data(), xs.size() * sizeof(float)) != 0)
            f.push_back(std::string(spec) + ": rows 20-39 differ from the whole tensor's");
        const ErrorMetrics e = computeErrorMetrics(xs, expected);
        near(f, (*dev)->error.sumSqErr, e.sumSqErr, std::string(spec) + " sum sq err");
        if ((*dev)->error.maxAbsErr != e.maxAbsErr)
            f.push_back(std::string(spec) + ": max |err| differs");
        const Histogram h = computeDifferenceHistogram(xs, expected, 256);
        if (!(*dev)->errorHistogram || (*dev)->errorHistogram->counts != h.counts)
            f.push_back(std::string(spec) + ": error histogram differs");
        if (s.granularity == Granularity::Tensor && (*dev)->output.levels != whole->levels)
            f.push_back(std::string(spec) + ": levels differ from the whole tensor's");
    }
    return f;
}

Failures checkCancel(DeviceEngine& engine) {
    const auto w = testWeights(64, 1024, 5);
    FusedRequest req;
    req.errorHistogramBins = 256;
    auto r = engine.analyze(*Scheme::parse("int4:g128"), {w.data(), 64, 1024}, req,
                            [](double) { return false; });
    if (!r || *r || r->error().kind != ErrorKind::Cancelled)
        return {"not cancelled"};
    return {};
}

} // namespace qs::cudacheck
