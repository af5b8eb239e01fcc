// AnalysisController: background open and analysis, coalescing, supersession, cancellation and
// errors as signals — never a crash or a blocked GUI thread.

#include "quant/registry.h"
#include "test_support.h"
#include "workers/analysis_controller.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 20000;
const QString kQProj = QStringLiteral("model.layers.0.self_attn.q_proj.weight");

Scheme scheme(const char* spec) {
    auto s = Scheme::parse(spec);
    if (!s)
        qFatal("bad spec %s", spec);
    return s.value();
}

// Records what the controller delivers.
struct Recorder {
    explicit Recorder(AnalysisController& c) {
        QObject::connect(&c, &AnalysisController::checkpointOpened, [this](auto) { ++opened; });
        QObject::connect(&c, &AnalysisController::openFailed,
                         [this](const QString&, const QString& m) { errors << m; });
        QObject::connect(&c, &AnalysisController::analysisFailed,
                         [this](const QString& m) { errors << m; });
        QObject::connect(&c, &AnalysisController::statsReady,
                         [this](const QString&, const DistributionStats&) { ++stats; });
        QObject::connect(&c, &AnalysisController::analysisReady,
                         [this](const QString&, std::shared_ptr<const TensorAnalysis> a,
                                std::shared_ptr<const AnalysisPlots> p) {
                             if (p->isPreview()) {
                                 previews.push_back(a);
                                 previewPlots.push_back(p);
                                 return;
                             }
                             specs << QString::fromStdString(a->scheme.toString());
                             exact.push_back(a);
                         });
        QObject::connect(&c, &AnalysisController::sweepReady,
                         [this](const QString&, auto) { ++sweeps; });
        QObject::connect(&c, &AnalysisController::cancelled, [this] { ++cancels; });
        QObject::connect(&c, &AnalysisController::idle, [this] { ++idles; });
    }
    int opened = 0, stats = 0, sweeps = 0, cancels = 0, idles = 0;
    QStringList specs, errors;
    std::vector<std::shared_ptr<const TensorAnalysis>> previews, exact;
    std::vector<std::shared_ptr<const AnalysisPlots>> previewPlots;
};

constexpr std::int64_t kBigRows = 2048, kBigCols = 1536; // 3.1 M values: previewed

// A smooth, row-dependent pattern of kBigRows x kBigCols values.
std::vector<float> bigValues() {
    std::vector<float> values(static_cast<std::size_t>(kBigRows * kBigCols));
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = std::sin(0.001f * static_cast<float>(i)) * (1.0f + static_cast<float>(i % 7));
    return values;
}

// `values` as the f32 .npy big.npy in `dir` (its tensor: "big"); the path.
QString writeBig(const QTemporaryDir& dir, const std::vector<float>& values) {
    const QString path = dir.filePath(QStringLiteral("big.npy"));
    test::writeNpy(path.toStdString(), "<f4", {kBigRows, kBigCols}, test::floatBytes(values));
    return path;
}

} // namespace

class TestAnalysisController : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void analysesTheSelectedTensorThenGoesIdle();
    void coalescesABurstOfSchemeChangesIntoOneAnalysis();
    void reusesTheCachedValuesForANewScheme();
    void reportsAMalformedFileAsAnError();
    void reportsAnUnknownTensorAsAnError();
    void reportsAFamilyNotImplementedYet();
    void cancelAbandonsTheWorkAndGoesIdle();
    void previewsALargeTensorThenReplacesItWithTheExactResult();
    void previewsTakeTheTensorsScale();
};

void TestAnalysisController::analysesTheSelectedTensorThenGoesIdle() {
    AnalysisController c;
    Recorder r(c);
    c.setScheme(scheme("int4:g64"));
    c.openCheckpoint(QString::fromStdString(test::samplePath()));
    QTRY_COMPARE_WITH_TIMEOUT(r.opened, 1, kTimeoutMs);
    c.setTensor(kQProj);
    QTRY_COMPARE_WITH_TIMEOUT(r.sweeps, 1, kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(!c.isBusy() && r.idles > 0, kTimeoutMs);
    QCOMPARE(r.specs, QStringList{QStringLiteral("int4:g64")});
    QCOMPARE(r.stats, 1);
    QVERIFY(r.errors.isEmpty());
}

void TestAnalysisController::coalescesABurstOfSchemeChangesIntoOneAnalysis() {
    AnalysisController c;
    Recorder r(c);
    c.setScheme(scheme("int4:g64"));
    c.openCheckpoint(QString::fromStdString(test::samplePath()));
    QTRY_COMPARE_WITH_TIMEOUT(r.opened, 1, kTimeoutMs);
    c.setTensor(kQProj);
    for (const char* spec : {"int2:g64", "int3:g64", "int5:g64", "int8:g64"})
        c.setScheme(scheme(spec));
    QTRY_VERIFY_WITH_TIMEOUT(!c.isBusy() && r.sweeps > 0, kTimeoutMs);
    QCOMPARE(r.specs, QStringList{QStringLiteral("int8:g64")});
}

void TestAnalysisController::reusesTheCachedValuesForANewScheme() {
    AnalysisController c;
    Recorder r(c);
    c.setScheme(scheme("int4:g64"));
    c.openCheckpoint(QString::fromStdString(test::samplePath()));
    QTRY_COMPARE_WITH_TIMEOUT(r.opened, 1, kTimeoutMs);
    c.setTensor(kQProj);
    QTRY_COMPARE_WITH_TIMEOUT(r.sweeps, 1, kTimeoutMs);
    c.setScheme(scheme("int8:channel"));
    QTRY_COMPARE_WITH_TIMEOUT(r.sweeps, 2, kTimeoutMs);
    QCOMPARE(r.specs.last(), QStringLiteral("int8:channel"));
    QCOMPARE(r.stats, 2); // the cached statistics are handed out again, not recomputed
}

void TestAnalysisController::reportsAMalformedFileAsAnError() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("garbage.safetensors"));
    test::writeBytes(path.toStdString(), {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    AnalysisController c;
    Recorder r(c);
    c.openCheckpoint(path);
    QTRY_COMPARE_WITH_TIMEOUT(r.errors.size(), 1, kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(r.idles > 0, kTimeoutMs);
    QCOMPARE(r.opened, 0);
    QVERIFY(!c.checkpoint());
}

void TestAnalysisController::reportsAnUnknownTensorAsAnError() {
    AnalysisController c;
    Recorder r(c);
    c.setScheme(scheme("int4:g64"));
    c.openCheckpoint(QString::fromStdString(test::samplePath()));
    QTRY_COMPARE_WITH_TIMEOUT(r.opened, 1, kTimeoutMs);
    c.setTensor(QStringLiteral("no.such.tensor"));
    QCOMPARE(r.errors.size(), 1);
    QVERIFY(r.errors.front().contains(QStringLiteral("no.such.tensor")));
}

void TestAnalysisController::reportsAFamilyNotImplementedYet() {
    const FamilyInfo* missing = nullptr;
    for (const FamilyInfo& f : families())
        if (!f.implemented() && !missing)
            missing = &f;
    if (!missing)
        QSKIP("every registry family is implemented");
    const std::string name(missing->name);
    const auto spec =
        Scheme::parse(missing->fixedBits() ? name : name + std::to_string(missing->minBits));
    QVERIFY(spec.ok());

    AnalysisController c;
    Recorder r(c);
    c.setScheme(spec.value());
    c.openCheckpoint(QString::fromStdString(test::samplePath()));
    QTRY_COMPARE_WITH_TIMEOUT(r.opened, 1, kTimeoutMs);
    c.setTensor(kQProj);
    QTRY_COMPARE_WITH_TIMEOUT(r.errors.size(), 1, kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(!c.isBusy(), kTimeoutMs);
    QVERIFY(r.specs.isEmpty());
}

void TestAnalysisController::cancelAbandonsTheWorkAndGoesIdle() {
    AnalysisController c;
    Recorder r(c);
    c.setScheme(scheme("int4:g64"));
    c.openCheckpoint(QString::fromStdString(test::samplePath()));
    QTRY_COMPARE_WITH_TIMEOUT(r.opened, 1, kTimeoutMs);
    c.setTensor(kQProj);
    QVERIFY(c.isBusy());
    c.cancel(); // still coalescing: nothing starts
    QVERIFY(!c.isBusy());
    QCOMPARE(r.cancels, 1);
    QTest::qWait(2 * AnalysisController::kCoalesceMs);
    QCOMPARE(r.specs.size(), 0);
    c.cancel(); // nothing running: no news
    QCOMPARE(r.cancels, 1);
}

// A tensor of more than kPreviewAbove elements: a preview from evenly spaced rows comes first
// (about kPreviewElements values, its cost scaled to the whole tensor), then the exact result;
// a small tensor gets no preview.
void TestAnalysisController::previewsALargeTensorThenReplacesItWithTheExactResult() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    constexpr std::int64_t rows = kBigRows, cols = kBigCols;
    const std::vector<float> values = bigValues();
    const QString path = writeBig(dir, values);
    QVERIFY(static_cast<std::int64_t>(values.size()) > kPreviewAbove);

    AnalysisController c;
    Recorder r(c);
    c.setScheme(scheme("int4:g64"));
    c.openCheckpoint(path);
    QTRY_COMPARE_WITH_TIMEOUT(r.opened, 1, kTimeoutMs);
    c.setTensor(QStringLiteral("big"));
    QTRY_COMPARE_WITH_TIMEOUT(r.sweeps, 1, kTimeoutMs);
    QCOMPARE(r.previews.size(), std::size_t{1});
    QCOMPARE(r.exact.size(), std::size_t{1});
    const auto& p = *r.previewPlots.front();
    QCOMPARE(p.totalRows, rows);
    QCOMPARE(p.previewRows, kPreviewElements / cols); // 170 rows, evenly spaced
    const TensorAnalysis& preview = *r.previews.front();
    const TensorAnalysis& exact = *r.exact.front();
    // The same scheme, the whole tensor's element count and nearly its cost and error.
    QCOMPARE(preview.scheme.toString(), exact.scheme.toString());
    QCOMPARE(preview.cost.elements, exact.cost.elements);
    QVERIFY(std::abs(preview.cost.bitsPerWeight() - exact.cost.bitsPerWeight()) < 1e-3);
    QVERIFY(std::abs(preview.error.sqnrDb() - exact.error.sqnrDb()) < 1.0);
    QVERIFY(preview.error.count < exact.error.count);

    // A scheme change on the cached tensor previews again before the exact result.
    c.setScheme(scheme("nf4:g64"));
    QTRY_COMPARE_WITH_TIMEOUT(r.sweeps, 2, kTimeoutMs);
    QCOMPARE(r.previews.size(), std::size_t{2});
    QCOMPARE(QString::fromStdString(r.previews.back()->scheme.toString()),
             QStringLiteral("nf4:g64"));

    // The sample's small tensor: exact at once, no preview.
    c.openCheckpoint(QString::fromStdString(test::samplePath()));
    QTRY_COMPARE_WITH_TIMEOUT(r.opened, 2, kTimeoutMs);
    c.setTensor(kQProj);
    QTRY_COMPARE_WITH_TIMEOUT(r.sweeps, 3, kTimeoutMs);
    QCOMPARE(r.previews.size(), std::size_t{2});
}

// A scale over the whole tensor comes from the whole tensor in the preview too: the levels are
// the exact result's, and so is the cost (the scale stored once), though the sampled rows miss
// the tensor's largest value.
void TestAnalysisController::previewsTakeTheTensorsScale() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    std::vector<float> values = bigValues();
    values[kBigCols + 5] = 50.0f; // row 1: not among the preview's rows
    QVERIFY(previewRows({values.data(), kBigRows, kBigCols})[1] > 1);
    const QString path = writeBig(dir, values);

    AnalysisController c;
    Recorder r(c);
    c.setScheme(scheme("int8:tensor"));
    c.openCheckpoint(path);
    QTRY_COMPARE_WITH_TIMEOUT(r.opened, 1, kTimeoutMs);
    c.setTensor(QStringLiteral("big"));
    QTRY_COMPARE_WITH_TIMEOUT(r.sweeps, 1, kTimeoutMs);
    c.setScheme(scheme("mulaw8"));
    QTRY_COMPARE_WITH_TIMEOUT(r.sweeps, 2, kTimeoutMs);
    QCOMPARE(r.previews.size(), std::size_t{2});
    QCOMPARE(r.exact.size(), std::size_t{2});
    for (std::size_t k = 0; k < 2; ++k) {
        const TensorAnalysis &preview = *r.previews[k], &exact = *r.exact[k];
        QCOMPARE(preview.scheme.toString(), exact.scheme.toString());
        QVERIFY(!exact.levels.empty() && exact.levels.back() > 40.0f);
        QCOMPARE(preview.levels, exact.levels);
        QCOMPARE(preview.cost.totalBits(), exact.cost.totalBits());
    }
}

QTEST_MAIN(TestAnalysisController)
#include "test_analysis_controller.moc"
