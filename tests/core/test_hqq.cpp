// The hqq family: agreement with a straightforward transcription of HQQ's legacy solver written
// here (both axes, several bit widths, one iteration and the full schedule), never worse than its
// min/max start in its own lp objective, usually better in MSE on Gaussian data, storage,
// options and determinism.

#include "methods/hqq.h"
#include "tensor/dtype.h"

#include "quant_helpers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace qs;
using namespace qs::test;

namespace {

constexpr double kReconstructionTolerance = 1e-6; // relative to the tensor's absmax

float fp16(float x) {
    return halfToFloat(floatToHalf(x));
}

struct Reference {
    std::vector<float> reconstruction; // with fp16 scale and zero, as HQQLinear stores them
    std::vector<float> start;          // the min/max start, float32 parameters
};

// HQQ's Quantizer.quantize + optimize_weights_proximal_legacy, one group at a time.
Reference referenceHqq(const std::vector<float>& w, int bits, int g, int axis, int iters) {
    const std::size_t n = w.size();
    const std::size_t groups = axis == 1 ? (n + g - 1) / g : n / g;
    std::vector<std::vector<std::size_t>> members(groups);
    for (std::size_t j = 0; j < groups; ++j)
        for (std::size_t k = 0; k < std::size_t(g); ++k) {
            const std::size_t i = axis == 1 ? j * g + k : j + k * groups;
            if (i < n)
                members[j].push_back(i);
        }
    const float maxq = float((1 << bits) - 1);
    std::vector<float> s(groups), z(groups);
    for (std::size_t j = 0; j < groups; ++j) {
        float lo = w[members[j][0]], hi = lo;
        for (auto i : members[j])
            lo = std::min(lo, w[i]), hi = std::max(hi, w[i]);
        s[j] = std::fabs(hi - lo) <= 1e-4f ? 1.0f : std::min(maxq / (hi - lo), 2e4f);
        z[j] = bits == 4 ? std::nearbyint(-lo * s[j]) : -lo * s[j];
    }
    auto quant = [&](std::size_t j, std::size_t i) {
        return std::clamp(std::nearbyint(w[i] * s[j] + z[j]), 0.0f, maxq);
    };
    Reference ref;
    ref.start.resize(n);
    for (std::size_t j = 0; j < groups; ++j)
        for (auto i : members[j])
            ref.start[i] = (quant(j, i) - z[j]) / s[j];
    double best = 1e4;
    float beta = 10.0f; // optimize_weights_proximal: beta *= kappa (1.01) after each iteration
    for (int it = 0; it < iters; ++it) {
        double err = 0;
        std::vector<float> next(groups);
        for (std::size_t j = 0; j < groups; ++j) {
            double acc = 0;
            for (auto i : members[j]) {
                const float wr = (quant(j, i) - z[j]) / s[j];
                const float e = w[i] - wr;
                err += std::fabs(e);
                const float mag =
                    std::max(0.0f, std::fabs(e) - (1.0f / beta) * std::pow(std::fabs(e), -0.3f));
                const float we = e > 0 ? mag : e < 0 ? -mag : 0.0f;
                acc += quant(j, i) - (w[i] - we) * s[j];
            }
            next[j] = float(acc / double(members[j].size()));
        }
        z = next;
        beta *= 1.01f;
        err /= double(n);
        if (err < best)
            best = err;
        else
            break;
    }
    ref.reconstruction.resize(n);
    for (std::size_t j = 0; j < groups; ++j)
        for (auto i : members[j])
            ref.reconstruction[i] = (quant(j, i) - fp16(z[j])) * fp16(1.0f / s[j]);
    return ref;
}

double lpError(const std::vector<float>& a, const std::vector<float>& b, double p) {
    double e = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        e += std::pow(std::fabs(double(a[i]) - b[i]), p);
    return e;
}

} // namespace

class TestHqq : public QObject {
    Q_OBJECT
private slots:
    void matchesTheStraightforwardSolver_data();
    void matchesTheStraightforwardSolver();
    void neverWorseThanItsStartInTheLpObjective();
    void usuallyBetterThanItsStartInMse();
    void storageIsCodesPlusFp16ScaleAndZero();
    void optionsAreChecked();
    void sameInputSameOutput();
};

void TestHqq::matchesTheStraightforwardSolver_data() {
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("group");
    QTest::addColumn<int>("axis");
    QTest::addColumn<int>("iters");
    QTest::newRow("one iteration") << "hqq4:g16:iters=1" << 4 << 16 << 1 << 1;
    QTest::newRow("hqq4 g16") << "hqq4:g16" << 4 << 16 << 1 << 20;
    QTest::newRow("hqq3 g32") << "hqq3:g32" << 3 << 32 << 1 << 20;
    QTest::newRow("hqq2 g8") << "hqq2:g8" << 2 << 8 << 1 << 20;
    QTest::newRow("hqq8 g64") << "hqq8:g64" << 8 << 64 << 1 << 20;
    QTest::newRow("axis 0") << "hqq4:g16:axis=0" << 4 << 16 << 0 << 20;
    QTest::newRow("run across rows") << "hqq4:g24" << 4 << 24 << 1 << 20;
    QTest::newRow("channel") << "hqq5:channel" << 5 << 48 << 1 << 20;
}

void TestHqq::matchesTheStraightforwardSolver() {
    QFETCH(QString, scheme);
    QFETCH(int, bits);
    QFETCH(int, group);
    QFETCH(int, axis);
    QFETCH(int, iters);
    const auto w = gaussian(16 * 48, 7);
    const auto q = run(scheme.toStdString(), w, 16, 48);
    const auto ref = referenceHqq(w, bits, group, axis, iters);
    float amax = 0;
    for (float x : w)
        amax = std::max(amax, std::fabs(x));
    for (std::size_t i = 0; i < w.size(); ++i)
        QVERIFY2(std::fabs(q.reconstruction[i] - ref.reconstruction[i]) <=
                     kReconstructionTolerance * amax,
                 qPrintable(QString("element %1").arg(i)));
}

void TestHqq::neverWorseThanItsStartInTheLpObjective() {
    for (unsigned seed = 1; seed <= 20; ++seed)
        for (int bits : {2, 3, 4, 8}) {
            const auto w = gaussian(64 * 128, seed);
            const std::string s = "hqq" + std::to_string(bits) + ":g64";
            const auto q = run(s, w, 64, 128);
            const auto ref = referenceHqq(w, bits, 64, 1, 20);
            // 1e-3: the stored fp16 scale and zero move the result by far less than a step
            QVERIFY2(lpError(w, q.reconstruction, 0.7) <= lpError(w, ref.start, 0.7) * 1.001,
                     qPrintable(QString::fromStdString(s)));
        }
}

void TestHqq::usuallyBetterThanItsStartInMse() {
    int better = 0, trials = 0;
    for (unsigned seed = 1; seed <= 20; ++seed)
        for (int bits : {2, 3, 4}) {
            const auto w = gaussian(64 * 128, seed);
            const auto q = run("hqq" + std::to_string(bits) + ":g64", w, 64, 128);
            const auto ref = referenceHqq(w, bits, 64, 1, 20);
            better += lpError(w, q.reconstruction, 2) < lpError(w, ref.start, 2);
            ++trials;
        }
    qInfo("hqq beat its min/max start in MSE in %d of %d cases", better, trials);
    QVERIFY(better * 10 >= trials * 8);
}

void TestHqq::storageIsCodesPlusFp16ScaleAndZero() {
    const auto w = gaussian(32 * 256, 3);
    QCOMPARE(run("hqq4:g64", w, 32, 256).cost.bitsPerWeight(), 4.5);
    QCOMPARE(run("hqq3:g128", w, 32, 256).cost.bitsPerWeight(), 3.25);
    QCOMPARE(run("hqq2:channel", w, 32, 256).cost.bitsPerWeight(), 2.125);
    const auto q = run("hqq4:g64", w, 32, 256);
    QCOMPARE(q.levels.size(), std::size_t(16));
    QVERIFY(std::is_sorted(q.levels.begin(), q.levels.end()));
}

void TestHqq::optionsAreChecked() {
    const auto w = gaussian(4 * 64, 3);
    const MatrixView m{w.data(), 4, 64};
    QVERIFY(!quantize(spec("hqq4:g64:axis=2"), m).ok());
    QVERIFY(!quantize(spec("hqq4:g64:iters=0"), m).ok());
    auto strided = quantize(spec("hqq4:g48:axis=0"), m); // 48 does not divide 256
    QVERIFY(!strided.ok());
    QCOMPARE(strided.error().kind, ErrorKind::NotApplicable);
    QVERIFY(quantize(spec("hqq4:g64:axis=0:iters=5"), m).ok());
    auto withNan = w;
    withNan[5] = std::nanf("");
    QVERIFY(!quantize(spec("hqq4:g64"), MatrixView{withNan.data(), 4, 64}).ok());
}

void TestHqq::sameInputSameOutput() {
    const auto w = gaussian(128 * 192, 11);
    QCOMPARE(run("hqq3:g64", w, 128, 192).reconstruction,
             run("hqq3:g64", w, 128, 192).reconstruction);
}

QTEST_APPLESS_MAIN(TestHqq)
#include "test_hqq.moc"
