// The fused CPU path (quantize + metrics + error histogram in one pass per group) against the
// plain passes it replaces: quantize(), computeErrorMetrics() and computeDifferenceHistogram().
#include "analysis/fused_analysis.h"
#include "analysis/fused_avx512.h"
#include "analysis/fused_families.h"
#include "analysis/fused_sums.h"
#include "analysis/tensor_analysis.h"
#include "metrics/output_error.h"
#include "quant/companding_quant.h"
#include "quant/group_quant.h"
#include "quant/normal_float.h"

#include "quant_helpers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qs;
using namespace qs::test;

namespace {

std::vector<float> weights(std::int64_t rows, std::int64_t cols, unsigned seed) {
    auto w = gaussian(static_cast<std::size_t>(rows * cols), seed);
    // Hard cases: exact ties at half a step, a constant group, an all-zero row, an outlier.
    if (cols >= 8) {
        for (int k = 0; k < 8; ++k)
            w[static_cast<std::size_t>(k)] = 0.25f * static_cast<float>(k) - 1.0f;
        if (rows > 2)
            for (std::int64_t c = 0; c < cols; ++c) {
                w[static_cast<std::size_t>(cols + c)] = 0.0f;
                w[static_cast<std::size_t>(2 * cols + c)] = c < 16 ? 0.5f : w[2 * cols + c];
            }
        w.back() = 0.4f;
    }
    // The widest group twice, in different blocks of rows: the first one must be named.
    if (rows > 250) {
        w[static_cast<std::size_t>(3 * cols)] = 9.0f;
        std::copy_n(w.begin() + 3 * cols, cols, w.begin() + 250 * cols);
    }
    return w;
}

void compareSums(double fused, double plain) {
    QVERIFY2(
        std::fabs(fused - plain) <= 1e-12 * std::max(1e-300, std::fabs(plain)),
        qPrintable(QString("fused %1 plain %2").arg(fused, 0, 'g', 17).arg(plain, 0, 'g', 17)));
}

// Each boundary (a midpoint or threshold, as a float) and one float either side, times 1 and times
// 0.75, in groups of 40 that each start with their absmax (1 or 0.75, so x / a is the value).
std::vector<float> atBoundaries(const std::vector<float>& boundaries) {
    std::vector<float> w;
    for (float scale : {1.0f, 0.75f})
        for (float b : boundaries)
            for (float v : {std::nextafter(b, -2.0f), b, std::nextafter(b, 2.0f)}) {
                if (w.size() % 40 == 0)
                    w.push_back(scale);
                w.push_back(v * scale);
            }
    while (w.size() % 40 != 0)
        w.push_back(0.0f);
    return w;
}

} // namespace

class TestFusedAnalysis : public QObject {
    Q_OBJECT
private slots:
    void matchesThePlainPasses_data();
    void matchesThePlainPasses();
    void analyzeTensorTakesIt();
    void sweepBitsMatchesThePlainPasses();
    void sweepBitsGivesTheOutputSnrWithInputs();
    void errorRangeFromANarrowerGroup();
    void errorRangeBelowTheLargestBound();
    void errorSumsAndBinsUnderBothKernels();
    void groupMinMaxUnderBothKernels();
    void nfAndCompandingAtTheirBoundaries();

private:
    void nfMidpointsMatch();
    void compandThresholdsMatch();

private slots:
    void nonFiniteGoesThroughThePlainPath();
    void coversOnlyWhatItImplements();
    void cancels();
};

void TestFusedAnalysis::matchesThePlainPasses_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    for (const char* s : {"int4:g128", "int4:g128:sym", "int8:channel", "int3:g64:sym:range=full",
                          "int2:g32", "int4", "int4:sym", "int8:g100", "int5:channel:sym"}) {
        QTest::newRow(qPrintable(QString(s) + " 300x512")) << QString(s) << 300 << 512;
        QTest::newRow(qPrintable(QString(s) + " 7x1000")) << QString(s) << 7 << 1000;
    }
    QTest::newRow("int4:g128 1x5") << "int4:g128" << 1 << 5;
    // NormalFloat: flat blocks that are whole groups of a row.
    for (const char* s : {"nf4:g64", "nf3:g32", "nf2:g16", "nf8:g128", "nf4:channel", "nf4:tensor"})
        for (const auto& [rows, cols] : {std::pair{300, 512}, std::pair{7, 1024}})
            QTest::newRow(qPrintable(QString("%1 %2x%3").arg(s).arg(rows).arg(cols)))
                << QString(s) << rows << cols;
    QTest::newRow("nf4:channel 7x1000") << "nf4:channel" << 7 << 1000;
    // mu-law and A-law through the threshold table (counted up to 4 bits, searched above).
    for (const char* s : {"mulaw4", "mulaw8:g64", "mulaw2:g32", "mulaw4:mu15:channel", "alaw4:g128",
                          "alaw8:channel", "alaw3"})
        for (const auto& [rows, cols] : {std::pair{300, 512}, std::pair{7, 1000}})
            QTest::newRow(qPrintable(QString("%1 %2x%3").arg(s).arg(rows).arg(cols)))
                << QString(s) << rows << cols;
    // Float elements, microscaling and q8_0 (fused_plan.cpp: the CUDA kernels' arithmetic).
    for (const char* s : {"fp8_e4m3", "fp8_e5m2:g64", "fp4:tensor", "fp6_e2m3:g32", "mxfp4",
                          "mxfp8_e4m3", "mxint8:scale=even", "mxfp6_e3m2:scale=rceil", "nvfp4",
                          "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"})
        for (const auto& [rows, cols] : {std::pair{300, 512}, std::pair{7, 1024}, std::pair{5, 96}})
            QTest::newRow(qPrintable(QString("%1 %2x%3").arg(s).arg(rows).arg(cols)))
                << QString(s) << rows << cols;
    QTest::newRow("mxfp4 3x1001") << "mxfp4" << 3 << 1001;
    QTest::newRow("fp8_e4m3 3x1001") << "fp8_e4m3" << 3 << 1001;
    QTest::newRow("nf4:tensor 3x1001") << "nf4:tensor" << 3 << 1001;
    // Rows wider than one stretch of sums and bins (4096 values), ending in part of a stretch
    // and, for int4:g128, in part of a group.
    for (const char* s : {"int4:g128", "int8:g100", "nf4:g64", "mxfp4", "q4_1", "fp8_e4m3"})
        QTest::newRow(qPrintable(QString(s) + " 3x9024")) << QString(s) << 3 << 9024;
}

void TestFusedAnalysis::matchesThePlainPasses() {
    QFETCH(QString, spec);
    QFETCH(int, rows);
    QFETCH(int, cols);
    const Scheme s = qs::test::spec(spec.toStdString());
    const auto w = weights(rows, cols, 7u + static_cast<unsigned>(rows));
    const MatrixView m{w.data(), rows, cols};

    auto plain = quantize(s, m);
    QVERIFY(plain.ok());
    const auto plainError = computeErrorMetrics(w, plain->reconstruction);
    const auto plainHist = computeDifferenceHistogram(w, plain->reconstruction, 256);

    for (bool keep : {false, true}) {
        FusedRequest req;
        req.errorHistogramBins = 256;
        req.keepReconstruction = keep;
        auto fused = analyzeFused(s, m, req);
        QVERIFY(fused.has_value());
        QVERIFY(fused->ok());
        const FusedResult& f = fused->value();
        if (keep)
            QVERIFY(f.output.reconstruction == plain->reconstruction); // bit for bit
        else
            QVERIFY(f.output.reconstruction.empty());
        QCOMPARE(f.error.count, plainError.count);
        compareSums(f.error.sumSqErr, plainError.sumSqErr);
        compareSums(f.error.sumSqRef, plainError.sumSqRef);
        compareSums(f.error.sumSqRec, plainError.sumSqRec);
        compareSums(f.error.dot, plainError.dot);
        QCOMPARE(f.error.maxAbsErr, plainError.maxAbsErr);
        QVERIFY(f.errorHistogram.has_value());
        QCOMPARE(f.errorHistogram->lo, plainHist.lo);
        QCOMPARE(f.errorHistogram->hi, plainHist.hi);
        QVERIFY(f.errorHistogram->counts == plainHist.counts);
        QCOMPARE(f.errorHistogram->total(), std::uint64_t(w.size()));
        QVERIFY(f.output.levels == plain->levels);
        QCOMPARE(f.output.levelsNote, plain->levelsNote);
        QCOMPARE(f.output.cost.bitsPerWeight(), plain->cost.bitsPerWeight());
        QCOMPARE(f.output.cost.bytes(), plain->cost.bytes());
        QCOMPARE(f.output.diagnostics.size(), plain->diagnostics.size());
        for (std::size_t i = 0; i < f.output.diagnostics.size(); ++i) {
            QCOMPARE(f.output.diagnostics[i].key, plain->diagnostics[i].key);
            QCOMPARE(f.output.diagnostics[i].value, plain->diagnostics[i].value);
        }
    }
}

// analyzeTensor's answer is the fused one and agrees with the plain passes (sums aside).
void TestFusedAnalysis::analyzeTensorTakesIt() {
    const auto w = weights(64, 256, 3);
    const MatrixView m{w.data(), 64, 256};
    AnalysisOptions opts;
    opts.histogramBins = 64;
    opts.keepReconstruction = true;
    auto a = analyzeTensor(m, spec("int4:g64"), opts);
    QVERIFY(a.ok());
    auto plain = quantize(spec("int4:g64"), m);
    QVERIFY(a->reconstruction == plain->reconstruction);
    QVERIFY(a->weightHistogram.has_value());
    QVERIFY(a->errorHistogram->counts ==
            computeDifferenceHistogram(w, plain->reconstruction, 64).counts);
    compareSums(a->error.sqnrDb(), computeErrorMetrics(w, plain->reconstruction).sqnrDb());
}

// The SNR-versus-bits sweep takes the fused path where it covers a width and the plain passes
// elsewhere (here: a width the fused NF path does not take, a family it does not cover, NaN);
// either way each point is the plain quantizer's SQNR and bits per weight.
void TestFusedAnalysis::sweepBitsMatchesThePlainPasses() {
    auto w = weights(40, 256, 9);
    const MatrixView m{w.data(), 40, 256};
    for (const char* name : {"int4:g64", "nf4:g32", "mulaw4:g64", "mxfp4", "q4_k"}) {
        const Scheme s = spec(name);
        auto sweep = sweepBits(m, s, 2, 8);
        QVERIFY2(sweep.ok(), name);
        QVERIFY(!sweep->empty());
        for (const BitSweepPoint& p : *sweep) {
            const Scheme at = spec(p.spec.c_str());
            QCOMPARE(at.bits, p.bits);
            auto plain = quantize(at, m);
            QVERIFY(plain.ok());
            compareSums(p.sqnrDb, computeErrorMetrics(w, plain->reconstruction).sqnrDb());
            QCOMPARE(p.bitsPerWeight, plain->cost.bitsPerWeight());
        }
    }
    QCOMPARE(sweepBits(m, spec("int4:g64"), 2, 8)->size(), std::size_t(7));
    // A fixed-width family sweeps its ladder: the k-quants and q8_0 around q4_k, the MX widths
    // around mxfp4; on rows of 64 the k-quants' 256-blocks do not apply, so q8_0's ladder keeps
    // q8_0 alone, and q4_k itself is not applicable there.
    auto specsOf = [](const std::vector<BitSweepPoint>& points) {
        std::vector<std::string> out;
        for (const auto& p : points)
            out.push_back(p.spec);
        return out;
    };
    QCOMPARE(specsOf(*sweepBits(m, spec("q4_k"), 2, 8)),
             (std::vector<std::string>{"q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_0"}));
    QCOMPARE(specsOf(*sweepBits(m, spec("mxfp6_e3m2"), 2, 8)),
             (std::vector<std::string>{"mxfp4", "mxfp6_e3m2", "mxfp8_e5m2"}));
    QCOMPARE(specsOf(*sweepBits(m, spec("nvfp4"), 2, 8)), std::vector<std::string>{"nvfp4"});
    const auto narrow = weights(8, 64, 3);
    const MatrixView rows64{narrow.data(), 8, 64};
    QCOMPARE(specsOf(*sweepBits(rows64, spec("q8_0"), 2, 8)), std::vector<std::string>{"q8_0"});
    QCOMPARE(specsOf(*sweepBits(rows64, spec("q5_0"), 2, 8)),
             (std::vector<std::string>{"q4_0", "q5_0", "q8_0"}));
    const auto q4k = sweepBits(rows64, spec("q4_k"), 2, 8);
    QVERIFY(!q4k.ok() && q4k.error().kind == ErrorKind::NotApplicable);
    w[77] = std::numeric_limits<float>::quiet_NaN();
    auto withNan = sweepBits(m, spec("int4:g64"), 3, 4);
    QVERIFY(withNan.ok());
    QCOMPARE(withNan->size(), std::size_t(2));
}

// With activations or an importance matrix each width also has the output's SNR: that of
// outputErrorSums / importanceErrorSums for the plain quantizer's reconstruction; without, NaN.
void TestFusedAnalysis::sweepBitsGivesTheOutputSnrWithInputs() {
    const auto w = weights(24, 128, 5);
    const MatrixView m{w.data(), 24, 128};
    auto xs = weights(16, 128, 6);
    for (std::size_t k = 3; k < xs.size(); k += 128)
        xs[k] *= 20.0f; // one loud input channel
    const MatrixView x{xs.data(), 16, 128};
    std::vector<float> imp(128, 1.0f);
    imp[3] = 400.0f;
    const ImportanceWeights importance{imp, "test"};
    for (const char* name : {"int4:g64", "q4_0", "q4_0:imatrix"}) {
        auto withX = sweepBits(m, spec(name), 3, 6, {}, &x);
        auto withImp = sweepBits(m, spec(name), 3, 6, {}, nullptr, &importance);
        QVERIFY2(withX.ok() && withImp.ok(), name);
        QCOMPARE(withX->size(), withImp->size());
        QVERIFY(!withX->empty());
        // Without inputs no output SNR (and the imatrix option cannot run at all).
        auto without = sweepBits(m, spec(name), 3, 6);
        QCOMPARE(without.ok(), std::string(name) != "q4_0:imatrix");
        for (std::size_t i = 0; without.ok() && i < without->size(); ++i)
            QVERIFY(std::isnan((*without)[i].outputSnrDb));
        for (std::size_t i = 0; i < withX->size(); ++i) {
            const BitSweepPoint &a = (*withX)[i], &b = (*withImp)[i];
            const Scheme at = spec(a.spec.c_str());
            auto q = quantize(at, m, {}, &x); // the imatrix option's importance from X
            QVERIFY(q.ok());
            const auto out = outputErrorSums(x, m, q->reconstruction.data());
            QVERIFY(out.ok());
            compareSums(a.outputSnrDb, sqnrDbFromSums(out->ref, out->err));
            compareSums(a.sqnrDb, computeErrorMetrics(w, q->reconstruction).sqnrDb());
            auto qi = quantize(at, m, {}, nullptr, &importance);
            const auto sums = importanceErrorSums(imp, m, qi->reconstruction.data());
            compareSums(b.outputSnrDb, sqnrDbFromSums(sums->ref, sums->err));
        }
    }
}

// The histogram's range is the exact max |error|, here in a group narrower than the widest: its
// error bound must let it be measured (mu-law: the widest gap between levels, near +-1).
// The plan families (float elements, MX, NVFP4, ggml's blocks) measure the exact max |error|
// only where a group's bound passes the largest found (analysis/plan_bounds.h). Here the group
// of the largest bound, first, is on the grid (no error), and the error range comes from the
// smaller Gaussian groups after it in the same block: the range and counts are the plain ones.
void TestFusedAnalysis::errorRangeBelowTheLargestBound() {
    const std::pair<const char*, float> cases[] = {
        {"mxfp4", 6.0f},   {"nvfp4", 1.0f}, {"fp8_e4m3:g32", 448.0f}, {"fp4:g32", 6.0f},
        {"q8_0", 7.9375f}, {"q4_0", 8.0f},  {"q5_0", 16.0f},          {"q4_1", 0.0f}};
    for (const auto& [text, c] : cases) {
        const Scheme s = spec(text);
        auto w = weights(8, 512, 21u);
        for (int k = 0; k < 32; ++k) // q4_1: -8, -7, ..., 7 (d = 1, every value a code)
            w[static_cast<std::size_t>(k)] = c != 0.0f ? c : static_cast<float>(k % 16 - 8);
        const MatrixView m{w.data(), 8, 512};
        auto plain = quantize(s, m);
        QVERIFY(plain.ok());
        for (int k = 0; k < 32; ++k)
            QCOMPARE(plain->reconstruction[static_cast<std::size_t>(k)], w[k]);
        const auto plainError = computeErrorMetrics(w, plain->reconstruction);
        QVERIFY(plainError.maxAbsErr > 0);
        FusedRequest req;
        req.errorHistogramBins = 256;
        auto fused = analyzeFused(s, m, req);
        QVERIFY(fused.has_value() && fused->ok());
        QCOMPARE(fused->value().error.maxAbsErr, plainError.maxAbsErr);
        QVERIFY2(fused->value().errorHistogram->counts ==
                     computeDifferenceHistogram(w, plain->reconstruction, 256).counts,
                 text);
    }
}

void TestFusedAnalysis::errorRangeFromANarrowerGroup() {
    const Scheme s = spec("mulaw4:g64");
    const auto table = compandingTable(s);
    QVERIFY(table.has_value());
    const float lev14 = table->levels[14], th15 = static_cast<float>(table->thresholds[14]);
    std::vector<float> w(128, 0.0f);
    w[0] = 1.0f; // group 0, the widest: an error of th15 - 0.01 - lev14
    w[1] = th15 - 0.01f;
    w[64] = 0.99f; // group 1: 0.99 (th15 - 1e-4 - lev14), larger
    w[65] = 0.99f * (th15 - 1e-4f);
    const MatrixView m{w.data(), 1, 128};
    auto plain = quantize(s, m);
    QVERIFY(plain.ok());
    const ErrorMetrics want = computeErrorMetrics(w, plain->reconstruction);
    QVERIFY(want.maxAbsErr > static_cast<double>(th15 - 0.01f - lev14) + 1e-3);
    FusedRequest req;
    req.errorHistogramBins = 32;
    auto fused = analyzeFused(s, m, req);
    QVERIFY(fused && fused->ok());
    QCOMPARE(fused->value().error.maxAbsErr, want.maxAbsErr);
    QVERIFY(fused->value().errorHistogram->counts ==
            computeDifferenceHistogram(w, plain->reconstruction, 32).counts);
}

void TestFusedAnalysis::nonFiniteGoesThroughThePlainPath() {
    auto w = weights(16, 128, 5);
    w[300] = std::numeric_limits<float>::quiet_NaN();
    const MatrixView m{w.data(), 16, 128};
    QVERIFY(!analyzeFused(spec("int4:g32"), m, {}).has_value());
    QVERIFY(!analyzeFused(spec("mxfp4"), m, {}).has_value());
    QVERIFY(!analyzeFused(spec("nvfp4"), m, {}).has_value());
    w[300] = std::numeric_limits<float>::infinity();
    QVERIFY(!analyzeFused(spec("int4"), m, {}).has_value());
    QVERIFY(!analyzeFused(spec("fp8_e4m3:tensor"), m, {}).has_value());
    QVERIFY(!analyzeFused(spec("q8_0"), m, {}).has_value());
    QVERIFY(analyzeTensor(m, spec("int4:g32")).ok());
}

void TestFusedAnalysis::coversOnlyWhatItImplements() {
    QVERIFY(fusedAnalysisCovers(spec("int4:g128")));
    QVERIFY(!fusedAnalysisCovers(spec("int4:g128:clip=mse")));
    QVERIFY(!fusedAnalysisCovers(spec("int4:g128:round=stochastic")));
    QVERIFY(fusedAnalysisCovers(spec("nf4:g64")));
    QVERIFY(fusedAnalysisCovers(spec("mulaw4")));
    QVERIFY(fusedAnalysisCovers(spec("alaw8:g64")));
    QVERIFY(!fusedAnalysisCovers(spec("log4")));
    QVERIFY(!fusedAnalysisCovers(spec("mulaw4:clip=mse")));
    QVERIFY(!fusedAnalysisCovers(spec("mulaw4:round=stochastic")));
    QVERIFY(!fusedAnalysisCovers(spec("nf4:g64:dq")));
    QVERIFY(!fusedAnalysisCovers(spec("nf4:g64:clip=mse")));
    QVERIFY(fusedAnalysisCovers(spec("mxfp4")));
    QVERIFY(fusedAnalysisCovers(spec("fp8_e4m3")));
    QVERIFY(fusedAnalysisCovers(spec("q8_0")));
    QVERIFY(!fusedAnalysisCovers(spec("mxfp4:round=stochastic")));
    QVERIFY(!fusedAnalysisCovers(spec("fp8_e4m3:clip=mse")));
    QVERIFY(!fusedAnalysisCovers(spec("q4_k")));
    const auto w = weights(4, 256, 1);
    QVERIFY(!analyzeFused(spec("q4_k"), MatrixView{w.data(), 4, 256}, {}).has_value());
    QVERIFY(analyzeFused(spec("q4_0"), MatrixView{w.data(), 4, 256}, {}).has_value());
    // NF blocks that would straddle rows (rows of 100, blocks of 64) stay on the plain path.
    const auto v = weights(4, 100, 1);
    QVERIFY(!analyzeFused(spec("nf4:g64"), MatrixView{v.data(), 4, 100}, {}).has_value());
    QVERIFY(analyzeFused(spec("nf4:g50"), MatrixView{v.data(), 4, 100}, {}).has_value());
    // q8_0 needs whole blocks of 32: rows of 100 are not applicable (the plain path says so).
    QVERIFY(!analyzeFused(spec("q8_0"), MatrixView{v.data(), 4, 100}, {}).has_value());
}

void TestFusedAnalysis::cancels() {
    const auto w = weights(512, 512, 2);
    for (const char* s : {"int4:g128", "mxfp4"}) {
        FusedRequest req;
        req.errorHistogramBins = 64;
        auto r = analyzeFused(spec(s), MatrixView{w.data(), 512, 512}, req,
                              [](double f) { return f < 0.1; });
        QVERIFY(r.has_value());
        QVERIFY(!r->ok());
        QVERIFY(r->error().kind == ErrorKind::Cancelled);
    }
}

// Values exactly at the codebook's midpoints (ties go to the lower level) and one float either
// side, in groups whose absmax is 1 (so x / a is x) or 0.75, groups of 40 (not a whole number of
// vector widths), then Gaussian weights: the fused reconstruction is the plain quantizer's, bit
// for bit, with the AVX-512 kernels (where the CPU has them) and with the portable ones; the
// same for mu-law and A-law at their thresholds.
// The error sums and bins: errors exactly on each bin edge of [-1, 1] in 256 bins and one float
// either side, both ends of the range (+1 takes the last bin), then Gaussian weights; 8k + 5
// values, so the kernel's tail runs too. accumulateAndBin's bins are right by hand at the edges;
// accumulateAndCount with the AVX2 + FMA kernel, where the CPU has it, and with the portable
// loops counts the same bins; sums within summation order; and the same for accumulate, with its
// max |error|.
void TestFusedAnalysis::errorSumsAndBinsUnderBothKernels() {
    std::vector<float> x, r;
    for (int k = 0; k <= 256; ++k) {
        const float e = static_cast<float>(k) / 128.0f - 1.0f; // a bin edge, exactly
        for (float v : {std::nextafter(e, -2.0f), e, std::nextafter(e, 2.0f)}) {
            x.push_back(std::clamp(v, -1.0f, 1.0f));
            r.push_back(0.0f);
        }
    }
    const auto g = gaussian(2 * 1024, 9u);
    for (std::size_t k = 0; k < 1024; ++k) {
        x.push_back(g[k]);
        r.push_back(g[k] + 0.01f * g[1024 + k]);
    }
    // The largest error, once, in the upper half of a step of 8 (the kernels' second vector).
    while (x.size() % 8 != 6) {
        x.push_back(0.25f);
        r.push_back(0.0f);
    }
    x.push_back(3.0f);
    r.push_back(0.0f);
    while (x.size() % 8 != 5) {
        x.push_back(0.25f);
        r.push_back(0.0f);
    }
    const auto n = static_cast<std::int64_t>(x.size());
    std::vector<std::int32_t> bins(x.size(), -1);
    fused::Sums binned;
    fused::accumulateAndBin(x.data(), r.data(), n, binned, 1.0, 128.0, 255, bins.data());
    for (std::size_t k = 0; k < 3 * 257; ++k) { // the edges, by hand: k / 3 is the edge's index
        const double e = double(x[k]) - double(r[k]);
        const auto want = std::min(255, static_cast<int>(std::floor((e + 1.0) * 128.0)));
        QCOMPARE(bins[k], want);
    }
    std::vector<std::uint32_t> want(256, 0);
    for (std::int32_t b : bins)
        ++want[static_cast<std::size_t>(b)];
    // accumulateAndCount, under both kernels, counts those bins (its four tables added up).
    fused::Sums sums[3] = {binned};
    int i = 1;
    for (fused::SimdKernel kernel : {fused::SimdKernel::Auto, fused::SimdKernel::Portable}) {
        fused::setSimdKernel(kernel);
        std::vector<std::uint32_t> tables(4 * 256, 0);
        std::vector<std::int32_t> scratch(x.size());
        fused::accumulateAndCount(x.data(), r.data(), n, sums[i++], 1.0, 128.0, 256, tables.data(),
                                  scratch.data(), x.data());
        std::vector<std::uint32_t> counted(256, 0);
        for (std::size_t b = 0; b < tables.size(); ++b)
            counted[b % 256] += tables[b];
        QCOMPARE(counted, want);
    }
    fused::setSimdKernel(fused::SimdKernel::Auto);
    double se = 0, sr = 0, sq = 0, dot = 0;
    for (std::size_t k = 0; k < x.size(); ++k) {
        const double a = x[k], b = r[k];
        se += (a - b) * (a - b);
        sr += a * a;
        sq += b * b;
        dot += a * b;
    }
    for (const fused::Sums& s : sums) {
        compareSums(s.se, se);
        compareSums(s.sr, sr);
        compareSums(s.sq, sq);
        compareSums(s.dot, dot);
    }
    // accumulate (no bins, the max |error| taken too) likewise: its AVX2 + FMA kernel and the
    // portable loop give the sums within summation order and the same max.
    double maxAbs = 0;
    for (std::size_t k = 0; k < x.size(); ++k)
        maxAbs = std::max(maxAbs, std::abs(double(x[k]) - double(r[k])));
    i = 0;
    fused::Sums plain[2];
    for (fused::SimdKernel kernel : {fused::SimdKernel::Auto, fused::SimdKernel::Portable}) {
        fused::setSimdKernel(kernel);
        fused::accumulate(x.data(), r.data(), n, plain[i++]);
    }
    fused::setSimdKernel(fused::SimdKernel::Auto);
    for (const fused::Sums& s : plain) {
        compareSums(s.se, se);
        compareSums(s.sr, sr);
        compareSums(s.sq, sq);
        compareSums(s.dot, dot);
        QCOMPARE(s.maxAbs, maxAbs);
    }
}

// groupMinMax (its AVX-512 kernel takes sixteen groups of a multiple of 16 at a time, the loops
// the rest) against a plain scan: group sizes on both sides of what the kernel takes, counts on
// both sides of 16, a shorter last group; each group's extremes at a different place in it; and
// NaN, +Inf or -Inf anywhere, in the kernel's groups or the loops', reported.
void TestFusedAnalysis::groupMinMaxUnderBothKernels() {
    if (!fused::avx512Enabled())
        qInfo("no AVX-512 on this CPU: both runs take the loops");
    unsigned seed = 40;
    for (fused::SimdKernel kernel : {fused::SimdKernel::Auto, fused::SimdKernel::Portable}) {
        fused::setSimdKernel(kernel);
        for (std::int64_t groupCols : {8, 16, 32, 48, 64, 128, 256, 272}) {
            for (std::int64_t n : {groupCols, 15 * groupCols, 16 * groupCols, 17 * groupCols + 5,
                                   40 * groupCols, 48 * groupCols - 3}) {
                auto x = gaussian(static_cast<std::size_t>(n), ++seed);
                const std::int64_t groups = (n + groupCols - 1) / groupCols;
                // Each group's extremes at (97g + 13) mod len and len - 1 - 61g mod len: from
                // the first to the last vector of a group over the groups.
                for (std::int64_t g = 0; g < groups; ++g) {
                    const std::int64_t len = std::min(groupCols, n - g * groupCols);
                    x[static_cast<std::size_t>(g * groupCols + (97 * g + 13) % len)] =
                        -5.0f - static_cast<float>(g);
                    x[static_cast<std::size_t>(g * groupCols + len - 1 - (61 * g) % len)] =
                        5.0f + static_cast<float>(g);
                }
                std::vector<float> mn(static_cast<std::size_t>(groups)), mx(mn.size());
                QVERIFY(fused::groupMinMax(x.data(), n, groupCols, mn.data(), mx.data()));
                for (std::int64_t g = 0; g < groups; ++g) {
                    const auto first = x.begin() + g * groupCols;
                    const auto last = first + std::min(groupCols, n - g * groupCols);
                    QCOMPARE(mn[static_cast<std::size_t>(g)], *std::min_element(first, last));
                    QCOMPARE(mx[static_cast<std::size_t>(g)], *std::max_element(first, last));
                }
                const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                                          std::numeric_limits<float>::infinity(),
                                          -std::numeric_limits<float>::infinity()};
                for (std::int64_t at : {std::int64_t{0}, n / 2, n - 1, (7 * n) / 11})
                    for (float special : specials) {
                        auto y = x;
                        y[static_cast<std::size_t>(at)] = special;
                        QVERIFY2(!fused::groupMinMax(y.data(), n, groupCols, mn.data(), mx.data()),
                                 qPrintable(QString("groups of %1, %2 values, %3 at %4")
                                                .arg(groupCols)
                                                .arg(n)
                                                .arg(special)
                                                .arg(at)));
                    }
            }
        }
    }
    fused::setSimdKernel(fused::SimdKernel::Auto);
}

void TestFusedAnalysis::nfAndCompandingAtTheirBoundaries() {
    for (fused::SimdKernel kernel : {fused::SimdKernel::Auto, fused::SimdKernel::Portable}) {
        fused::setSimdKernel(kernel);
        nfMidpointsMatch();
        compandThresholdsMatch();
    }
    fused::setSimdKernel(fused::SimdKernel::Auto);
}

// mu-law and A-law of up to 4 bits, the same way: floats at each threshold (a double, so the
// nearest float) and one float either side, in groups of absmax 1 and 0.75, then Gaussian
// weights.
void TestFusedAnalysis::compandThresholdsMatch() {
    const auto gauss = weights(7, 1024, 5u);
    for (const char* name : {"mulaw4:g40", "alaw4:g40", "mulaw3:mu15:g40", "mulaw2:g40"}) {
        const Scheme s = qs::test::spec(name);
        const auto table = compandingTable(s);
        QVERIFY(table.has_value());
        const std::vector<float> w =
            atBoundaries(std::vector<float>(table->thresholds.begin(), table->thresholds.end()));
        // Thresholds moved onto floats, so that t = x / 1 meets them exactly: the code counts
        // the thresholds <= t, the level is that code's.
        fused::CompandFamily f(s);
        for (std::size_t i = 0; i < table->thresholds.size(); ++i)
            f.thresholds[i] = static_cast<float>(f.thresholds[i]);
        std::vector<float> at;
        for (std::size_t i = 0; i < table->thresholds.size(); ++i) {
            const auto th = static_cast<float>(f.thresholds[i]);
            at.insert(at.end(), {std::nextafter(th, -2.0f), th, std::nextafter(th, 2.0f)});
        }
        std::vector<float> got(at.size());
        const fused::CompandFamily::Group unit{1.0f, 0.0f};
        f.reconstruct(&unit, at.data(), static_cast<std::int64_t>(at.size()),
                      static_cast<std::int64_t>(at.size()), got.data());
        for (std::size_t k = 0; k < at.size(); ++k) {
            std::size_t code = 0;
            while (code < table->thresholds.size() && f.thresholds[code] <= at[k])
                ++code;
            QCOMPARE(got[k], f.levels[code]);
        }
        for (const MatrixView m : {MatrixView{w.data(), 1, static_cast<std::int64_t>(w.size())},
                                   MatrixView{gauss.data(), 7, 1000}}) {
            FusedRequest req;
            req.keepReconstruction = true;
            auto fused = analyzeFused(s, m, req);
            QVERIFY(fused.has_value() && fused->ok());
            QVERIFY2(fused->value().output.reconstruction == quantize(s, m)->reconstruction, name);
        }
    }
}

void TestFusedAnalysis::nfMidpointsMatch() {
    const auto gauss = weights(7, 1024, 3u);
    const MatrixView g{gauss.data(), 7, 1024};
    for (const char* spec : {"nf4:g64", "nf3:g32", "nf2:g16"}) {
        FusedRequest req;
        req.keepReconstruction = true;
        auto fused = analyzeFused(qs::test::spec(spec), g, req);
        QVERIFY(fused.has_value() && fused->ok());
        QVERIFY2(fused->value().output.reconstruction ==
                     quantize(qs::test::spec(spec), g)->reconstruction,
                 spec);
    }
    for (int bits : {2, 3, 4}) {
        const std::vector<float> levels = normalFloatCodebook(bits);
        const std::vector<float> mids = levelMidpoints(levels);
        const std::vector<float> w = atBoundaries(mids);
        const std::string spec = "nf" + std::to_string(bits) + ":g40";
        const MatrixView m{w.data(), 1, static_cast<std::int64_t>(w.size())};
        auto plain = quantize(qs::test::spec(spec), m);
        QVERIFY(plain.ok());
        FusedRequest req;
        req.keepReconstruction = true;
        auto fused = analyzeFused(qs::test::spec(spec), m, req);
        QVERIFY(fused.has_value() && fused->ok());
        QVERIFY2(fused->value().output.reconstruction == plain->reconstruction, spec.c_str());
    }
}

QTEST_APPLESS_MAIN(TestFusedAnalysis)
#include "test_fused_analysis.moc"
