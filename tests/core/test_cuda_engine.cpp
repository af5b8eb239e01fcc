// The CUDA engine against the CPU, on a device (QSKIP without one). For every family the
// kernels cover: the reconstruction bit for bit (so the codes are the CPU's), the error
// histogram count for count over the same range, max |error| exactly, the error sums within
// 1e-9 relative (the device adds in another order), and the same levels, note, cost and
// diagnostics. Also bf16/f16 input (through bench, against the CPU bench on the same values),
// tensors streamed in chunks, NaN/Inf declined to the CPU, and cancellation.
#include "analysis/compute_backend.h"
#include "analysis/tensor_analysis.h"
#include "cuda/cuda_engine.h"

#include "quant_helpers.h"

#include <QtTest>

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace qs;

namespace {

Scheme scheme(const QString& spec) {
    auto s = Scheme::parse(spec.toStdString());
    if (!s)
        qFatal("bad spec");
    return *s;
}

std::vector<float> weights(std::int64_t rows, std::int64_t cols, unsigned seed) {
    auto w = test::gaussian(static_cast<std::size_t>(rows * cols), seed);
    for (std::int64_t k = 0; k < std::min<std::int64_t>(cols, 16); ++k)
        w[static_cast<std::size_t>(k)] = 0.25f * static_cast<float>(k) - 2.0f;
    if (rows > 2)
        for (std::int64_t c = 0; c < cols; ++c)
            w[static_cast<std::size_t>(cols + c)] = 0.0f;
    w[w.size() / 3] = 0.9f;
    return w;
}

void near(double device, double cpu, const char* what) {
    QVERIFY2(std::fabs(device - cpu) <= 1e-9 * std::max(1e-300, std::fabs(cpu)),
             qPrintable(QString("%1: device %2 cpu %3")
                            .arg(what)
                            .arg(device, 0, 'g', 17)
                            .arg(cpu, 0, 'g', 17)));
}

} // namespace

class TestCudaEngine : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesTheCpu_data();
    void matchesTheCpu();
    void streamsInChunks();
    void halfInputsMatchTheCpuBench_data();
    void halfInputsMatchTheCpuBench();
    void declinesNonFinite();
    void cancels();

private:
    void compare(const Scheme& s, const std::vector<float>& w, std::int64_t rows,
                 std::int64_t cols);
    std::unique_ptr<DeviceEngine> m_engine;
};

void TestCudaEngine::initTestCase() {
    std::string why;
    m_engine = cuda::openCudaEngine(why);
    if (!m_engine)
        QSKIP(qPrintable("no CUDA device: " + QString::fromStdString(why)));
    qInfo("device: %s", m_engine->deviceName().c_str());
}

void TestCudaEngine::compare(const Scheme& s, const std::vector<float>& w, std::int64_t rows,
                             std::int64_t cols) {
    const MatrixView m{w.data(), rows, cols};
    QVERIFY(m_engine->covers(s, rows, cols));
    FusedRequest req;
    req.errorHistogramBins = 256;
    req.keepReconstruction = true;
    auto dev = m_engine->analyze(s, m, req, {});
    QVERIFY2(dev, "declined");
    QVERIFY2(*dev, qPrintable(QString::fromStdString(dev->message())));
    auto cpu = quantize(s, m);
    QVERIFY(cpu);
    const auto& rec = (*dev)->output.reconstruction;
    QCOMPARE(rec.size(), w.size());
    for (std::size_t i = 0; i < w.size(); ++i)
        QVERIFY2(std::memcmp(&rec[i], &cpu->reconstruction[i], sizeof(float)) == 0,
                 qPrintable(QString("element %1 (row %2): x %3 device %4 cpu %5")
                                .arg(i)
                                .arg(i / static_cast<std::size_t>(cols))
                                .arg(double(w[i]), 0, 'g', 9)
                                .arg(double(rec[i]), 0, 'g', 9)
                                .arg(double(cpu->reconstruction[i]), 0, 'g', 9)));
    const ErrorMetrics e = computeErrorMetrics(w, cpu->reconstruction);
    const ErrorMetrics& d = (*dev)->error;
    QCOMPARE(d.count, e.count);
    near(d.sumSqErr, e.sumSqErr, "sum sq err");
    near(d.sumSqRef, e.sumSqRef, "sum sq ref");
    near(d.sumSqRec, e.sumSqRec, "sum sq rec");
    near(d.dot, e.dot, "dot");
    QCOMPARE(d.maxAbsErr, e.maxAbsErr);
    const Histogram h = computeDifferenceHistogram(w, cpu->reconstruction, 256);
    QVERIFY((*dev)->errorHistogram);
    QCOMPARE((*dev)->errorHistogram->lo, h.lo);
    QCOMPARE((*dev)->errorHistogram->hi, h.hi);
    QCOMPARE((*dev)->errorHistogram->counts, h.counts);
    const QuantOutput& o = (*dev)->output;
    QCOMPARE(o.levels, cpu->levels);
    QCOMPARE(o.levelsNote, cpu->levelsNote);
    QCOMPARE(o.cost.bytes(), cpu->cost.bytes());
    QCOMPARE(o.diagnostics.size(), cpu->diagnostics.size());
    for (std::size_t i = 0; i < o.diagnostics.size(); ++i)
        QCOMPARE(o.diagnostics[i].value, cpu->diagnostics[i].value);
}

void TestCudaEngine::matchesTheCpu_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    const char* specs[] = {"int4:g128", "int4:g128:sym", "int8:channel", "int3:tensor",
                           "int2:g32:sym:range=full", "int5:g100", "nf4:g64", "nf4:channel",
                           "nf2:tensor", "nf8:g128", "mxfp4", "mxfp6_e2m3", "mxfp6_e3m2",
                           "mxfp8_e4m3", "mxfp8_e5m2", "mxint8", "nvfp4", "mxfp4:scale=rceil",
                           "mxfp8_e4m3:scale=even"};
    for (const char* s : specs) {
        // 16-byte packs; single elements (odd width); a long row (groups re-read); one row.
        QTest::newRow(qPrintable(QString(s) + " 96x512")) << QString(s) << 96 << 512;
        QTest::newRow(qPrintable(QString(s) + " 33x1000")) << QString(s) << 33 << 1000;
        QTest::newRow(qPrintable(QString(s) + " 5x16384")) << QString(s) << 5 << 16384;
        QTest::newRow(qPrintable(QString(s) + " 1x7")) << QString(s) << 1 << 7;
    }
}

void TestCudaEngine::matchesTheCpu() {
    QFETCH(QString, spec);
    QFETCH(int, rows);
    QFETCH(int, cols);
    const Scheme s = scheme(spec);
    if (!m_engine->covers(s, rows, cols))
        QSKIP("layout not covered (nf blocks across rows)");
    compare(s, weights(rows, cols, static_cast<unsigned>(rows * 7 + cols)), rows, cols);
}

void TestCudaEngine::streamsInChunks() {
    // Chunks of 3 rows (a test hook): pinned buffers, two in flight, pass 1 in reverse.
    qputenv("QS_CUDA_MAX_CHUNK_BYTES", QByteArray::number(3 * 1024 * 4));
    const auto w = weights(50, 1024, 11);
    for (const char* spec : {"int4:g128", "nf4:tensor", "nvfp4", "int8:tensor"})
        compare(scheme(spec), w, 50, 1024);
    qunsetenv("QS_CUDA_MAX_CHUNK_BYTES");
}

void TestCudaEngine::halfInputsMatchTheCpuBench_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("dtype");
    for (const char* s : {"int4:g128", "nf4:g64", "mxfp4", "nvfp4", "int8:tensor"})
        for (const char* t : {"bf16", "f16", "f32"})
            QTest::newRow(qPrintable(QString(s) + " " + t)) << QString(s) << QString(t);
}

void TestCudaEngine::halfInputsMatchTheCpuBench() {
    QFETCH(QString, spec);
    QFETCH(QString, dtype);
    BenchRequest req;
    req.scheme = scheme(spec);
    req.rows = 256;
    req.cols = 1024;
    req.dtype = dtype == "bf16" ? DType::BF16 : dtype == "f16" ? DType::F16 : DType::F32;
    req.repeat = 2;
    req.warmup = 1;
    auto dev = m_engine->bench(req, {});
    QVERIFY2(dev, qPrintable(QString::fromStdString(dev ? "" : dev.message())));
    QCOMPARE(dev->backend, std::string("cuda"));
    QVERIFY(dev->copyGbps > 0);
    selectBackend(Backend::Cpu);
    auto cpu = runCpuBench(req, {});
    QVERIFY(cpu);
    near(dev->error.sumSqErr, cpu->error.sumSqErr, "sum sq err");
    near(dev->error.sumSqRef, cpu->error.sumSqRef, "sum sq ref");
    QCOMPARE(dev->error.maxAbsErr, cpu->error.maxAbsErr);
}

void TestCudaEngine::declinesNonFinite() {
    auto w = weights(8, 256, 3);
    for (float bad : {std::nanf(""), INFINITY}) {
        w[300] = bad;
        for (const char* spec : {"int4:g128", "int4:tensor", "nf4:g64", "mxfp4", "nvfp4"}) {
            auto r = m_engine->analyze(scheme(spec), {w.data(), 8, 256}, {}, {});
            QVERIFY2(!r, spec);
        }
    }
}

void TestCudaEngine::cancels() {
    const auto w = weights(64, 1024, 5);
    FusedRequest req;
    req.errorHistogramBins = 256;
    auto r = m_engine->analyze(scheme("int4:g128"), {w.data(), 64, 1024}, req,
                               [](double) { return false; });
    QVERIFY(r);
    QVERIFY(!*r);
    QCOMPARE(r->error().kind, ErrorKind::Cancelled);
}

QTEST_APPLESS_MAIN(TestCudaEngine)
#include "test_cuda_engine.moc"
