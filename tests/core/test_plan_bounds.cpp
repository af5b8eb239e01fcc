// The per-group error bounds that let the fused CPU path measure the exact max |error| (the
// error histogram's range) on only a few groups (analysis/plan_bounds.h). For every family the
// fused plan path runs, over Gaussian groups at scales from 1e-30 to 1e30, groups built to
// reach the bound (a value half a spacing into its element binade, MX blocks clamped at the
// largest element, q4_0's capped code, q8_0 at half codes with f16 subnormal scales) and the
// ends (all zero, constant, subnormal, near float's largest): no value's error passes its
// group's bound; and the built groups come within 1 % of it. Then the fused paths against the
// plain one on extreme blocks and on random tensors.
#include "analysis/fused_analysis.h"
#include "analysis/plan_bounds.h"
#include "cuda/device_plan.h"
#include "metrics/error_metrics.h"
#include "metrics/histogram.h"
#include "quant/registry.h"

#include "quant_helpers.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <optional>
#include <random>
#include <span>

using namespace qs;
using namespace qs::test;

namespace {

using Group = std::vector<float>;

struct Outcome {
    double worst = 0; // largest exact max |error| / bound over the groups
    int groups = 0;
};

template <class Fam>
bool checkGroup(const Fam& fam, const Group& x, Outcome& out, QString& failure) {
    float mn = x[0], mx = x[0];
    for (float v : x) {
        mn = std::min(mn, v);
        mx = std::max(mx, v);
    }
    const float signedMax =
        firstOfMagnitude(x.data(), static_cast<std::int64_t>(x.size()), dev::absMaxOf(mn, mx));
    typename Fam::Group g;
    if constexpr (std::is_same_v<Fam, dev::LegacyFam>)
        g = fam.group(mn, mx, signedMax);
    else
        g = fam.group(mn, mx);
    const double bound = fused::bounds::GroupBound<Fam>(fam)(g, mn, mx, signedMax);
    double exact = 0;
    for (float v : x) {
        unsigned flags = 0;
        exact = std::max(exact, std::fabs(double(v) - double(fam.rec(g, v, flags))));
    }
    ++out.groups;
    if (!(exact <= bound)) {
        failure = QString("max |error| %1 over the bound %2 (group from %3 to %4)")
                      .arg(exact, 0, 'g', 17)
                      .arg(bound, 0, 'g', 17)
                      .arg(double(mn), 0, 'g', 9)
                      .arg(double(mx), 0, 'g', 9);
        return false;
    }
    if (std::isfinite(bound) && bound > 0)
        out.worst = std::max(out.worst, exact / bound);
    return true;
}

// Gaussian groups at many scales and the ends of float's range.
std::vector<Group> commonGroups(std::size_t size, unsigned seed) {
    std::vector<Group> groups;
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal;
    for (float sd : {1e-30f, 3e-7f, 1e-3f, 0.02f, 1.0f, 700.0f, 1e30f})
        for (int k = 0; k < 300; ++k) {
            Group g(size);
            for (float& v : g)
                v = sd * normal(gen);
            if (k % 7 == 0)
                g[k % size] *= 9.0f; // an outlier
            groups.push_back(g);
        }
    groups.push_back(Group(size, 0.0f));
    groups.push_back(Group(size, 0.375f));
    groups.push_back(Group(size, -1e-41f)); // subnormal
    Group huge(size, 1.0f);
    huge[1] = 3.3e38f;
    huge[2] = -3.3e38f;
    groups.push_back(huge);
    return groups;
}

// The fused analysis with a 64-bin error histogram, the reconstruction kept.
std::optional<Result<FusedResult>> fusedWithHistogram(const Scheme& s, MatrixView m) {
    FusedRequest req;
    req.errorHistogramBins = 64;
    req.keepReconstruction = true;
    return analyzeFused(s, m, req);
}

// A fused result against the plain path's reconstruction `want` of x: the reconstruction bit for
// bit, the max |error| and the error histogram's counts.
void sameAsPlain(const FusedResult& fused, std::span<const float> x, const std::vector<float>& want,
                 const QString& where) {
    const std::vector<float>& rec = fused.output.reconstruction;
    QVERIFY2(rec.size() == want.size(), qPrintable(where));
    QVERIFY2(std::memcmp(rec.data(), want.data(), rec.size() * sizeof(float)) == 0,
             qPrintable(where));
    QVERIFY2(fused.error.maxAbsErr == computeErrorMetrics(x, want).maxAbsErr, qPrintable(where));
    QVERIFY2(fused.errorHistogram->counts == computeDifferenceHistogram(x, want, 64).counts,
             qPrintable(where));
}

} // namespace

class TestPlanBounds : public QObject {
    Q_OBJECT
private slots:
    void elementFamilies_data();
    void elementFamilies();
    void ggmlBlocks();
    void extremeBlocksMatchThePlainPath();
    void randomTensorsMatchThePlainPath();
};

void TestPlanBounds::elementFamilies_data() {
    QTest::addColumn<QString>("spec");
    for (const char* s :
         {"fp4:g32", "fp6_e2m3:g32", "fp6_e3m2:g32", "fp8_e4m3:g32", "fp8_e5m2:g32", "mxfp4",
          "mxfp4:scale=ceil", "mxfp4:scale=even", "mxfp4:scale=rceil", "mxfp6_e3m2", "mxfp6_e2m3",
          "mxfp8_e4m3", "mxfp8_e5m2", "mxint8", "nvfp4"})
        QTest::newRow(s) << QString(s);
}

// Groups built to reach an element family's bound: the largest value a and a value half a
// spacing above the lower end of the element binade that holds a / scale (where that is below
// a / scale), the spacing worked out here with frexp; and 1.99 * 2^k alone, which MX's floor
// scaling leaves past the largest element (clamped).
template <class Fam> std::vector<Group> reachingGroups(const Fam& fam, std::size_t size) {
    const dev::ElementSpec e = fam.elem;
    int top = 0;
    std::frexp(double(e.maxNormal), &top); // maxNormal = f * 2^top, f in [1/2, 1)
    std::vector<Group> groups;
    std::mt19937 gen(11u);
    std::uniform_real_distribution<float> unit(1.0f, 2.0f);
    for (int k = 0; k < 400; ++k) {
        const float a = unit(gen) * std::ldexp(1.0f, k % 40 - 20);
        Group g(size, 0.0f);
        g[0] = k % 2 ? a : -a;
        const double scale = fam.group(-a, a).scale, t = a / scale;
        if (e.int8) {
            g[1] = static_cast<float>((std::floor(t * 64.0) - 0.5) / 64.0 * scale);
        } else {
            int binade = 0;
            std::frexp(std::min(t, double(e.maxNormal)), &binade);
            binade = std::clamp(binade - 1, 1 - e.bias, top - 1);
            const double low = std::ldexp(1.0, binade), q = std::ldexp(1.0, binade - e.mbits);
            if (low + q / 2 < t)
                g[1] = static_cast<float>((low + q / 2) * scale);
        }
        groups.push_back(g);
        Group clamped(size, 0.0f);
        clamped[k % size] = 1.99f * std::ldexp(1.0f, k % 40 - 20);
        groups.push_back(clamped);
    }
    return groups;
}

template <class Fam> void checkFamily(const Fam& fam, std::size_t size, Outcome& outcome) {
    std::vector<Group> groups = commonGroups(size, 7u);
    const std::vector<Group> built = reachingGroups(fam, size);
    groups.insert(groups.end(), built.begin(), built.end());
    QString failure;
    for (const Group& g : groups)
        if (!checkGroup(fam, g, outcome, failure))
            QFAIL(qPrintable(failure));
}

// Element formats under FP, MX (every scale rule) and NVFP4 scales.
void TestPlanBounds::elementFamilies() {
    QFETCH(QString, spec);
    const auto plan = devicePlanFor(*Scheme::parse(spec.toStdString()), 4, 64);
    QVERIFY(plan);
    const auto size = static_cast<std::size_t>(plan->groupCols);
    Outcome outcome;
    if (plan->family == DeviceFamily::Fp) {
        checkFamily(plan->fpFam, size, outcome);
    } else {
        QCOMPARE(plan->family, DeviceFamily::Mx);
        dev::MxFam fam = plan->mxFam;
        // NVFP4's per-tensor scale from a tensor amax of 1, and of 2^10: block scales clamped
        // at their least.
        for (float tensorAmax : {1.0f, 1024.0f}) {
            fam.tensorScale = nvfp4TensorScale(-tensorAmax, tensorAmax);
            checkFamily(fam, size, outcome);
            if (!fam.nv)
                break;
        }
    }
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(outcome.worst > 0.99, qPrintable(QString::number(outcome.worst)));
}

// q8_0 and the legacy blocks. Built groups: values at half codes (x / d = k + 1/2), q4_0 / q5_0
// with the largest magnitude first and its negation after it (the capped code), q4_1 / q5_1
// with a value at mn + (k + 1/2) d, and scales d among f16's subnormals (amax 127e-6), where
// f16(d) is far from d.
void TestPlanBounds::ggmlBlocks() {
    for (const char* spec : {"q8_0", "q4_0", "q5_0", "q4_1", "q5_1"}) {
        const auto plan = devicePlanFor(*Scheme::parse(spec), 4, 64);
        QVERIFY(plan);
        std::vector<Group> groups = commonGroups(32, 5u);
        std::mt19937 gen(3u);
        std::uniform_real_distribution<float> unit(1.0f, 2.0f);
        const bool q8 = plan->family == DeviceFamily::Q8_0;
        const float steps = q8 ? 127.0f : plan->legacyFam.symmetric() ? 8.0f : 15.0f;
        for (int k = 0; k < 600; ++k) {
            const float a = unit(gen) * (k % 2 ? 127e-6f : std::ldexp(1.0f, k % 30 - 15));
            Group g(32, 0.0f);
            g[0] = a;
            g[1] = -a;
            const float d = a / steps;
            g[2] = (static_cast<float>(k % 7) + 0.5f) * d;
            if (k % 3 == 0)
                g[1] = 0.1f * a;
            groups.push_back(g);
        }
        Outcome outcome;
        QString failure;
        for (const Group& g : groups)
            if (!(q8 ? checkGroup(plan->q8Fam, g, outcome, failure)
                     : checkGroup(plan->legacyFam, g, outcome, failure)))
                QFAIL(qPrintable(QString(spec) + ": " + failure));
        QVERIFY2(outcome.worst > 0.99,
                 qPrintable(QString(spec) + ": " + QString::number(outcome.worst)));
    }
}

// Blocks at the edges, in a fused analysis with a histogram (these families' and int's and
// NF's). `edges`: all zero, -a and +a (either first: q4_0's signed maximum), one value
// throughout, -0 with a +0 - fused, and as the plain path. `tiny`: values among float's
// subnormals and around 1e-38, where 1/d overflows to +inf (ggml's int8 cast takes q4_0's code
// to 0; q8_0's vector loop turns the products into NaN, so it declines) - fused as the plain
// path or declined. `huge`: +-3e38, whose block scale overflows under q4_0, q8_0 and int: a
// reconstruction of Inf or NaN, whose errors the plain histogram counts apart - declined just
// then. Fused means the reconstruction bit for bit, the max |error| and the counts of the
// plain path. As 4 rows of 128 and as 1 row of 512 (the per-block loops over a chunk of blocks
// then run their vector bodies, not only their remainders).
void TestPlanBounds::extremeBlocksMatchThePlainPath() {
    std::vector<float> edges = gaussian(4 * 128, 17u, 1.0f);
    for (int k = 0; k < 32; ++k) {
        edges[static_cast<std::size_t>(64 + k)] = 0.0f;
        edges[static_cast<std::size_t>(192 + k)] = k == 5 ? 1.5f : k == 9 ? -1.5f : 0.01f * k;
        edges[static_cast<std::size_t>(224 + k)] = 0.75f;
        edges[static_cast<std::size_t>(256 + k)] = k == 3 ? 0.0f : -0.0f;
    }
    std::vector<float> tiny = edges, huge = edges;
    for (int k = 0; k < 32; ++k) {
        tiny[static_cast<std::size_t>(k)] = static_cast<float>(k % 5 - 2) * 1e-40f;
        tiny[static_cast<std::size_t>(32 + k)] = static_cast<float>(k % 7 - 3) * 7e-39f;
        huge[static_cast<std::size_t>(128 + k)] = static_cast<float>(k % 3 - 1) * 3e38f;
    }
    int declined = 0;
    for (const char* spec :
         {"q4_0", "q5_0", "q4_1", "q5_1", "q8_0", "mxfp4", "nvfp4", "fp8_e4m3:g32", "mxint8",
          "fp4:g32", "int4:g32", "int8:g32:sym", "nf4:g32"})
        for (const std::vector<float>* x : {&edges, &tiny, &huge})
            for (std::int64_t rows : {4, 1}) { // one row: 16 blocks of 32 (vector loops' bodies)
                const Scheme s = *Scheme::parse(spec);
                const MatrixView m{x->data(), rows, 512 / rows};
                auto plain = quantize(s, m);
                QVERIFY2(plain.ok(), spec);
                auto fused = fusedWithHistogram(s, m);
                const auto& want = plain->reconstruction;
                const bool finite =
                    std::all_of(want.begin(), want.end(), [](float v) { return std::isfinite(v); });
                if (x == &edges)
                    QVERIFY2(fused.has_value(), spec);
                if (x == &huge)
                    QVERIFY2(fused.has_value() == finite, spec);
                if (!fused) {
                    declined += x == &huge;
                    continue;
                }
                QVERIFY2(fused->ok(), spec);
                sameAsPlain(fused->value(), *x, want, spec);
                if (QTest::currentTestFailed())
                    return;
            }
    QVERIFY(declined > 0); // some block scale overflowed
}

// Random tensors under every fused family (int, NF, companding, FP, MX, NVFP4, q8_0, q4_0..q5_1):
// shapes from 1 row to 24 and widths with and without whole chunks of 16 groups, scales from
// 1e-30 to 1e30, and zeros, -0, subnormals, sign flips, repeats, values on a quarter grid and
// constant runs sprinkled in. Wherever the fused path takes a tensor: the plain path's
// reconstruction bit for bit, its max |error| and counts, its sum of squared errors to 1e-12.
// (90,000 such cases, run once with other seeds, found no difference.)
void TestPlanBounds::randomTensorsMatchThePlainPath() {
    const char* specs[] = {"int4:g128",
                           "int4:g32",
                           "int8:g64:sym",
                           "int3:g16",
                           "nf4:g64",
                           "nf4:g32",
                           "mulaw4:g32",
                           "mxfp4",
                           "mxfp4:scale=ceil",
                           "mxfp4:scale=even",
                           "mxfp4:scale=rceil",
                           "mxfp8_e4m3",
                           "mxint8",
                           "mxfp6_e2m3",
                           "nvfp4",
                           "q8_0",
                           "q4_0",
                           "q4_1",
                           "q5_0",
                           "q5_1",
                           "fp4:g32",
                           "fp8_e4m3:g16",
                           "fp8_e4m3",
                           "fp4:g256"};
    const std::int64_t widths[] = {32, 64, 96, 128, 160, 256, 512, 544, 1024, 1536, 4096, 4128};
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    int ran = 0;
    for (int it = 0; it < 1500; ++it) {
        const char* spec = specs[rng() % std::size(specs)];
        const std::int64_t cols = widths[rng() % std::size(widths)];
        const std::int64_t rows = 1 + static_cast<std::int64_t>(rng() % 24);
        std::vector<float> w(static_cast<std::size_t>(rows * cols));
        const float scale = std::pow(10.0f, static_cast<float>(static_cast<int>(rng() % 61) - 30));
        for (float& v : w)
            v = normal(rng) * scale;
        const unsigned kinds = rng() % 6;
        for (std::size_t k = 0; k < w.size() / 50; ++k) {
            float& v = w[rng() % w.size()];
            switch ((rng() + kinds) % 8) {
            case 0:
                v = 0.0f;
                break;
            case 1:
                v = -0.0f;
                break;
            case 2:
                v = std::ldexp(1.0f, -140) * static_cast<float>(rng() % 7);
                break;
            case 3:
                v = -v;
                break;
            case 4:
                v = std::trunc(v / scale * 4.0f) / 4.0f * scale;
                break;
            case 5:
                v = w[rng() % w.size()];
                break;
            default:
                break;
            }
        }
        if (rng() % 10 == 0) { // a run of zeros or of one value
            const std::size_t at = rng() % w.size();
            const float c = rng() % 2 ? 0.0f : w[at];
            std::fill(w.begin() + static_cast<std::ptrdiff_t>(at),
                      w.begin() + static_cast<std::ptrdiff_t>(std::min(w.size(), at + 64)), c);
        }
        const Scheme s = *Scheme::parse(spec);
        const MatrixView m{w.data(), rows, cols};
        auto plain = quantize(s, m);
        QVERIFY2(plain.ok(), spec);
        auto fused = fusedWithHistogram(s, m);
        if (!fused) // NF blocks across rows, f16 scales past 65504 (Inf), ...: the plain path's
            continue;
        const QString where =
            QString("%1 %2x%3 scale %4 case %5").arg(spec).arg(rows).arg(cols).arg(scale).arg(it);
        QVERIFY2(fused->ok(), qPrintable(where));
        ++ran;
        const std::vector<float>& want = plain->reconstruction;
        sameAsPlain(fused->value(), w, want, where);
        if (QTest::currentTestFailed())
            return;
        const ErrorMetrics plainError = computeErrorMetrics(w, want);
        QVERIFY2(std::fabs(fused->value().error.sumSqErr - plainError.sumSqErr) <=
                     1e-12 * std::max(1e-300, plainError.sumSqErr),
                 qPrintable(where));
    }
    QVERIFY(ran > 1200); // the fused path took most of them
}

QTEST_GUILESS_MAIN(TestPlanBounds)
#include "test_plan_bounds.moc"
