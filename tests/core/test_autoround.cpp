// AutoRound (autoround2..autoround8): with no iterations it is AutoRound's own round-to-nearest,
// written out here from NUMERICS.md §8; tuning lowers the layer output error clearly below
// round-to-nearest on activations with outlier channels, keeps the parameters of its best
// iteration, is deterministic, and refuses what it cannot do.

#include "metrics/output_error.h"
#include "quant/registry.h"
#include "tensor/dtype.h"

#include "quant_helpers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace qs;
using namespace qs::test;

namespace {

constexpr double kBeatsRtnFactor = 0.8;

// quant_tensor_sym / int_asym with V = 0 and min/max scale 1, one group.
void autoRoundRtn(const float* w, float* out, int n, int bits, bool sym) {
    float lo = 0, hi = 0;
    for (int i = 0; i < n; ++i) {
        lo = std::min(lo, w[i]);
        hi = std::max(hi, w[i]);
    }
    float s, zp = 0, qmin, qmax;
    if (sym) {
        const float maxV = std::fabs(lo) > hi ? std::fabs(lo) : -hi;
        s = halfToFloat(floatToHalf(maxV / float(1 << (bits - 1))));
        qmin = -float(1 << (bits - 1));
        qmax = float((1 << (bits - 1)) - 1);
    } else {
        s = halfToFloat(floatToHalf((hi - lo) / float((1 << bits) - 1)));
        qmin = 0;
        qmax = float((1 << bits) - 1);
    }
    if (std::fabs(s) < 1e-5f)
        s = std::signbit(s) ? -1e-5f : 1e-5f;
    if (!sym)
        zp = std::nearbyint(-lo / s);
    for (int i = 0; i < n; ++i)
        out[i] = s * (std::clamp(std::nearbyint(w[i] / s) + zp, qmin, qmax) - zp);
}

} // namespace

class TestAutoRound : public QObject {
    Q_OBJECT
private slots:
    void noIterationsIsItsOwnRoundToNearest_data() {
        QTest::addColumn<QString>("scheme");
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("group");
        QTest::addColumn<bool>("sym");
        QTest::newRow("sym g32") << "autoround4:g32:iters=0" << 4 << 32 << true;
        QTest::newRow("asym g64") << "autoround3:g64:asym:iters=0" << 3 << 64 << false;
        QTest::newRow("sym channel") << "autoround8:channel:iters=0" << 8 << 96 << true;
    }
    void noIterationsIsItsOwnRoundToNearest() {
        QFETCH(QString, scheme);
        QFETCH(int, bits);
        QFETCH(int, group);
        QFETCH(bool, sym);
        const int rows = 16, cols = 96;
        auto w = gaussian(rows * cols, 3);
        w[5] = 0.2f; // a dominant positive extreme: the sym scale turns negative
        const auto x = activations(64, cols, 4);
        const MatrixView xv{x.data(), 64, cols};
        auto q = quantize(spec(scheme.toStdString()), MatrixView{w.data(), rows, cols}, {}, &xv);
        QVERIFY2(q.ok(), q.ok() ? "" : q.message().c_str());
        std::vector<float> want(w.size());
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; c += group)
                autoRoundRtn(&w[r * cols + c], &want[r * cols + c], std::min(group, cols - c), bits,
                             sym);
        QCOMPARE(q->reconstruction, want);
    }

    void beatsRoundToNearestOnOutlierActivations_data() {
        QTest::addColumn<QString>("scheme");
        QTest::addColumn<QString>("rtn");
        QTest::newRow("4 bits g64") << "autoround4:g64"
                                    << "autoround4:g64:iters=0";
        QTest::newRow("4 bits g64 vs int") << "autoround4:g64"
                                           << "int4:g64:sym";
        QTest::newRow("3 bits g128 asym") << "autoround3:g128:asym"
                                          << "autoround3:g128:asym:iters=0";
    }
    void beatsRoundToNearestOnOutlierActivations() {
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

    void tuningLowersTheLossAndKeepsTheBest() {
        const int rows = 32, cols = 128, tokens = 256;
        const auto w = gaussian(rows * cols, 5);
        const auto x = activations(tokens, cols, 6);
        const MatrixView xv{x.data(), tokens, cols};
        auto q = quantize(spec("autoround4:g64"), MatrixView{w.data(), rows, cols}, {}, &xv);
        QVERIFY(q.ok());
        double ratio = -1, bestIter = -1;
        for (const auto& d : q->diagnostics) {
            if (d.key == "autoround_loss_ratio")
                ratio = d.value;
            if (d.key == "autoround_best_iter")
                bestIter = d.value;
        }
        QVERIFY(ratio > 0 && ratio < 1);
        QVERIFY(bestIter >= 1 && bestIter < 200);
        // Tuning moved some weights to the other side of a rounding boundary.
        auto rtn = quantize(spec("autoround4:g64:iters=0"), MatrixView{w.data(), rows, cols}, {},
                            &xv);
        QVERIFY(rtn.ok());
        int moved = 0;
        for (size_t i = 0; i < w.size(); ++i)
            moved += q->reconstruction[i] != rtn->reconstruction[i] ? 1 : 0;
        QVERIFY(moved > 0);
    }

    void isDeterministic() {
        const auto w = gaussian(24 * 128, 21);
        const auto x = activations(128, 128, 22);
        const MatrixView wv{w.data(), 24, 128}, xv{x.data(), 128, 128};
        auto a = quantize(spec("autoround4:g64:iters=50"), wv, {}, &xv);
        auto b = quantize(spec("autoround4:g64:iters=50"), wv, {}, &xv);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a->reconstruction, b->reconstruction);
        auto c = quantize(spec("autoround4:g64:iters=50:order=7"), wv, {}, &xv);
        QVERIFY(c.ok()); // another minibatch order: a valid, possibly different, result
    }

    void refusesWhatItCannotDo() {
        const auto w = gaussian(8 * 128, 1);
        const MatrixView wv{w.data(), 8, 128};
        QVERIFY(!quantize(spec("autoround4:g64"), wv).ok()); // no activations
        const auto x = activations(16, 128, 2);
        const MatrixView xv{x.data(), 16, 128};
        QVERIFY(!quantize(spec("autoround4:g64:lr=-1"), wv, {}, &xv).ok());
        auto tensor = Scheme::parse("autoround4:tensor");
        if (tensor)
            QVERIFY(!quantize(*tensor, wv, {}, &xv).ok());
    }
};

QTEST_APPLESS_MAIN(TestAutoRound)
#include "test_autoround.moc"
