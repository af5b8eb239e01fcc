// AWQ (awq2..awq8): the scale and clip searches against a plain loop-by-loop implementation of
// llm-awq's auto_scale / auto_clip written here; lower output error than round-to-nearest on
// activations with outlier channels; determinism; the error without activations.

#include "methods/awq.h"
#include "methods/calibration.h"
#include "metrics/output_error.h"
#include "quant/registry.h"

#include "quant_helpers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qs;
using namespace qs::test;

namespace {

// Same float32 quantizer, sums in a different order: only last-bit differences remain.
constexpr double kReferenceTolerance = 1e-6;
constexpr double kBeatsRtnFactor = 0.8;

// llm-awq pseudo_quantize_tensor, asym (zero_point=True), on one group.
void pseudoQuantize(float* w, int n, int bits) {
    float lo = w[0], hi = w[0];
    for (int i = 1; i < n; ++i) {
        lo = std::min(lo, w[i]);
        hi = std::max(hi, w[i]);
    }
    const float maxq = float((1 << bits) - 1);
    const float scale = std::max(hi - lo, 1e-5f) / maxq;
    const float zero = std::clamp(-std::nearbyint(lo / scale), 0.0f, maxq);
    for (int i = 0; i < n; ++i)
        w[i] = (std::clamp(std::nearbyint(w[i] / scale) + zero, 0.0f, maxq) - zero) * scale;
}

void pseudoQuantizeMatrix(std::vector<float>& w, int rows, int cols, int group, int bits) {
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; c += group)
            pseudoQuantize(&w[r * cols + c], std::min(group, cols - c), bits);
}

double outputMse(const std::vector<float>& x, const std::vector<float>& a,
                 const std::vector<float>& b, int tokens, int rows, int cols) {
    double sum = 0;
    for (int t = 0; t < tokens; ++t)
        for (int r = 0; r < rows; ++r) {
            double d = 0;
            for (int c = 0; c < cols; ++c)
                d += double(x[t * cols + c]) * (double(a[r * cols + c]) - b[r * cols + c]);
            sum += d * d;
        }
    return sum / (double(tokens) * rows);
}

std::vector<float> referenceAwq(const std::vector<float>& w, const std::vector<float>& x, int rows,
                                int cols, int tokens, int bits, int group, bool clip) {
    std::vector<float> mean(cols);
    for (int c = 0; c < cols; ++c) {
        double s = 0;
        for (int t = 0; t < tokens; ++t)
            s += std::fabs(x[t * cols + c]);
        mean[c] = float(s / tokens);
    }
    double best = std::numeric_limits<double>::infinity();
    std::vector<float> bestScale;
    for (int i = 0; i < 20; ++i) {
        std::vector<float> s(cols);
        for (int c = 0; c < cols; ++c)
            s[c] = std::max(std::pow(mean[c], float(i) / 20.0f), 1e-4f);
        const float norm = std::sqrt(*std::max_element(s.begin(), s.end()) *
                                     *std::min_element(s.begin(), s.end()));
        for (auto& v : s)
            v /= norm;
        std::vector<float> q(w.size());
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c)
                q[r * cols + c] = w[r * cols + c] * s[c];
        pseudoQuantizeMatrix(q, rows, cols, group, bits);
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c)
                q[r * cols + c] /= s[c];
        const double loss = outputMse(x, q, w, tokens, rows, cols);
        if (loss < best) {
            best = loss;
            bestScale = s;
        }
    }
    std::vector<float> ws(w.size());
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            ws[r * cols + c] = w[r * cols + c] * bestScale[c];
    if (clip) // tokens < 512 here, so auto_clip uses every token
        for (int r = 0; r < rows; ++r)
            for (int c0 = 0; c0 < cols; c0 += group) {
                const int n = std::min(group, cols - c0);
                float* g = &ws[r * cols + c0];
                float orgMax = 0;
                for (int k = 0; k < n; ++k)
                    orgMax = std::max(orgMax, std::fabs(g[k]));
                float bestMax = orgMax;
                double minErr = std::numeric_limits<double>::infinity();
                for (int i = 0; i < 10; ++i) {
                    const float m = orgMax * (1.0f - float(i) / 20);
                    std::vector<float> q(g, g + n);
                    for (auto& v : q)
                        v = std::clamp(v, -m, m);
                    pseudoQuantize(q.data(), n, bits);
                    double err = 0;
                    for (int t = 0; t < tokens; ++t) {
                        double d = 0;
                        for (int k = 0; k < n; ++k)
                            d += double(x[t * cols + c0 + k]) / bestScale[c0 + k] * (q[k] - g[k]);
                        err += d * d;
                    }
                    if (err < minErr) {
                        minErr = err;
                        bestMax = m;
                    }
                }
                for (int k = 0; k < n; ++k)
                    g[k] = std::clamp(g[k], -bestMax, bestMax);
            }
    pseudoQuantizeMatrix(ws, rows, cols, group, bits);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            ws[r * cols + c] /= bestScale[c];
    return ws;
}

} // namespace

class TestAwq : public QObject {
    Q_OBJECT
private slots:
    void matchesTheLoopReference_data();
    void matchesTheLoopReference();
    void beatsRoundToNearestOnOutlierActivations_data();
    void beatsRoundToNearestOnOutlierActivations();
    void isDeterministic();
    void scaleSearchAloneMatchesTheQuantizer();
    void needsActivations();
};

void TestAwq::matchesTheLoopReference_data() {
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<int>("group");
    QTest::addColumn<bool>("clip");
    QTest::newRow("awq4 g32") << "awq4:g32" << 32 << true;
    QTest::newRow("awq3 g16 no_clip") << "awq3:g16:no_clip" << 16 << false;
    QTest::newRow("awq4 channel") << "awq4:channel" << 0 << true;
}

void TestAwq::matchesTheLoopReference() {
    QFETCH(QString, scheme);
    QFETCH(int, group);
    QFETCH(bool, clip);
    const int rows = 10, cols = 64, tokens = 96;
    const auto w = gaussian(rows * cols, 7);
    const auto x = activations(tokens, cols, 8);
    const Scheme s = spec(scheme.toStdString());
    const MatrixView xv{x.data(), tokens, cols};
    auto q = quantize(s, MatrixView{w.data(), rows, cols}, {}, &xv);
    QVERIFY2(q.ok(), q.ok() ? "" : q.message().c_str());
    const auto ref = referenceAwq(w, x, rows, cols, tokens, s.bits, group > 0 ? group : cols, clip);
    double maxDiff = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
        maxDiff = std::max(maxDiff, std::fabs(double(ref[i]) - q->reconstruction[i]));
    QVERIFY2(maxDiff < kReferenceTolerance, QByteArray::number(maxDiff));
}

void TestAwq::beatsRoundToNearestOnOutlierActivations_data() {
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<QString>("rtn");
    QTest::newRow("asym g64") << "awq4:g64"
                              << "int4:g64";
    QTest::newRow("asym g64 no_clip") << "awq4:g64:no_clip"
                                      << "int4:g64";
    QTest::newRow("sym g64") << "awq4:g64:sym"
                             << "int4:g64:sym";
    QTest::newRow("3 bits g128") << "awq3:g128"
                                 << "int3:g128";
}

void TestAwq::beatsRoundToNearestOnOutlierActivations() {
    QFETCH(QString, scheme);
    QFETCH(QString, rtn);
    const int rows = 64, cols = 256, tokens = 512;
    const auto w = gaussian(rows * cols, 11);
    const auto x = activations(tokens, cols, 12);
    const double a = outError(x, tokens, w, rows, cols, scheme.toStdString());
    const double r = outError(x, tokens, w, rows, cols, rtn.toStdString());
    qInfo("%s out_rel_err %.5f, %s %.5f", qPrintable(scheme), a, qPrintable(rtn), r);
    QVERIFY2(a < kBeatsRtnFactor * r, qPrintable(QString("%1 vs %2").arg(a).arg(r)));
}

void TestAwq::isDeterministic() {
    const auto w = gaussian(48 * 128, 21);
    const auto x = activations(600, 128, 22);
    const MatrixView xv{x.data(), 600, 128}, wv{w.data(), 48, 128};
    auto a = quantize(spec("awq4:g64"), wv, {}, &xv);
    auto b = quantize(spec("awq4:g64"), wv, {}, &xv);
    QVERIFY(a.ok() && b.ok());
    QVERIFY(a->reconstruction == b->reconstruction);
    QCOMPARE(a->cost.bitsPerWeight(), 4.0 + (16.0 + 4.0) / 64);
}

void TestAwq::scaleSearchAloneMatchesTheQuantizer() {
    const auto w = gaussian(48 * 128, 31);
    const auto x = activations(300, 128, 32);
    const MatrixView xv{x.data(), 300, 128}, wv{w.data(), 48, 128};
    auto q = quantize(spec("awq4:g64"), wv, {}, &xv);
    auto s = awqScaleSearch(spec("awq4:g64"), wv, xv);
    QVERIFY(q.ok() && s.ok());
    QCOMPARE(s->scale.size(), size_t(128));
    QCOMPARE(s->meanAbs.size(), size_t(128));
    double ratio = -1, spread = -1;
    for (const auto& d : q->diagnostics) {
        if (d.key == "awq_ratio")
            ratio = d.value;
        if (d.key == "awq_scale_spread")
            spread = d.value;
    }
    QCOMPARE(s->ratio, ratio);
    const auto [lo, hi] = std::minmax_element(s->scale.begin(), s->scale.end());
    QCOMPARE(double(*hi / *lo), spread);
    // The scale follows mean |x|: the outlier channels get the largest scales.
    const auto loud = std::max_element(s->meanAbs.begin(), s->meanAbs.end()) - s->meanAbs.begin();
    if (s->ratio > 0)
        QCOMPARE(s->scale[size_t(loud)], *hi);
    QVERIFY(!awqScaleSearch(spec("awq4:g64"), wv, MatrixView{x.data(), 300, 64}).ok());
}

void TestAwq::needsActivations() {
    const auto w = gaussian(8 * 128, 1);
    auto q = quantize(spec("awq4:g64"), MatrixView{w.data(), 8, 128});
    QVERIFY(!q.ok());
    QCOMPARE(q.message(), std::string("awq4:g64 needs activations: pass --calib ACT"));
}

QTEST_APPLESS_MAIN(TestAwq)
#include "test_awq.moc"
