// The ggml formats' `imatrix` option (q4_k:imatrix): llama-quantize with an importance matrix
// computed from the layer's activations as llama-imatrix does. Byte-exactness against ggml is
// test_ggml_oracle's (imatrixSchemeMatchesLlamaQuantize); here, without ggml: the importance
// vector by hand, the option in the grammar, what needs activations, that the fused and device
// paths (reference quantizers) are not taken, the storage cost and llama.cpp's fallback, and
// what an importance matrix is for: a lower output error where the activations are uneven.

#include "analysis/tensor_analysis.h"
#include "metrics/output_error.h"
#include "plan/scheme_cost.h"
#include "quant/ggml_family.h"
#include "quant/registry.h"

#include <QtTest>

#include <random>

using namespace qs;

namespace {

Scheme spec(const char* s) {
    auto r = Scheme::parse(s);
    if (!r)
        qFatal("%s: %s", s, r.message().c_str());
    return *r;
}

struct Layer {
    std::int64_t rows = 64, cols = 512, tokens = 96;
    std::vector<float> w, x;
    MatrixView weights() const { return {w.data(), rows, cols}; }
    MatrixView acts() const { return {x.data(), tokens, cols}; }
};

// Gaussian weights; activations with every 16th channel 30 times louder, as LLM layers have.
Layer unevenLayer(unsigned seed) {
    Layer l;
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    l.w.resize(static_cast<std::size_t>(l.rows * l.cols));
    for (auto& v : l.w)
        v = 0.02f * nd(rng);
    l.x.resize(static_cast<std::size_t>(l.tokens * l.cols));
    for (std::int64_t t = 0; t < l.tokens; ++t)
        for (std::int64_t j = 0; j < l.cols; ++j)
            l.x[static_cast<std::size_t>(t * l.cols + j)] = nd(rng) * (j % 16 == 5 ? 30.0f : 1.0f);
    return l;
}

double outputError(const Layer& l, const Scheme& s) {
    const MatrixView x = l.acts();
    auto q = quantize(s, l.weights(), {}, &x);
    if (!q)
        qFatal("%s", q.message().c_str());
    auto e = outputErrorSums(x, l.weights(), q->reconstruction.data());
    if (!e)
        qFatal("%s", e.message().c_str());
    return e->relative();
}

} // namespace

class TestGgmlImatrix : public QObject {
    Q_OBJECT
private slots:
    void importanceIsTheMeanSquareByHand();
    void optionInTheGrammar();
    void needsActivations();
    void lowersTheOutputErrorOnUnevenActivations();
    void analysisTakesThePlainPath();
    void costAndFallbackFollowThePlainFormat();
};

void TestGgmlImatrix::importanceIsTheMeanSquareByHand() {
    const float x[] = {1, 2, 3, -4, 0, 0.5f}; // 3 tokens, 2 columns
    const auto v = imatrixFromActivations(MatrixView{x, 3, 2});
    QCOMPARE(v.size(), std::size_t(2));
    QCOMPARE(v[0], 10.0f / 3.0f);  // (1 + 9 + 0) / 3
    QCOMPARE(v[1], 20.25f / 3.0f); // (4 + 16 + 0.25) / 3
    const auto none = imatrixFromActivations(MatrixView{x, 0, 2});
    QCOMPARE(none, std::vector<float>({1.0f, 1.0f})); // llama-quantize's value for no count
}

void TestGgmlImatrix::optionInTheGrammar() {
    for (const char* s :
         {"q4_0:imatrix", "q4_k:imatrix", "q6_k:imatrix", "iq4_xs:imatrix", "q8_0:imatrix"})
        QCOMPARE(QString::fromStdString(spec(s).toString()), QString(s));
    QVERIFY(!Scheme::parse("int4:g128:imatrix").ok()); // ggml formats only
    QVERIFY(!Scheme::parse("q4_k:imatrix=2").ok());    // a flag
}

void TestGgmlImatrix::needsActivations() {
    QVERIFY(qs::needsActivations(spec("q4_k:imatrix")));
    QVERIFY(!qs::needsActivations(spec("q4_k")));
    QVERIFY(qs::needsActivations(spec("gptq4:g128")));
    QVERIFY(!rowSeparable(spec("q4_k:imatrix")));
    QVERIFY(rowSeparable(spec("q4_k")));

    const Layer l = unevenLayer(1);
    auto none = quantize(spec("q4_k:imatrix"), l.weights());
    QVERIFY(!none.ok());
    QVERIFY2(QString::fromStdString(none.message()).contains("needs activations"),
             none.message().c_str());
    std::vector<float> narrow(static_cast<std::size_t>(l.tokens * 256), 1.0f);
    const MatrixView x{narrow.data(), l.tokens, 256};
    auto wrong = quantize(spec("q4_k:imatrix"), l.weights(), {}, &x);
    QVERIFY(!wrong.ok());
    QCOMPARE(wrong.error().kind, ErrorKind::NotApplicable);
}

// With a few loud channels, the weighted search spends the levels on the columns that matter
// to the output: lower output error (and a higher plain weight error) than the reference
// quantizer, for every type whose search takes the weights.
void TestGgmlImatrix::lowersTheOutputErrorOnUnevenActivations() {
    for (unsigned seed : {1u, 2u, 3u}) {
        const Layer l = unevenLayer(seed);
        for (const char* f : {"q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q4_0", "q4_1", "iq4_nl"}) {
            const double plain = outputError(l, spec(f));
            const double weighted = outputError(l, spec((std::string(f) + ":imatrix").c_str()));
            QVERIFY2(
                weighted < 0.97 * plain,
                qPrintable(
                    QString("%1 seed %2: %3 vs %4").arg(f).arg(seed).arg(weighted).arg(plain)));
        }
        QCOMPARE(outputError(l, spec("q8_0:imatrix")), outputError(l, spec("q8_0")));
    }
}

// The fused CPU path and the CUDA kernels run ggml's reference quantizers: an imatrix scheme
// must not take them, or the importance would be silently dropped.
void TestGgmlImatrix::analysisTakesThePlainPath() {
    const Layer l = unevenLayer(4);
    const MatrixView x = l.acts();
    AnalysisOptions o;
    o.activations = &x;
    o.keepReconstruction = true;
    // q4_0 and q5_1 have fused CPU paths; the K-quants have CUDA kernels.
    for (const char* f : {"q4_0", "q5_1", "q4_k", "q6_k"}) {
        const Scheme s = spec((std::string(f) + ":imatrix").c_str());
        auto a = analyzeTensor(l.weights(), s, o);
        QVERIFY(a.ok());
        auto q = quantize(s, l.weights(), {}, &x);
        QVERIFY(q.ok());
        QVERIFY2(a->reconstruction == q->reconstruction, f);
        QVERIFY(a->outputError.has_value());
        auto plain = analyzeTensor(l.weights(), spec(f), o);
        QVERIFY(plain.ok());
        QVERIFY2(a->outputError->relative() < plain->outputError->relative(), f);
        QCOMPARE(a->cost.totalBits(), plain->cost.totalBits());
    }
}

void TestGgmlImatrix::costAndFallbackFollowThePlainFormat() {
    for (const char* f : {"q4_k", "q6_k", "iq4_nl", "q4_0"}) {
        auto a = schemeStorageCost(spec((std::string(f) + ":imatrix").c_str()), 4096, 4096);
        auto b = schemeStorageCost(spec(f), 4096, 4096);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a->totalBits(), b->totalBits());
    }
    // llama-quantize gives the fallback type the tensor's importance matrix too.
    const auto next = llamaCppFallback(spec("q4_k:imatrix"));
    QVERIFY(next.has_value());
    QCOMPARE(QString::fromStdString(next->toString()), QString("q5_0:imatrix"));
    QCOMPARE(QString::fromStdString(llamaCppFallback(spec("q4_k"))->toString()), QString("q5_0"));
    auto r = resolvedStorageCost(spec("q4_k:imatrix"), 8, 96); // 96 columns: no 256-blocks
    QVERIFY(r.ok());
    QCOMPARE(QString::fromStdString(r->scheme.toString()), QString("q5_0:imatrix"));
}

QTEST_APPLESS_MAIN(TestGgmlImatrix)
#include "test_ggml_imatrix.moc"
