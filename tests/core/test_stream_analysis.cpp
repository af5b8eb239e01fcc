// Whole-checkpoint streaming: a tensor analysed in chunks of rows gives the whole tensor's
// numbers, schemes that need the whole matrix get it, and read errors and cancel come through.
#include "analysis/fused_analysis.h"
#include "analysis/stream_analysis.h"
#include "fixture_imatrix.h"
#include "quant_helpers.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

using namespace qs;
using namespace qs::test;

namespace {

bool near(double a, double b) {
    return std::fabs(a - b) <= 1e-12 * std::max(std::fabs(a), std::fabs(b));
}

} // namespace

class TestStreamAnalysis : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void chunksGiveTheWholeTensorsNumbers_data();
    void chunksGiveTheWholeTensorsNumbers();
    void wholeMatrixSchemesAreNotChunked();
    void aTensorThatCannotBeReadIsReported();
    void cancels();
    void rowSeparability();
    void inputsChunkToo();
    void aRunOfRowsTakesTheTensorsRange();
    void tensorsThatCannotBeChunkedAreAnalysedWhole();

private:
    std::string path(const char* name) { return (m_dir.path() + "/" + name).toStdString(); }
    QTemporaryDir m_dir;
    std::string m_file;
    std::vector<float> m_big; // 96 x 256, stored f32
    std::vector<float> m_nan; // 40 x 256 with a NaN in row 33
};

void TestStreamAnalysis::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_big = gaussian(96 * 256, 1);
    m_big[5 * 256 + 7] = 0.3f; // an outlier in the first chunk
    const auto bf = gaussian(40 * 256, 2);
    std::vector<std::uint8_t> bfBytes;
    for (float x : bf) {
        const std::uint16_t h = floatToBf16(x);
        bfBytes.push_back(static_cast<std::uint8_t>(h & 0xFF));
        bfBytes.push_back(static_cast<std::uint8_t>(h >> 8));
    }
    m_nan = gaussian(40 * 256, 5);
    m_nan[33 * 256 + 100] = std::numeric_limits<float>::quiet_NaN();
    // Values near float's limits: int4:tensor's scale, (max - min) / 15, overflows.
    auto huge = gaussian(40 * 256, 6);
    for (float& v : huge)
        v *= 1e37f;
    huge[3] = 3e38f;
    huge[30 * 256 + 9] = -3e38f;
    m_file = path("model.safetensors");
    writeSafetensors(m_file, {{"big", "F32", {96, 256}, floatBytes(m_big)},
                              {"norm", "F32", {256}, floatBytes(gaussian(256, 3))},
                              {"bf", "BF16", {40, 256}, bfBytes},
                              {"odd", "F32", {30, 100}, floatBytes(gaussian(30 * 100, 4))},
                              {"nan", "F32", {40, 256}, floatBytes(m_nan)},
                              {"huge", "F32", {40, 256}, floatBytes(huge)}});
}

void TestStreamAnalysis::chunksGiveTheWholeTensorsNumbers_data() {
    QTest::addColumn<QString>("spec");
    for (const char* s : {"int4:g128", "int4:g64:clip=mse", "nf4:g64", "mxfp4", "q4_k", "q8_0",
                          "fp8_e4m3:channel", "mulaw8:g32", "bf16"})
        QTest::newRow(s) << QString(s);
    // A scale over the whole tensor, from its min and max read first.
    for (const char* s :
         {"int4:tensor", "int8:tensor:sym", "nf4:tensor", "fp8_e4m3:tensor", "mulaw8", "nvfp4"})
        QTest::newRow(s) << QString(s);
}

void TestStreamAnalysis::chunksGiveTheWholeTensorsNumbers() {
    QFETCH(QString, spec);
    const Scheme s = qs::test::spec(spec.toStdString());
    QVERIFY(rowSeparable(s) != fusedTakesTensorRange(s));
    auto ckpt = Checkpoint::open(m_file);
    QVERIFY(ckpt.ok());
    std::vector<const TensorInfo*> tensors{ckpt->find("big"), ckpt->find("bf")};
    StreamOptions opts;
    opts.chunkBytes = 10 * 256 * sizeof(float); // 10 rows of "big": 10 chunks, the last short
    std::vector<StreamedTensor> got;
    const std::vector<Scheme> schemes{s};
    auto st = analyzeStreamed(*ckpt, tensors, schemes, opts,
                              [&](StreamedTensor&& t) { got.push_back(std::move(t)); });
    QVERIFY(st.ok());
    QCOMPARE(got.size(), size_t(2));
    QCOMPARE(got[0].tensor->name, std::string("big"));
    QCOMPARE(got[0].chunks, 10);
    QCOMPARE(got[1].chunks, 4);

    for (const StreamedTensor& t : got) {
        auto values = ckpt->readFloat(*t.tensor);
        QVERIFY(values.ok());
        auto whole = analyzeTensor(matrixView(*t.tensor, *values), s);
        QVERIFY2(whole.ok(), whole.ok() ? "" : whole.message().c_str());
        const auto& r = t.results[0];
        QVERIFY2(r.ok(), r.ok() ? "" : r.message().c_str());
        QCOMPARE(r->error.count, whole->error.count);
        QVERIFY(near(r->error.sumSqErr, whole->error.sumSqErr));
        QVERIFY(near(r->error.sumSqRef, whole->error.sumSqRef));
        QVERIFY(near(r->error.dot, whole->error.dot));
        QCOMPARE(r->error.maxAbsErr, whole->error.maxAbsErr);
        QCOMPARE(r->cost.bytes(), whole->cost.bytes());
        QCOMPARE(r->cost.bitsPerWeight(), whole->cost.bitsPerWeight());
        QCOMPARE(r->diagnostics.size(), whole->diagnostics.size());
        for (std::size_t k = 0; k < r->diagnostics.size(); ++k)
            QCOMPARE(r->diagnostics[k].value, whole->diagnostics[k].value);
        QCOMPARE(r->levels, whole->levels);
        if (s.granularity == Granularity::Tensor) // the tensor's levels: no rows named
            QCOMPARE(r->levelsNote, whole->levelsNote);
    }
}

void TestStreamAnalysis::wholeMatrixSchemesAreNotChunked() {
    auto ckpt = Checkpoint::open(m_file);
    std::vector<const TensorInfo*> tensors{ckpt->find("big")};
    StreamOptions opts;
    opts.chunkBytes = 1024;
    // A tensor scale searched over every value needs every row; so does a mix with a separable
    // scheme.
    for (const auto& schemes : {std::vector<Scheme>{spec("int4:tensor:clip=mse")},
                                std::vector<Scheme>{spec("int4:g128"), spec("hqq4:g64")}}) {
        int chunks = 0;
        auto st = analyzeStreamed(*ckpt, tensors, schemes, opts,
                                  [&](StreamedTensor&& t) { chunks = t.chunks; });
        QVERIFY(st.ok());
        QCOMPARE(chunks, 1);
    }
    // bitsandbytes' blocks run over the flattened tensor: rows of 100 share blocks of 64, so
    // nf4:g64 reads the tensor whole there (and gives its numbers), where int4:g64 chunks.
    const TensorInfo* odd[] = {ckpt->find("odd")};
    QVERIFY(!rowSeparable(spec("nf4:g64"), 100) && !rowSeparable(spec("bnb_fp4"), 100));
    QVERIFY(rowSeparable(spec("nf4:g64"), 128) && rowSeparable(spec("nf4:channel"), 100));
    for (const char* s : {"nf4:g64", "int4:g64"}) {
        const std::vector<Scheme> schemes{spec(s)};
        StreamedTensor got;
        auto st = analyzeStreamed(*ckpt, odd, schemes, opts,
                                  [&](StreamedTensor&& t) { got = std::move(t); });
        QVERIFY(st.ok() && got.results.size() == 1 && got.results[0].ok());
        QCOMPARE(got.chunks, std::string(s) == "nf4:g64" ? 1 : 15); // 2 rows of 100 a chunk
        auto values = ckpt->readFloat(*odd[0]);
        auto whole = analyzeTensor(matrixView(*odd[0], *values), schemes[0]);
        QCOMPARE(got.results[0]->cost.bytes(), whole->cost.bytes());
        QVERIFY(near(got.results[0]->error.sumSqErr, whole->error.sumSqErr));
    }
}

void TestStreamAnalysis::aTensorThatCannotBeReadIsReported() {
    // A tensor whose bytes reach past the end of its file: every scheme's result is the error.
    auto ckpt = Checkpoint::open(m_file);
    TensorInfo broken = *ckpt->find("big");
    broken.name = "broken";
    broken.offset = 1u << 30;
    std::vector<const TensorInfo*> tensors{&broken, ckpt->find("bf")};
    std::vector<StreamedTensor> got;
    const std::vector<Scheme> schemes{spec("int4:g64"), spec("q8_0")};
    auto st = analyzeStreamed(*ckpt, tensors, schemes, {},
                              [&](StreamedTensor&& t) { got.push_back(std::move(t)); });
    QVERIFY(st.ok());
    QCOMPARE(got.size(), size_t(2));
    QVERIFY(!got[0].read.ok());
    QVERIFY(!got[0].results[0].ok() && !got[0].results[1].ok());
    QVERIFY(got[1].read.ok() && got[1].results[0].ok());
}

void TestStreamAnalysis::cancels() {
    auto ckpt = Checkpoint::open(m_file);
    std::vector<const TensorInfo*> tensors{ckpt->find("big"), ckpt->find("bf")};
    StreamOptions opts;
    opts.chunkBytes = 4096;
    int calls = 0;
    auto st = analyzeStreamed(
        *ckpt, tensors, std::vector<Scheme>{spec("int4:g64")}, opts,
        [&](StreamedTensor&&) { ++calls; }, [](double f) { return f < 0.3; });
    QVERIFY(!st.ok());
    QVERIFY(st.error().kind == ErrorKind::Cancelled);
    QCOMPARE(calls, 0);
}

void TestStreamAnalysis::rowSeparability() {
    for (const char* s : {"int4:g128", "int8:channel", "nf4:g64", "mxfp4", "mxfp8_e4m3", "q4_k",
                          "iq4_nl", "f16", "fp8_e4m3:channel"})
        QVERIFY2(rowSeparable(spec(s)), s);
    for (const char* s : {"int4:tensor", "int4:g128:round=stochastic", "nf4:g64:dq", "nvfp4",
                          "fp8_e4m3:tensor", "hqq4:g64", "sinq4:g64", "kmeans4", "gptq4:g128"})
        QVERIFY2(!rowSeparable(spec(s)), s);
    // Given the tensor's min and max, runs of rows alone: the scale over the whole tensor.
    for (const char* s : {"int4:tensor", "int8:tensor:sym", "nvfp4", "fp8_e4m3:tensor",
                          "nf4:tensor", "mulaw8", "alaw8"})
        QVERIFY2(fusedTakesTensorRange(spec(s)), s);
    for (const char* s : {"int4:g128", "mxfp4", "int4:tensor:clip=mse",
                          "int4:tensor:round=stochastic", "nf4:tensor:dq", "kmeans4", "f16"})
        QVERIFY2(!fusedTakesTensorRange(spec(s)), s);
}

// With activations or an importance matrix a big tensor is still read in chunks of rows: the
// output error's sums (one output column per row of W) and the imatrix option (one weight per
// column) add up to the whole tensor's. A tensor the importance matrix has no entry for is read
// whole (its plain quantization's note said once).
void TestStreamAnalysis::inputsChunkToo() {
    auto ckpt = Checkpoint::open(m_file);
    QVERIFY(ckpt.ok());
    const TensorInfo* tensors[] = {ckpt->find("big"), ckpt->find("bf")};
    const std::vector<Scheme> schemes{spec("int4:g64"), spec("q4_0:imatrix"), spec("q4_k:imatrix")};
    auto xs = gaussian(24 * 256, 11);
    for (std::size_t k = 5; k < xs.size(); k += 256)
        xs[k] *= 30.0f;
    const MatrixView x{xs.data(), 24, 256};
    std::vector<float> sums(256, 4.0f);
    sums[9] = 400.0f;
    const QString file = m_dir.filePath("imatrix.gguf");
    writeBytes(file.toStdString(), imatrixGguf({{"big", sums, {2}}}, 1, "t"));
    auto imatrix = readImatrixFile(file.toStdString());
    QVERIFY(imatrix.ok());
    for (bool activations : {true, false}) {
        StreamOptions opts;
        opts.chunkBytes = 10 * 256 * sizeof(float);
        if (activations)
            opts.activationsFor = [&](std::int64_t f) { return f == 256 ? &x : nullptr; };
        else
            opts.imatrix = &*imatrix;
        std::vector<StreamedTensor> got;
        auto st = analyzeStreamed(*ckpt, tensors, schemes, opts,
                                  [&](StreamedTensor&& t) { got.push_back(std::move(t)); });
        QVERIFY(st.ok());
        QCOMPARE(got.size(), size_t(2));
        QCOMPARE(got[0].chunks, 10);
        QCOMPARE(got[1].chunks, activations ? 4 : 1); // no entry for "bf"
        auto values = ckpt->readFloat(*got[0].tensor);
        for (std::size_t k = 0; k < schemes.size(); ++k) {
            AnalysisOptions o;
            o.activations = activations ? &x : nullptr;
            const auto weights = imatrix->weightsFor("big");
            o.importance = activations ? nullptr : &weights;
            auto whole = analyzeTensor(matrixView(*got[0].tensor, *values), schemes[k], o);
            const auto& r = got[0].results[k];
            QVERIFY2(whole.ok() && r.ok(), schemes[k].toString().c_str());
            QVERIFY(r->outputError && whole->outputError);
            QVERIFY(near(r->outputError->err, whole->outputError->err));
            QVERIFY(near(r->outputError->ref, whole->outputError->ref));
            QVERIFY(near(r->error.sumSqErr, whole->error.sumSqErr));
            QCOMPARE(r->cost.bytes(), whole->cost.bytes());
        }
    }
}

// Rows of a tensor given its min and max are reconstructed as in the whole tensor's analysis,
// bit for bit, and their sums are those rows' part; without the range they take their own.
void TestStreamAnalysis::aRunOfRowsTakesTheTensorsRange() {
    const MatrixView all{m_big.data(), 96, 256};
    const MatrixView rows{m_big.data() + 40 * 256, 30, 256}; // not the outlier's row 5
    const auto range = finiteRange(m_big.data(), static_cast<std::int64_t>(m_big.size()));
    QVERIFY(range && range->second == 0.3f);
    for (const char* spec : {"int4:tensor", "int8:tensor:sym", "nf4:tensor", "fp8_e4m3:tensor",
                             "mulaw8", "alaw4", "nvfp4"}) {
        const Scheme s = qs::test::spec(spec);
        auto whole = quantize(s, all);
        QVERIFY2(whole.ok(), spec);
        AnalysisOptions o;
        o.keepReconstruction = true;
        o.histogramBins = 64;
        o.tensorRange = range;
        auto part = analyzeTensor(rows, s, o);
        QVERIFY2(part.ok(), spec);
        QCOMPARE(part->backend, std::string("cpu"));
        const std::span<const float> expected(whole->reconstruction.data() + 40 * 256, 30 * 256);
        QVERIFY2(std::equal(expected.begin(), expected.end(), part->reconstruction.begin()), spec);
        const auto e = computeErrorMetrics({rows.data, rows.size()}, expected);
        QVERIFY2(near(part->error.sumSqErr, e.sumSqErr) && near(part->error.dot, e.dot), spec);
        QCOMPARE(part->error.maxAbsErr, e.maxAbsErr);
        if (s.granularity == Granularity::Tensor) // nvfp4's: the widest block's, of these rows
            QVERIFY2(part->levels == whole->levels, spec);
        o.tensorRange.reset();
        auto own = analyzeTensor(rows, s, o);
        QVERIFY2(own.ok() &&
                     !std::equal(expected.begin(), expected.end(), own->reconstruction.begin()),
                 spec);
    }
}

// A NaN in a tensor leaves its scale over the whole tensor to the plain path, and a scale that
// overflows float to it too: those schemes read the tensor whole after its chunks and give the
// whole tensor's numbers; the chunked ones are unchanged.
void TestStreamAnalysis::tensorsThatCannotBeChunkedAreAnalysedWhole() {
    auto ckpt = Checkpoint::open(m_file);
    QVERIFY(ckpt.ok());
    const TensorInfo* tensors[] = {ckpt->find("nan"), ckpt->find("huge")};
    StreamOptions opts;
    opts.chunkBytes = 10 * 256 * sizeof(float);
    const std::vector<Scheme> schemes{spec("int4:tensor"), spec("int4:g64"), spec("nvfp4")};
    std::vector<StreamedTensor> got;
    auto st = analyzeStreamed(*ckpt, tensors, schemes, opts,
                              [&](StreamedTensor&& t) { got.push_back(std::move(t)); });
    QVERIFY(st.ok());
    QCOMPARE(got.size(), size_t(2));
    for (const StreamedTensor& t : got) {
        QCOMPARE(t.chunks, 4);
        auto values = ckpt->readFloat(*t.tensor);
        for (std::size_t k = 0; k < schemes.size(); ++k) {
            auto whole = analyzeTensor(matrixView(*t.tensor, *values), schemes[k]);
            const auto& r = t.results[k];
            const QString what =
                QString::fromStdString(t.tensor->name + " " + schemes[k].toString());
            QVERIFY2(whole.ok() && r.ok(), qPrintable(what));
            QCOMPARE(r->error.count, whole->error.count);
            const bool same = std::isnan(whole->error.sumSqErr)
                                  ? std::isnan(r->error.sumSqErr)
                                  : near(r->error.sumSqErr, whole->error.sumSqErr);
            QVERIFY2(same, qPrintable(what));
            QCOMPARE(r->cost.bytes(), whole->cost.bytes());
            QCOMPARE(r->levels.size(), whole->levels.size());
        }
    }
}

QTEST_APPLESS_MAIN(TestStreamAnalysis)
#include "test_stream_analysis.moc"
