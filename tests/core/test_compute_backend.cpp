// The backend switch (analysis/compute_backend.h): what is chosen with and without a device
// engine, that analyzeTensor() hands covered schemes to the engine, and that a failing engine
// leaves a CPU result with a diagnostic instead of an error. The engine here is a stand-in that
// computes on the CPU (the real CUDA engine is test_cuda_engine's).
#include "analysis/compute_backend.h"
#include "analysis/tensor_analysis.h"

#include "quant_helpers.h"

#include <QtTest>

using namespace qs;

namespace {

struct FakeLog {
    int opened = 0, analyses = 0;
    bool fail = false, refuseToOpen = false;
};
FakeLog g_log;

class FakeEngine final : public DeviceEngine {
public:
    std::string deviceName() const override { return "Fake GPU"; }
    bool covers(const Scheme& s, std::int64_t, std::int64_t) const override {
        return s.family == "int";
    }
    std::optional<Result<FusedResult>> analyze(const Scheme& s, MatrixView w,
                                               const FusedRequest& req,
                                               const ProgressFn& progress) override {
        ++g_log.analyses;
        if (g_log.fail)
            return Result<FusedResult>(makeError("CUDA kernel: an illegal memory access"));
        return analyzeFused(s, w, req, progress);
    }
    Result<BenchResult> bench(const BenchRequest&, const ProgressFn&) override {
        return makeError("not here");
    }
};

std::unique_ptr<DeviceEngine> openFake(std::string& why) {
    ++g_log.opened;
    if (g_log.refuseToOpen) {
        why = "no CUDA device";
        return nullptr;
    }
    return std::make_unique<FakeEngine>();
}

Scheme scheme(const char* spec) {
    return *Scheme::parse(spec);
}

} // namespace

class TestComputeBackend : public QObject {
    Q_OBJECT
private slots:
    void parsesNames();
    void withoutAnEngineTheCpuComputes();
    void theEngineRunsWhatItCovers();
    void aFailingEngineFallsBackToTheCpu();
    void anEngineThatDoesNotOpen();
};

void TestComputeBackend::parsesNames() {
    QCOMPARE(parseBackend("auto"), std::optional<Backend>(Backend::Auto));
    QCOMPARE(parseBackend("cpu"), std::optional<Backend>(Backend::Cpu));
    QCOMPARE(parseBackend("cuda"), std::optional<Backend>(Backend::Cuda));
    QVERIFY(!parseBackend("gpu"));
    QCOMPARE(backendName(Backend::Cuda), std::string_view("cuda"));
}

void TestComputeBackend::withoutAnEngineTheCpuComputes() {
    QVERIFY(!deviceEngineBuilt());
    BackendStatus st = selectBackend(Backend::Auto);
    QCOMPARE(st.active, Backend::Cpu);
    QVERIFY(st.note.empty()); // nothing was asked that could not be had
    QVERIFY(!st.device.empty());
    st = selectBackend(Backend::Cuda);
    QCOMPARE(st.active, Backend::Cpu);
    QVERIFY2(st.note.find("no CUDA backend") != std::string::npos, st.note.c_str());
    QVERIFY(!activeDeviceEngine());
    const auto w = test::gaussian(64 * 128, 3);
    auto a = analyzeTensor({w.data(), 64, 128}, scheme("int4:g32"));
    QVERIFY(a);
    QCOMPARE(a->backend, std::string("cpu"));
}

void TestComputeBackend::theEngineRunsWhatItCovers() {
    g_log = {};
    registerDeviceEngine(&openFake);
    QVERIFY(deviceEngineBuilt());
    BackendStatus st = selectBackend(Backend::Auto);
    QCOMPARE(st.active, Backend::Cuda);
    QCOMPARE(st.device, std::string("Fake GPU"));
    QVERIFY(st.note.empty());
    QCOMPARE(g_log.opened, 1);
    const auto w = test::gaussian(64 * 128, 4);
    const MatrixView m{w.data(), 64, 128};
    AnalysisOptions opts;
    opts.histogramBins = 64;
    auto onDevice = analyzeTensor(m, scheme("int4:g32"), opts);
    QVERIFY(onDevice);
    QCOMPARE(onDevice->backend, std::string("cuda"));
    QCOMPARE(g_log.analyses, 1);
    auto notCovered = analyzeTensor(m, scheme("nf4:g64"), opts);
    QVERIFY(notCovered);
    QCOMPARE(notCovered->backend, std::string("cpu"));
    QCOMPARE(g_log.analyses, 1);

    st = selectBackend(Backend::Cpu);
    QCOMPARE(st.active, Backend::Cpu);
    auto onCpu = analyzeTensor(m, scheme("int4:g32"), opts);
    QVERIFY(onCpu);
    QCOMPARE(onCpu->backend, std::string("cpu"));
    QCOMPARE(g_log.analyses, 1);
    QCOMPARE(onCpu->error.sumSqErr, onDevice->error.sumSqErr);
    QCOMPARE(onCpu->errorHistogram->counts, onDevice->errorHistogram->counts);
    // Back to the device: the engine opened once is kept.
    QCOMPARE(selectBackend(Backend::Cuda).active, Backend::Cuda);
    QCOMPARE(g_log.opened, 1);
}

void TestComputeBackend::aFailingEngineFallsBackToTheCpu() {
    registerDeviceEngine(&openFake);
    g_log = {};
    QCOMPARE(selectBackend(Backend::Cuda).active, Backend::Cuda);
    g_log.fail = true;
    const auto w = test::gaussian(32 * 64, 5);
    auto a = analyzeTensor({w.data(), 32, 64}, scheme("int4:g32"));
    QVERIFY2(a, "a device failure must not fail the analysis");
    QCOMPARE(a->backend, std::string("cpu"));
    QCOMPARE(g_log.analyses, 1);
    const auto fb = std::find_if(a->diagnostics.begin(), a->diagnostics.end(),
                                 [](const Diagnostic& d) { return d.key == "cpu_fallback"; });
    QVERIFY(fb != a->diagnostics.end());
    QVERIFY2(fb->description.find("illegal memory access") != std::string::npos,
             fb->description.c_str());
}

void TestComputeBackend::anEngineThatDoesNotOpen() {
    g_log = {};
    g_log.refuseToOpen = true;
    registerDeviceEngine(&openFake);
    prepareDeviceEngine(); // as the GUI does, off its thread: tries, selects nothing
    QCOMPARE(g_log.opened, 1);
    QVERIFY(!activeDeviceEngine());
    BackendStatus st = selectBackend(Backend::Cuda);
    QCOMPARE(st.active, Backend::Cpu);
    QVERIFY2(st.note.find("no CUDA device") != std::string::npos, st.note.c_str());
    QVERIFY(!st.deviceAvailable);
    st = selectBackend(Backend::Auto);
    QCOMPARE(st.active, Backend::Cpu);
    QCOMPARE(g_log.opened, 1); // tried once, not on every switch
    QVERIFY(!activeDeviceEngine());
}

QTEST_APPLESS_MAIN(TestComputeBackend)
#include "test_compute_backend.moc"
