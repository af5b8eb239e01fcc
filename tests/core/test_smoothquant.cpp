#include "methods/smoothquant.h"
#include "quant_helpers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace qs;
using namespace qs::test;

namespace {

double diag(const QuantOutput& o, const std::string& key) {
    for (const auto& d : o.diagnostics)
        if (d.key == key)
            return d.value;
    qFatal("no diagnostic %s", key.c_str());
    return 0;
}

} // namespace

class TestSmoothQuant : public QObject {
    Q_OBJECT
private slots:
    void scalesByHand();
    void reconstructionIsTheIntQuantizationOfTheSmoothedWeights();
    void smoothingHelpsW8A8WithOutlierChannels();
    void needsActivationsAndAValidAlpha();
};

void TestSmoothQuant::scalesByHand() {
    // Column maxima |W|: (1, 4); |X|: (4, 1). alpha 0.5: s = (sqrt(4/1), sqrt(1/4)) = (2, 0.5).
    const std::vector<float> w{1, 4, 0.5f, -2};
    const std::vector<float> x{4, 1, -2, 0.5f};
    const auto s = smoothQuantScales(MatrixView{w.data(), 2, 2}, MatrixView{x.data(), 2, 2}, 0.5);
    QCOMPARE(s, (std::vector<float>{2.0f, 0.5f}));
    // alpha 1: s = max|X| (all migrated); alpha 0: s = 1 / max|W|.
    QCOMPARE(smoothQuantScales(MatrixView{w.data(), 2, 2}, MatrixView{x.data(), 2, 2}, 1.0),
             (std::vector<float>{4.0f, 1.0f}));
    QCOMPARE(smoothQuantScales(MatrixView{w.data(), 2, 2}, MatrixView{x.data(), 2, 2}, 0.0),
             (std::vector<float>{1.0f, 0.25f}));
}

void TestSmoothQuant::reconstructionIsTheIntQuantizationOfTheSmoothedWeights() {
    const int rows = 16, cols = 32, tokens = 64;
    const auto w = gaussian(rows * cols, 4, 0.05f);
    const auto x = activations(tokens, cols, 5);
    const MatrixView wv{w.data(), rows, cols}, xv{x.data(), tokens, cols};
    auto out = quantize(spec("smoothquant8"), wv, {}, &xv);
    QVERIFY2(out.ok(), out.ok() ? "" : out.message().c_str());
    const auto s = smoothQuantScales(wv, xv, 0.5);
    std::vector<float> smoothed(w.size());
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            smoothed[size_t(r * cols + c)] = w[size_t(r * cols + c)] * s[size_t(c)];
    const auto q = run("int8:channel:sym", smoothed, rows, cols);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            QCOMPARE(out->reconstruction[size_t(r * cols + c)],
                     q.reconstruction[size_t(r * cols + c)] / s[size_t(c)]);
    QCOMPARE(out->cost.bitsPerWeight(), q.cost.bitsPerWeight());
}

void TestSmoothQuant::smoothingHelpsW8A8WithOutlierChannels() {
    const int rows = 64, cols = 128, tokens = 256;
    const auto w = gaussian(rows * cols, 6, 0.05f);
    const auto x = activations(tokens, cols, 7, 4, 50.0);
    const MatrixView wv{w.data(), rows, cols}, xv{x.data(), tokens, cols};
    auto out = quantize(spec("smoothquant8"), wv, {}, &xv);
    QVERIFY(out.ok());
    const double with = diag(*out, "w8a8_out_rel_err"),
                 without = diag(*out, "w8a8_out_rel_err_unsmoothed");
    qInfo("W8A8 output error %.5f smoothed vs %.5f plain; A8 error %.5f vs %.5f", with, without,
          diag(*out, "act_rel_err"), diag(*out, "act_rel_err_unsmoothed"));
    QVERIFY(with < 0.8 * without);
    QVERIFY(diag(*out, "act_rel_err") < diag(*out, "act_rel_err_unsmoothed"));
}

void TestSmoothQuant::needsActivationsAndAValidAlpha() {
    const auto w = gaussian(8 * 16, 1);
    const MatrixView wv{w.data(), 8, 16};
    auto none = quantize(spec("smoothquant8"), wv);
    QVERIFY(!none.ok());
    QVERIFY(QString::fromStdString(none.message()).contains("activations"));
    const auto x = activations(32, 16, 2);
    const MatrixView xv{x.data(), 32, 16};
    auto bad = quantize(spec("smoothquant8:alpha=1.5"), wv, {}, &xv);
    QVERIFY(!bad.ok());
    QVERIFY(QString::fromStdString(bad.message()).contains("alpha"));
    auto a = quantize(spec("smoothquant8:alpha=0.8"), wv, {}, &xv);
    QVERIFY(a.ok());
    QCOMPARE(diag(*a, "alpha"), 0.8);
}

QTEST_APPLESS_MAIN(TestSmoothQuant)
#include "test_smoothquant.moc"
