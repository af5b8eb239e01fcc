// llama.cpp importance matrices read as llama-quantize reads them (GGUF in_sum2 / counts, legacy
// values / ncall), malformed files refused in one line, names found for Hugging Face tensors,
// and the importance used: q4_k:imatrix with a file's entry equals ggml's quantizer given it,
// a tensor without one is quantized plainly with a diagnostic, and the output error an
// importance matrix implies equals the weighted sums by hand.

#include "analysis/tensor_analysis.h"
#include "fixture_gguf.h"
#include "fixture_imatrix.h"
#include "io/checkpoint.h"
#include "methods/imatrix_file.h"
#include "metrics/output_error.h"
#include "quant/ggml_quant.h"
#include "quant/registry.h"
#include "quant_helpers.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

using namespace qs;

class TestImatrixFile : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void ggufIsSumsOverCounts();
    void legacyIsValuesOverNcall();
    void malformedFilesAreRefused_data();
    void malformedFilesAreRefused();
    void huggingFaceNamesFindTheirEntries();
    void quantizesWithTheFilesImportance();
    void importanceGivesEveryScheme_anOutputError();

private:
    std::string write(const QString& name, const std::vector<std::uint8_t>& bytes) {
        const std::string path = m_dir.filePath(name).toStdString();
        test::writeBytes(path, bytes);
        return path;
    }
    QTemporaryDir m_dir;
};

void TestImatrixFile::ggufIsSumsOverCounts() {
    const std::string path =
        write("a.gguf", test::imatrixGguf({{"blk.0.attn_q.weight", {3, 6, 9, 1.5f}, {3}},
                                           {"blk.0.ffn_up_exps.weight", {8, 4, 2, 6}, {4, 0}}},
                                          7, "wiki.train.raw"));
    QVERIFY(isImportanceMatrix(Checkpoint::open(path).value()));
    QVERIFY(!isImportanceMatrix(Checkpoint::open(test::samplePath()).value()));
    auto f = readImatrixFile(path);
    if (!f)
        QFAIL(f.message().c_str());
    QCOMPARE(QString::fromStdString(f->format), QString("gguf"));
    QCOMPARE(f->chunks, std::uint64_t(7));
    QVERIFY(QString::fromStdString(f->datasets).contains("wiki.train.raw"));
    QCOMPARE(f->entries.size(), std::size_t(2));
    QCOMPARE(f->entries.at("blk.0.attn_q.weight"), std::vector<float>({1, 2, 3, 0.5f}));
    // Two experts of two columns: the first over its 4 tokens, the second never routed (1s).
    QCOMPARE(f->entries.at("blk.0.ffn_up_exps.weight"), std::vector<float>({2, 1, 1, 1}));
}

void TestImatrixFile::legacyIsValuesOverNcall() {
    const std::string path = write(
        "b.dat",
        test::imatrixLegacy({{"blk.1.attn_k.weight", 4, {8, 2, 1}}, {"output.weight", 0, {5, 7}}},
                            12, "calibration_datav3.txt"));
    auto f = readImatrixFile(path);
    if (!f)
        QFAIL(f.message().c_str());
    QCOMPARE(QString::fromStdString(f->format), QString("legacy"));
    QCOMPARE(f->entries.at("blk.1.attn_k.weight"), std::vector<float>({2, 0.5f, 0.25f}));
    QCOMPARE(f->entries.at("output.weight"), std::vector<float>({5, 7})); // ncall 0: as stored
    QCOMPARE(f->chunks, std::uint64_t(12));
    QCOMPARE(QString::fromStdString(f->datasets), QString("calibration_datav3.txt"));
    // Without the trailer (files of older llama-imatrix builds) it reads the same.
    auto g = readImatrixFile(write("c.dat", test::imatrixLegacy({{"x.weight", 2, {4}}}, 0, "")));
    QVERIFY(g.ok());
    QCOMPARE(g->entries.at("x.weight"), std::vector<float>({2}));
}

void TestImatrixFile::malformedFilesAreRefused_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("reason");
    auto qb = [](const std::vector<std::uint8_t>& v) {
        return QByteArray(reinterpret_cast<const char*>(v.data()), static_cast<int>(v.size()));
    };
    const auto legacy = test::imatrixLegacy({{"blk.0.attn_q.weight", 1, {1, 2, 3, 4}}}, 1, "d");
    QTest::newRow("truncated values")
        << qb({legacy.begin(), legacy.begin() + 30}) << "run past the end";
    QTest::newRow("truncated name") << qb({legacy.begin(), legacy.begin() + 20}) << "past the end";
    QTest::newRow("huge count") << qb({0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0}) << "not an importance";
    QTest::newRow("empty") << QByteArray() << "";
    const float inf = std::numeric_limits<float>::infinity();
    QTest::newRow("not finite") << qb(test::imatrixLegacy({{"a.weight", 1, {1, inf}}}, 1, "d"))
                                << "not finite";
    test::GgufFixture other;
    other.addString("general.architecture", "llama");
    QTest::newRow("a model, not an imatrix") << qb(other.bytes()) << "not an importance matrix";
}

void TestImatrixFile::malformedFilesAreRefused() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, reason);
    const std::string path = write("bad.dat", {bytes.begin(), bytes.end()});
    auto f = readImatrixFile(path);
    QVERIFY(!f.ok());
    const QString message = QString::fromStdString(f.message());
    QVERIFY2(message.contains(reason) && !message.contains('\n'), qPrintable(message));
    QVERIFY2(message.startsWith(QString::fromStdString(path)), qPrintable(message));
}

void TestImatrixFile::huggingFaceNamesFindTheirEntries() {
    ImatrixFile f;
    f.entries["blk.0.attn_q.weight"] = {1, 2};
    f.entries["blk.3.ffn_down.weight"] = {3};
    QCOMPARE(*f.find("blk.0.attn_q.weight"), std::vector<float>({1, 2}));
    QCOMPARE(*f.find("model.layers.0.self_attn.q_proj.weight"), std::vector<float>({1, 2}));
    QCOMPARE(*f.find("model.layers.3.mlp.down_proj.weight"), std::vector<float>({3}));
    QVERIFY(!f.find("model.embed_tokens.weight")); // llama-imatrix never collects it
}

void TestImatrixFile::quantizesWithTheFilesImportance() {
    const std::int64_t rows = 16, cols = 512;
    const auto w = test::gaussian(static_cast<std::size_t>(rows * cols), 1);
    std::vector<float> imp(static_cast<std::size_t>(cols));
    for (std::int64_t j = 0; j < cols; ++j)
        imp[static_cast<std::size_t>(j)] = j % 16 == 5 ? 400.0f : 1.0f + 0.01f * float(j % 7);
    const MatrixView m{w.data(), rows, cols};
    const ImportanceWeights given{imp, "imatrix.gguf"};
    for (const char* f : {"q4_k", "q3_k", "iq4_xs", "q4_0"}) {
        const Scheme s = *Scheme::parse(std::string(f) + ":imatrix");
        auto q = quantize(s, m, {}, nullptr, &given);
        QVERIFY(q.ok());
        auto bytes = ggmlQuantizeRows(*ggmlTypeForFamily(s.family), m, imp);
        std::vector<float> expected(w.size());
        QVERIFY(ggmlDequantize(*ggmlTypeForFamily(s.family), *bytes, expected).ok());
        QVERIFY2(q->reconstruction == expected, f);
        QVERIFY(q->diagnostics.empty());
    }
    // No entry: the plain format, and a diagnostic saying why.
    const ImportanceWeights none{{}, "imatrix.gguf"};
    auto q = quantize(*Scheme::parse("q4_k:imatrix"), m, {}, nullptr, &none);
    auto plain = quantize(*Scheme::parse("q4_k"), m);
    QVERIFY(q.ok() && plain.ok());
    QVERIFY(q->reconstruction == plain->reconstruction);
    QCOMPARE(q->diagnostics.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(q->diagnostics[0].key), QString("no_importance"));
    // An entry of another width (an expert tensor's, say): not applicable, with the counts.
    std::vector<float> wrong(imp.begin(), imp.begin() + 256);
    const ImportanceWeights other{wrong, "imatrix.gguf"};
    auto n = quantize(*Scheme::parse("q4_k:imatrix"), m, {}, nullptr, &other);
    QVERIFY(!n.ok());
    QCOMPARE(n.error().kind, ErrorKind::NotApplicable);
    QVERIFY2(QString::fromStdString(n.message()).contains("256 importance values"),
             n.message().c_str());
}

// sum_i sum_j imp_j (w - w^)^2 and sum imp_j w^2, by hand, for a scheme with a fused path (q4_0)
// and an imatrix one; the importance-weighted search lowers it.
void TestImatrixFile::importanceGivesEveryScheme_anOutputError() {
    const std::int64_t rows = 8, cols = 256;
    const auto w = test::gaussian(static_cast<std::size_t>(rows * cols), 2);
    std::vector<float> imp(static_cast<std::size_t>(cols));
    for (std::int64_t j = 0; j < cols; ++j)
        imp[static_cast<std::size_t>(j)] = j % 32 == 3 ? 900.0f : 1.0f;
    const ImportanceWeights given{imp, "f"};
    AnalysisOptions o;
    o.importance = &given;
    o.keepReconstruction = true;
    double rel[2] = {};
    int k = 0;
    for (const char* spec : {"q4_0", "q4_0:imatrix"}) {
        auto a = analyzeTensor({w.data(), rows, cols}, *Scheme::parse(spec), o);
        QVERIFY(a.ok());
        QVERIFY2(a->outputError.has_value(), spec);
        double err = 0, ref = 0;
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t j = 0; j < cols; ++j) {
                const auto i = static_cast<std::size_t>(r * cols + j);
                const double d = double(w[i]) - double(a->reconstruction[i]);
                err += imp[static_cast<std::size_t>(j)] * d * d;
                ref += imp[static_cast<std::size_t>(j)] * double(w[i]) * double(w[i]);
            }
        QVERIFY(std::fabs(a->outputError->err - err) <= 1e-9 * err);
        QVERIFY(std::fabs(a->outputError->ref - ref) <= 1e-9 * ref);
        rel[k++] = a->outputError->relative();
    }
    QVERIFY2(rel[1] < 0.9 * rel[0], qPrintable(QString("%1 vs %2").arg(rel[1]).arg(rel[0])));
}

QTEST_APPLESS_MAIN(TestImatrixFile)
#include "test_imatrix_file.moc"
