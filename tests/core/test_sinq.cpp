// The sinq family and SINQ's matrix imbalance: the imbalance against a hand-computed case, the
// Sinkhorn normalisation against a straightforward double-precision transcription of SINQ's
// sinkhorn_log written here, the per-group grids against hand-written RTN/NF quantizers (with the
// normalisation off), the imbalance falling on synthetic and real matrices, storage, options,
// determinism, and the bundled sample's error next to int, hqq and sinq_nf4.

#include "io/checkpoint.h"
#include "methods/matrix_imbalance.h"
#include "methods/sinq.h"
#include "quant/normal_float.h"
#include "tensor/dtype.h"

#include "quant_helpers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>

using namespace qs;
using namespace qs::test;

namespace {

constexpr double kScaleTolerance = 1e-4;          // relative, float32 vs double Sinkhorn
constexpr double kReconstructionTolerance = 1e-6; // relative to absmax

float fp16(float x) {
    return halfToFloat(floatToHalf(x));
}

double stdOf(const std::vector<double>& v) {
    double m = 0, s = 0;
    for (double x : v)
        m += x / double(v.size());
    for (double x : v)
        s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size() - 1));
}

struct Stds {
    std::vector<double> rows, cols;
};
Stds stds(const std::vector<double>& m, int h, int w) {
    Stds s;
    for (int i = 0; i < h; ++i)
        s.rows.push_back(stdOf(std::vector<double>(m.begin() + i * w, m.begin() + (i + 1) * w)));
    for (int j = 0; j < w; ++j) {
        std::vector<double> c;
        for (int i = 0; i < h; ++i)
            c.push_back(m[i * w + j]);
        s.cols.push_back(stdOf(c));
    }
    return s;
}
double imbalance(const Stds& s) {
    double hi = 0, lo = 1e300;
    for (const auto* v : {&s.rows, &s.cols})
        for (double x : *v)
            hi = std::max(hi, x), lo = std::min(lo, x);
    return hi / std::max(lo, 1e-12);
}

// SINQ's sinkhorn_log as NUMERICS.md 7 writes it, in double; returns {mu1 (cols), mu2 (rows)}.
std::pair<std::vector<double>, std::vector<double>> referenceSinkhorn(const std::vector<float>& t,
                                                                      int h, int w, int order) {
    std::vector<double> m(t.begin(), t.end());
    auto cl = [](double x) { return std::clamp(x, 1e-3, 1e3); };
    const Stds s0 = stds(m, h, w);
    double tgt = 1e300;
    for (const auto* v : {&s0.rows, &s0.cols})
        for (double x : *v)
            tgt = std::min(tgt, cl(x));
    tgt += 1e-6;
    std::vector<double> l1(w, 0), l2(h, 0), best1(w, 1), best2(h, 1);
    double bestI = imbalance(s0);
    bool gate = false;
    for (int k = 0; k < order; ++k) {
        std::vector<double> cur(m.size());
        for (int i = 0; i < h; ++i)
            for (int j = 0; j < w; ++j)
                cur[i * w + j] = m[i * w + j] / std::exp(l1[j]) / std::exp(l2[i]);
        const Stds s = stds(cur, h, w);
        const double ik = imbalance(s);
        if (ik <= bestI) {
            bestI = ik;
            for (int j = 0; j < w; ++j)
                best1[j] = std::exp(l1[j]);
            for (int i = 0; i < h; ++i)
                best2[i] = std::exp(l2[i]);
        }
        if (ik > bestI)
            gate = true;
        if (!gate) {
            for (int j = 0; j < w; ++j)
                l1[j] = std::clamp(l1[j] + std::log(std::clamp(cl(s.cols[j]) / tgt, 0.7, 2.0)),
                                   -0.3, 10.0);
            for (int i = 0; i < h; ++i)
                l2[i] = std::clamp(l2[i] + std::log(std::clamp(cl(s.rows[i]) / tgt, 0.7, 2.0)),
                                   -0.3, 10.0);
        }
    }
    return {best1, best2};
}

// Gaussian weights with a few loud rows and columns, the case SINQ is for.
std::vector<float> unevenMatrix(int h, int w, unsigned seed) {
    auto v = gaussian(std::size_t(h) * w, seed);
    for (int i = 0; i < h; ++i)
        for (int j = 0; j < w; ++j)
            v[i * w + j] *= (i % 7 == 0 ? 6.0f : 1.0f) * (j % 11 == 3 ? 4.0f : 1.0f);
    return v;
}

double diagnostic(const QuantOutput& q, const std::string& key) {
    for (const auto& d : q.diagnostics)
        if (d.key == key)
            return d.value;
    return std::nan("");
}

} // namespace

class TestSinq : public QObject {
    Q_OBJECT
private slots:
    void imbalanceOfAHandComputedMatrix();
    void sinkhornMatchesTheStraightforwardTranscription();
    void imbalanceFallsAfterNormalisation();
    void withoutNormalisationGroupsAreSinqsRtn();
    void withoutNormalisationNfGroupsShiftByTheMean();
    void storageCountsBothScaleVectors();
    void optionsAreChecked();
    void kurtosisFallbackIsOffByDefaultAndVisible();
    void sameInputSameOutput();
    void sampleErrorsNextToRtnAndHqq();
};

void TestSinq::imbalanceOfAHandComputedMatrix() {
    // rows std 0.7071, 1.4142; columns 1.4142, 2.1213 -> 2.1213 / 0.7071 = 3
    const std::vector<float> m{1, 2, 3, 5};
    QVERIFY(std::fabs(matrixImbalance({m.data(), 2, 2}) - 3.0) < 1e-12);
    QVERIFY(std::isnan(matrixImbalance({m.data(), 1, 4})));
}

void TestSinq::sinkhornMatchesTheStraightforwardTranscription() {
    for (unsigned seed : {1u, 2u, 3u}) {
        const int h = 40, w = 16;
        const auto t = unevenMatrix(h, w, seed);
        const auto r = sinkhornNormalize({t.data(), h, w}, 16);
        const auto [mu1, mu2] = referenceSinkhorn(t, h, w, 16);
        for (int j = 0; j < w; ++j)
            QVERIFY(std::fabs(r.colScale[j] - mu1[j]) <= kScaleTolerance * mu1[j]);
        for (int i = 0; i < h; ++i)
            QVERIFY(std::fabs(r.rowScale[i] - mu2[i]) <= kScaleTolerance * mu2[i]);
        for (int i = 0; i < h; ++i)
            for (int j = 0; j < w; ++j)
                QVERIFY(std::fabs(r.normalized[i * w + j] - t[i * w + j] / mu1[j] / mu2[i]) <=
                        1e-3 * std::fabs(t[i * w + j] / mu1[j] / mu2[i]) + 1e-9);
        QVERIFY(r.imbalanceAfter < r.imbalanceBefore);
    }
}

void TestSinq::imbalanceFallsAfterNormalisation() {
    const auto w = unevenMatrix(128, 256, 5);
    const auto q = run("sinq4:g64", w, 128, 256);
    qInfo("uneven matrix: imbalance %.3f -> %.3f", diagnostic(q, "imbalance_before"),
          diagnostic(q, "imbalance_after"));
    QVERIFY(diagnostic(q, "imbalance_after") < 0.5 * diagnostic(q, "imbalance_before"));
    QVERIFY(diagnostic(q, "tile_imbalance_after") < diagnostic(q, "tile_imbalance_before"));
}

void TestSinq::withoutNormalisationGroupsAreSinqsRtn() {
    const int h = 8, w = 32;
    const auto x = gaussian(h * w, 9);
    const auto q = run("sinq3:g16:iters=0", x, h, w);
    for (int r = 0; r < h; ++r)
        for (int g = 0; g < 2; ++g) {
            const float* v = x.data() + r * w + g * 16;
            const float lo = *std::min_element(v, v + 16), hi = *std::max_element(v, v + 16);
            const float scale = std::max(hi - lo, 1e-4f) / 7.0f;
            const float z = -std::nearbyint(lo / scale);
            for (int k = 0; k < 16; ++k) {
                const float c = std::clamp(std::nearbyint(v[k] / scale + z), 0.0f, 7.0f);
                const float expect = (c - fp16(z)) * fp16(scale);
                QVERIFY(std::fabs(q.reconstruction[r * w + g * 16 + k] - expect) <=
                        kReconstructionTolerance * 0.1);
            }
        }
}

void TestSinq::withoutNormalisationNfGroupsShiftByTheMean() {
    const int h = 4, w = 64;
    const auto x = gaussian(h * w, 4);
    const auto q = run("sinq_nf4:g64:iters=0", x, h, w);
    const auto cb = normalFloatCodebook(4);
    for (int r = 0; r < h; ++r) {
        const float* v = x.data() + r * w;
        double sum = 0;
        for (int k = 0; k < w; ++k)
            sum += v[k];
        const float mu = float(sum / w);
        float amax = 0;
        for (int k = 0; k < w; ++k)
            amax = std::max(amax, std::fabs(v[k] - mu));
        const float z = -mu / amax;
        for (int k = 0; k < w; ++k) {
            const float n = v[k] / amax + z;
            float best = cb[0];
            for (float c : cb)
                if (std::fabs(n - c) < std::fabs(n - best))
                    best = c;
            QVERIFY(std::fabs(q.reconstruction[r * w + k] - (best - fp16(z)) * fp16(amax)) <=
                    kReconstructionTolerance * 0.1);
        }
    }
}

void TestSinq::storageCountsBothScaleVectors() {
    const auto x = gaussian(128 * 256, 2);
    // codes + (s1 + z) fp16 per group of 64 + s2 fp16 per column over 128 rows
    QCOMPARE(run("sinq4:g64", x, 128, 256).cost.bitsPerWeight(), 4.0 + 32.0 / 64 + 16.0 / 128);
    QCOMPARE(run("sinq_nf4:g64", x, 128, 256).cost.bitsPerWeight(), 4.0 + 32.0 / 64 + 16.0 / 128);
    QCOMPARE(run("sinq_nf3:g128", x, 128, 256).cost.bitsPerWeight(), 3.0 + 32.0 / 128 + 16.0 / 128);
    // 2D tiles: a column scale per 64-row block
    QCOMPARE(run("sinq4:g64:tiling=2D", x, 128, 256).cost.bitsPerWeight(),
             4.0 + 32.0 / 64 + 16.0 / 64);
    QVERIFY(run("sinq4:g64:aux8", x, 128, 256).cost.bitsPerWeight() < 4.625);
}

void TestSinq::optionsAreChecked() {
    const auto x = gaussian(8 * 64, 2);
    const MatrixView m{x.data(), 8, 64};
    QVERIFY(!quantize(spec("sinq4:g64:tiling=3D"), m).ok());
    QVERIFY(!quantize(spec("sinq4:g64:fallback=always"), m).ok());
    QVERIFY(!quantize(spec("sinq2:g64:sym"), m).ok());
    QVERIFY(quantize(spec("sinq4:g64:sym"), m).ok());
    QVERIFY(quantize(spec("sinq4:g64:tiling=2D:aux8"), m).ok());
    auto withInf = x;
    withInf[3] = INFINITY;
    QVERIFY(!quantize(spec("sinq4:g64"), MatrixView{withInf.data(), 8, 64}).ok());
    // a row no power-of-two tile divides keeps the group size and a short last tile
    const auto y = gaussian(8 * 172, 2);
    const auto q = run("sinq4:g64", y, 8, 172);
    QCOMPARE(diagnostic(q, "tile_cols"), 64.0);
}

void TestSinq::kurtosisFallbackIsOffByDefaultAndVisible() {
    auto x = gaussian(64 * 128, 8);
    for (std::size_t i = 0; i < x.size(); i += 97)
        x[i] *= 30.0f; // heavy tails: non-excess kurtosis far above 5
    const auto plain = run("sinq4:g64", x, 64, 128);
    const auto fb = run("sinq4:g64:fallback=kurtosis", x, 64, 128);
    QVERIFY(diagnostic(plain, "kurtosis") > 5.0);
    QVERIFY(std::isnan(diagnostic(plain, "kurtosis_fallback")));
    QCOMPARE(diagnostic(fb, "kurtosis_fallback"), 1.0);
    QCOMPARE(fb.reconstruction, run("sinq4:g64:iters=0", x, 64, 128).reconstruction);
    QVERIFY(plain.reconstruction != fb.reconstruction);
}

void TestSinq::sameInputSameOutput() {
    const auto x = unevenMatrix(96, 192, 3);
    for (const char* s : {"sinq4:g64", "sinq_nf3:g32:tiling=2D", "sinq3:g64:aux8"})
        QCOMPARE(run(s, x, 96, 192).reconstruction, run(s, x, 96, 192).reconstruction);
}

void TestSinq::sampleErrorsNextToRtnAndHqq() {
    const std::string path = qEnvironmentVariable("QS_SOURCE_DIR").toStdString() +
                             "/resources/samples/stories260K.safetensors";
    auto c = Checkpoint::open(path);
    if (!c)
        QSKIP("bundled sample not found");
    const std::vector<std::string> schemes{"int4:g64", "hqq4:g64", "sinq4:g64", "sinq_nf4:g64"};
    std::map<std::string, double> err;
    double energy = 0;
    int matrices = 0, imbalanceFell = 0;
    for (const auto& t : c->tensors()) {
        if (t.shape.size() != 2)
            continue;
        auto v = c->readFloat(t);
        QVERIFY(v.ok());
        const MatrixView m{v->data(), t.rows(), t.cols()};
        for (float x : *v)
            energy += double(x) * x;
        for (const auto& s : schemes) {
            auto q = quantize(spec(s), m);
            QVERIFY2(q.ok(), qPrintable(QString::fromStdString(s + " " + t.name)));
            for (std::size_t i = 0; i < v->size(); ++i)
                err[s] += std::pow(double((*v)[i]) - q->reconstruction[i], 2);
            if (s == "sinq4:g64")
                imbalanceFell += diagnostic(*q, "tile_imbalance_after") <
                                 diagnostic(*q, "tile_imbalance_before");
        }
        ++matrices;
    }
    QVERIFY(matrices > 5);
    for (const auto& s : schemes)
        qInfo("%-14s rel RMSE %.5f over %d matrices", s.c_str(), std::sqrt(err[s] / energy),
              matrices);
    QCOMPARE(imbalanceFell, matrices);
    QVERIFY(err["hqq4:g64"] < err["int4:g64"]);
    QVERIFY(err["sinq4:g64"] < err["int4:g64"]);
}

QTEST_APPLESS_MAIN(TestSinq)
#include "test_sinq.moc"
