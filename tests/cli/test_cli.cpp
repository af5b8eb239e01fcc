// quantscope-cli's contract (DESIGN.md): one JSON document with --json, exit 0 on success, a
// non-zero code below 128 and exactly one stderr line on any error.

#include "io/checkpoint.h"
#include "test_support.h"

#include "cli_run.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <QtTest>

#include <algorithm>
#include <random>
#include <set>

namespace {

using Run = qs::test::CliRun;

Run cli(const QStringList& args) {
    return qs::test::runCli(args);
}

QString sample() {
    return QString::fromStdString(qs::test::samplePath());
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void infoListsTensors();
    void statsRows();
    void analyzeResultsAndTotals();
    void analyzeNotesSchemesThatDoNotApply();
    void analyzeGivesTheSameNumbersOnAnyNumberOfThreads();
    void analyzeWithActivationsReportsOutputError();
    void calibratedSchemesBeatRoundToNearestOnSyntheticActivations();
    void levels();
    void dequantWritesNpy();
    void errorsAreOneLineWithExitCodes_data();
    void errorsAreOneLineWithExitCodes();
    void textOutputIsReadable();
    void bench();

private:
    QTemporaryDir m_dir;
};

void TestCli::infoListsTensors() {
    const Run r = cli({"info", sample(), "--json"});
    QCOMPARE(r.code, 0);
    QJsonParseError pe;
    const auto doc = QJsonDocument::fromJson(r.out, &pe);
    QCOMPARE(pe.error, QJsonParseError::NoError); // exactly one document
    const auto j = doc.object();
    QCOMPARE(j["format"].toString(), QString("safetensors"));
    QCOMPARE(j["parameters"].toInteger(), 260032);
    const auto tensors = j["tensors"].toArray();
    QCOMPARE(tensors.size(), 47);
    QJsonObject emb;
    for (const auto& t : tensors)
        if (t.toObject()["name"].toString() == "model.embed_tokens.weight")
            emb = t.toObject();
    QCOMPARE(emb["shape"].toArray(), (QJsonArray{512, 64}));
    QCOMPARE(emb["dtype"].toString(), QString("F32"));
    QCOMPARE(emb["numel"].toInteger(), 32768);
    QCOMPARE(emb["bytes"].toInteger(), 131072);
}

void TestCli::statsRows() {
    const Run r = cli({"stats", sample(), "--tensor", "layers\\.0\\.input_layernorm", "--json"});
    QCOMPARE(r.code, 0);
    const auto rows = r.json()["tensors"].toArray();
    QCOMPARE(rows.size(), 1);
    const auto s = rows[0].toObject();
    for (const char* key : {"name", "shape", "dtype", "numel", "mean", "std", "min", "max",
                            "kurtosis", "absmax", "outlier_share"})
        QVERIFY2(s.contains(key), key);
    QVERIFY(s["min"].toDouble() > 0.45 && s["max"].toDouble() < 2.7);
    QCOMPARE(s["absmax"].toDouble(), s["max"].toDouble());
}

void TestCli::analyzeResultsAndTotals() {
    const Run r = cli(
        {"analyze", sample(), "--scheme", "int4:g64", "--scheme", "INT8:channel:sym", "--json"});
    QCOMPARE(r.code, 0);
    const auto j = r.json();
    const auto results = j["results"].toArray();
    QCOMPARE(results.size(), 2 * 36); // 36 tensors with 2+ dims; 11 norms kept as stored
    QCOMPARE(j["kept"].toArray().size(), 11);
    double sumSqErr = 0, elements = 0;
    for (const auto& v : results) {
        const auto o = v.toObject();
        for (const char* key : {"name", "shape", "scheme", "mse", "rmse", "rel_rmse", "sqnr_db",
                                "max_abs_err", "cosine", "bits_per_weight", "bytes"})
            QVERIFY2(o.contains(key), key);
        QVERIFY(o["scheme"].toString() == "int4:g64" ||
                o["scheme"].toString() == "int8:channel:sym");
        if (o["name"].toString() == "model.layers.0.self_attn.q_proj.weight" &&
            o["scheme"] == "int4:g64") {
            QCOMPARE(o["bits_per_weight"].toDouble(), 4.3125);
            QCOMPARE(o["bytes"].toInteger(), 64 * 64 * 4.3125 / 8);
        }
        if (o["scheme"] == "int4:g64") {
            const double n =
                o["shape"].toArray()[0].toDouble() * o["shape"].toArray()[1].toDouble();
            sumSqErr += o["mse"].toDouble() * n;
            elements += n;
        }
        QVERIFY(o["cosine"].toDouble() > 0.9 && o["cosine"].toDouble() <= 1.0);
    }
    const auto totals = j["totals"].toArray();
    QCOMPARE(totals.size(), 2);
    const auto t4 = totals[0].toObject();
    QCOMPARE(t4["scheme"].toString(), QString("int4:g64"));
    QCOMPARE(t4["elements"].toDouble(), elements);
    QVERIFY(t4["sqnr_db"].toDouble() < totals[1].toObject()["sqnr_db"].toDouble());
    QVERIFY(t4["bits_per_weight"].toDouble() > 4.3 && t4["bits_per_weight"].toDouble() < 4.36);
}

// The sample's rows are 64 or 172 wide: q4_k (256-blocks) applies to none, q8_0 (32-blocks) not
// to the five 172-wide ones. The totals say so, and what llama.cpp does with them instead.
void TestCli::analyzeNotesSchemesThatDoNotApply() {
    const QStringList args{"analyze", sample(), "--scheme", "q4_k", "--scheme", "q8_0"};
    const Run text = cli(args);
    QCOMPARE(text.code, 0);
    QVERIFY2(text.out.contains("  q4_k: n/a for 36 of 36 tensors, left out of the totals "
                               "(llama.cpp stores them as f16 or q5_0; `plan` counts that)\n"),
             text.out.constData());
    // q8_0 has no llama.cpp fallback: llama-quantize stops on such rows (llama_tensor_get_type).
    QVERIFY2(text.out.contains("  q8_0: n/a for 5 of 36 tensors, left out of its totals; "
                               "llama-quantize has no fallback for q8_0 on them and stops\n"),
             text.out.constData());
    const auto totals = cli(args + QStringList{"--json"}).json()["totals"].toArray();
    QCOMPARE(totals.size(), 1); // q4_k has no totals
    QCOMPARE(totals[0].toObject()["scheme"].toString(), QString("q8_0"));
    QCOMPARE(totals[0].toObject()["tensors"].toInt(), 31);
    QCOMPARE(totals[0].toObject()["not_applicable"].toInt(), 5);
    // A scheme that applies to no tensor at all measured nothing: the table says why, the exit
    // code and one line on stderr that the run failed.
    const Run none = cli({"analyze", sample(), "--scheme", "q6_k"});
    QCOMPARE(none.code, 1);
    QVERIFY(none.out.contains("q6_k: n/a for 36 of 36 tensors"));
    QCOMPARE(none.err.count('\n'), 1);
    QVERIFY2(none.err.startsWith("quantscope-cli: nothing measured: q6_k: n/a for 36 of 36"),
             none.err.constData());
}

void TestCli::analyzeGivesTheSameNumbersOnAnyNumberOfThreads() {
    const QStringList args{"analyze", sample(),    "--scheme", "int4:g64", "--scheme",
                           "q4_k",    "--backend", "cpu",      "--json"};
    const Run all = cli(args);
    QCOMPARE(all.code, 0);
    const auto expected = all.json()["results"].toArray();
    QCOMPARE(expected.size(), 2 * 36);
    for (const char* threads : {"1", "8"}) { // 8: more workers than this machine's cores
        const Run r = cli(args + QStringList{"--threads", threads});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.json()["results"].toArray(), expected);
    }
    QCOMPARE(cli(args + QStringList{"--threads", "0"}).code, 2);
}

void TestCli::analyzeWithActivationsReportsOutputError() {
    std::mt19937 rng(1);
    std::normal_distribution<float> n(0.0f, 1.0f);
    std::vector<float> x(16 * 64);
    for (auto& v : x)
        v = n(rng);
    const QString act = m_dir.filePath("act.npy");
    qs::test::writeNpy(act.toStdString(), "<f4", {16, 64}, qs::test::floatBytes(x));
    const Run r = cli({"analyze", sample(), "--scheme", "int4:g64", "--tensor",
                       "layers\\.1\\.self_attn\\.q_proj", "--calib", act, "--json"});
    QCOMPARE(r.code, 0);
    const auto res = r.json()["results"].toArray()[0].toObject();
    QVERIFY(res.contains("out_rel_err"));
    const double e = res["out_rel_err"].toDouble();
    QVERIFY2(e > 0.01 && e < 0.5, QByteArray::number(e));
    // Over the whole model: the totals' output error pools the tensors of the activations'
    // width (64 columns: 31 of 36), so it lies between their smallest and largest.
    const Run all = cli({"analyze", sample(), "--scheme", "int4:g64", "--calib", act, "--json"});
    QCOMPARE(all.code, 0);
    double lo = 1e300, hi = 0;
    int with = 0;
    for (const auto& v : all.json()["results"].toArray())
        if (const auto o = v.toObject(); o.contains("out_rel_err")) {
            lo = std::min(lo, o["out_rel_err"].toDouble());
            hi = std::max(hi, o["out_rel_err"].toDouble());
            ++with;
        }
    QCOMPARE(with, 31);
    const auto total = all.json()["totals"].toArray()[0].toObject();
    QCOMPARE(total["tensors"].toInt(), 36);
    QCOMPARE(total["out_tensors"].toInt(), with);
    const double pooled = total["out_rel_err"].toDouble();
    QVERIFY2(pooled > lo && pooled < hi,
             qPrintable(QString("%1 not in (%2, %3)").arg(pooled).arg(lo).arg(hi)));
}

void TestCli::calibratedSchemesBeatRoundToNearestOnSyntheticActivations() {
    const Run r =
        cli({"analyze", sample(), "--scheme", "gptq4:g64", "--scheme", "awq4:g64", "--scheme",
             "int4:g64", "--scheme", "int4:g64:sym", "--tensor", "layers\\.0\\.self_attn\\.q_proj",
             "--calib", "synthetic:512:4:20", "--json"});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.json()["calib"].toString(), QString("synthetic:512:4:20"));
    const auto results = r.json()["results"].toArray();
    QCOMPARE(results.size(), 4);
    QMap<QString, double> err;
    for (const auto& v : results) {
        const auto o = v.toObject();
        QVERIFY2(o.contains("out_rel_err"), qPrintable(o["scheme"].toString()));
        err[o["scheme"].toString()] = o["out_rel_err"].toDouble();
    }
    qInfo("out_rel_err gptq4:g64 %.4f awq4:g64 %.4f int4:g64 %.4f int4:g64:sym %.4f",
          err["gptq4:g64"], err["awq4:g64"], err["int4:g64"], err["int4:g64:sym"]);
    QVERIFY(err["gptq4:g64"] < err["int4:g64"]);
    QVERIFY(err["gptq4:g64"] < err["int4:g64:sym"]);
    QVERIFY(err["awq4:g64"] < err["int4:g64"]);
}

void TestCli::levels() {
    const Run r = cli({"levels", "--scheme", "int4:sym", "--json"});
    QCOMPARE(r.code, 0);
    const auto j = r.json();
    QCOMPARE(j["scheme"].toString(), QString("int4:channel:sym"));
    const auto lv = j["levels"].toArray();
    QCOMPARE(lv.size(), 15);
    QCOMPARE(lv.first().toDouble(), -7.0);
    QCOMPARE(lv.last().toDouble(), 7.0);
    // Code-valued tables say what their numbers are; levels on [-1, 1] need no note.
    const Run iq4 = cli({"levels", "--scheme", "iq4_nl"});
    QCOMPARE(iq4.code, 0);
    QVERIFY2(iq4.out.contains("-127") && iq4.out.contains("113"), iq4.out.constData());
    QVERIFY2(iq4.out.contains("block's max |w| / 127)"), iq4.out.constData());
    const Run k4 = cli({"levels", "--scheme", "q4_k"});
    QVERIFY2(k4.out.contains("less the block's offset"), k4.out.constData());
    const Run nf4 = cli({"levels", "--scheme", "nf4"});
    QVERIFY2(!nf4.out.contains("codes as stored"), nf4.out.constData());
}

void TestCli::dequantWritesNpy() {
    const QString out = m_dir.filePath("q.npy");
    const Run r = cli({"dequant", sample(), "--tensor", "model.layers.0.mlp.down_proj.weight",
                       "--scheme", "int4:g64", "--out", out, "--json"});
    QCOMPARE(r.code, 0);
    auto c = qs::Checkpoint::open(out.toStdString());
    QVERIFY(c.ok());
    QCOMPARE(c->tensors()[0].shape, (std::vector<std::int64_t>{64, 172}));
    auto values = c->readFloat(c->tensors()[0]);
    QVERIFY(values.ok());
    // int4 asym g64: each group has at most 16 distinct values.
    std::set<float> distinct(values->begin(), values->begin() + 64);
    QVERIFY(distinct.size() <= 16);
    const Run self = cli({"dequant", sample(), "--tensor", "model.norm.weight", "--out", sample()});
    QVERIFY(self.code != 0);
    QVERIFY(self.err.contains("overwrite"));
}

void TestCli::errorsAreOneLineWithExitCodes_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    const QString garbage = m_dir.filePath("garbage.bin");
    QFile g(garbage);
    QVERIFY(g.open(QIODevice::WriteOnly));
    g.write("definitely not a checkpoint");
    g.close();
    QTest::newRow("missing file") << QStringList{"info", "/nonexistent/model.safetensors"} << 3;
    QTest::newRow("unrecognised file") << QStringList{"stats", garbage} << 3;
    QTest::newRow("unknown scheme") << QStringList{"analyze", sample(), "--scheme", "int99"} << 4;
    QTest::newRow("bad option") << QStringList{"levels", "--scheme", "int4:wat"} << 4;
    QTest::newRow("not implemented")
        << QStringList{"analyze", sample(), "--scheme", "autoround4"} << 4;
    QTest::newRow("needs activations")
        << QStringList{"analyze", sample(), "--scheme", "gptq4"} << 4;
    QTest::newRow("bad synthetic activations")
        << QStringList{"analyze", sample(), "--scheme", "gptq4", "--calib", "synthetic:0:4:20"}
        << 2;
    QTest::newRow("tensor not found") << QStringList{"stats", sample(), "--tensor", "^nope$"} << 5;
    QTest::newRow("dequant tensor not found")
        << QStringList{"dequant", sample(), "--tensor", "nope", "--out", m_dir.filePath("x.npy")}
        << 5;
    QTest::newRow("bad regex") << QStringList{"stats", sample(), "--tensor", "("} << 2;
    QTest::newRow("unknown subcommand") << QStringList{"frobnicate"} << 2;
    QTest::newRow("missing argument") << QStringList{"analyze", sample()} << 2;
    QTest::newRow("bench bad shape")
        << QStringList{"bench", "--scheme", "int4", "--shape", "64by64"} << 2;
    QTest::newRow("bench calibrated")
        << QStringList{"bench", "--scheme", "gptq4:g64", "--shape", "64x64"} << 4;
    QTest::newRow("bench quantize stage of a non-ggml scheme")
        << QStringList{"bench", "--scheme", "int4", "--shape", "64x64", "--stage", "quantize"} << 1;
}

void TestCli::errorsAreOneLineWithExitCodes() {
    QFETCH(QStringList, args);
    QFETCH(int, code);
    const Run r = cli(args + QStringList{"--json"});
    QCOMPARE(r.code, code);
    QVERIFY(r.code > 0 && r.code < 128);
    QVERIFY2(r.err.trimmed().count('\n') == 0 && !r.err.trimmed().isEmpty(), r.err.constData());
    QVERIFY2(r.out.isEmpty(), r.out.constData());
}

void TestCli::textOutputIsReadable() {
    const Run r = cli({"analyze", sample(), "--scheme", "int4:g64", "--tensor", "q_proj"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("model.layers.4.self_attn.q_proj.weight"));
    QVERIFY(r.out.contains("Totals"));
    QVERIFY(r.out.contains("4.3125"));
}

void TestCli::bench() {
    const Run r = cli({"bench", "--scheme", "int4:g128", "--shape", "64x256", "--repeat", "3",
                       "--warmup", "1", "--json"});
    QCOMPARE(r.code, 0);
    const auto j = r.json();
    QCOMPARE(j["scheme"].toString(), QString("int4:g128"));
    QCOMPARE(j["backend"].toString(), QString("cpu"));
    QCOMPARE(j["path"].toString(), QString("fused"));
    QCOMPARE(j["elements"].toInteger(), 64 * 256);
    QCOMPARE(j["input_bytes"].toInteger(), 64 * 256 * 4);
    QCOMPARE(j["times_ms"].toArray().size(), 3);
    QVERIFY(j["median_ms"].toDouble() > 0);
    QVERIFY(j["input_gbps"].toDouble() > 0);
    QVERIFY(!j["device"].toString().isEmpty());
    QVERIFY(j["sqnr_db"].toDouble() > 15 && j["sqnr_db"].toDouble() < 25); // int4 on Gaussian

    // No CUDA kernels in this build: a note, and the CPU answers.
    const Run cuda = cli({"bench", "--scheme", "q4_k", "--shape", "8x256", "--dtype", "bf16",
                          "--backend", "cuda", "--repeat", "1", "--json"});
    QCOMPARE(cuda.code, 0);
    QVERIFY(cuda.err.contains("CPU"));
    QCOMPARE(cuda.json()["backend"].toString(), QString("cpu"));
    QCOMPARE(cuda.json()["input_bytes"].toInteger(), 8 * 256 * 2);

    const Run q = cli({"bench", "--scheme", "q8_0", "--shape", "16x64", "--stage", "quantize",
                       "--threads", "1", "--repeat", "2", "--json"});
    QCOMPARE(q.code, 0);
    QCOMPARE(q.json()["path"].toString(), QString("ggml quantizer"));
    QCOMPARE(q.json()["threads"].toInt(), 1);
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
