// quantscope-cli memory and plan against the DESIGN.md contract: the JSON fields, the figures
// for published configs, plan files that hold their budget, and one-line errors.

#include "test_support.h"

#include "cli_run.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <QtTest>

#include <set>

namespace {

using Run = qs::test::CliRun;

Run cli(const QStringList& args) {
    return qs::test::runCli(args);
}

QString config(const char* model) {
    return QString::fromStdString(qs::test::sourceDir()) + "/tests/data/configs/" + model +
           "/config.json";
}

QString sample() {
    return QString::fromStdString(qs::test::samplePath());
}

const QString kCandidates =
    "int3:g64,int4:g64,int5:g64,int6:g64,int8:channel:sym,nf4:g64,q4_0,q8_0";

} // namespace

class TestCliPlanning : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void memoryFromPublishedConfigs_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("context");
        QTest::addColumn<qint64>("params");
        QTest::addColumn<qint64>("kvBytes");
        QTest::newRow("Llama-3.1-8B, 8192 tokens: 1 GiB")
            << config("llama-3.1-8b") << "8192" << qint64(8'030'261'248) << (qint64(1) << 30);
        QTest::newRow("Qwen2.5-0.5B, 32768 tokens: 384 MiB")
            << config("qwen2.5-0.5b") << "32768" << qint64(494'032'768) << (qint64(384) << 20);
        QTest::newRow("DeepSeek-V3 MLA, one token: 61 x 576 x 2")
            << config("deepseek-v3") << "1" << qint64(671'026'419'200) << qint64(61 * 576 * 2);
    }

    void memoryFromPublishedConfigs() {
        QFETCH(QString, model);
        QFETCH(QString, context);
        QFETCH(qint64, params);
        QFETCH(qint64, kvBytes);
        const Run r = cli({"memory", "--config", model, "--context", context, "--json"});
        QCOMPARE(r.code, 0);
        const auto j = r.json();
        for (const char* key : {"params", "weights_bytes", "kv_cache_bytes", "activation_bytes",
                                "total_bytes", "fits"})
            QVERIFY2(j.contains(key), key);
        QCOMPARE(j["params"].toInteger(), params);
        QCOMPARE(j["kv_cache_bytes"].toInteger(), kvBytes);
        QCOMPARE(j["total_bytes"].toInteger(), j["weights_bytes"].toInteger() +
                                                   j["kv_cache_bytes"].toInteger() +
                                                   j["activation_bytes"].toInteger());
        const auto fits = j["fits"].toArray();
        QVERIFY(fits.size() >= 10);
        std::set<QString> names;
        for (const auto& f : fits) {
            const auto o = f.toObject();
            names.insert(o["name"].toString());
            QVERIFY(o["memory_bytes"].toInteger() > 0);
            QCOMPARE(o["fits"].toBool(),
                     j["total_bytes"].toInteger() <= o["usable_bytes"].toInteger());
        }
        for (const char* gpu : {"RTX 3060 12 GB", "RTX 4090 24 GB", "L4 24 GB", "A100 40 GB",
                                "A100 80 GB", "H100 80 GB", "H200 141 GB", "B200 192 GB"})
            QVERIFY2(names.count(gpu), gpu);
    }

    void memoryOfACheckpointUnderAPlan() {
        const QString planPath = m_dir.filePath("sample-plan.json");
        Run r = cli({"plan", sample(), "--budget-bpw", "4.5", "--candidates", kCandidates, "--out",
                     planPath, "--json"});
        QCOMPARE(r.code, 0);
        const qint64 modelBytes = r.json()["model_bytes"].toInteger();
        r = cli({"memory", sample(), "--plan", planPath, "--json"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.json()["params"].toInteger(), 260032);
        QCOMPARE(r.json()["weights_bytes"].toInteger(), modelBytes);
        QVERIFY(r.json()["kv_cache_bytes"].toInteger() > 0); // config.json beside the sample
        r = cli({"memory", "--params", "7B", "--scheme", "nf4:g64", "--json"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.json()["weights_bytes"].toInteger(), qint64(7'000'000'000) * 45 / 80);
    }

    void planIsMixedAndBeatsFittingUniformSchemes() {
        const QString out = m_dir.filePath("plan.json");
        const Run r = cli({"plan", sample(), "--budget-bpw", "4.5", "--candidates", kCandidates,
                           "--keep", ".*embed_tokens.*=q8_0", "--out", out, "--json"});
        QCOMPARE(r.code, 0);
        const auto j = r.json();
        QVERIFY(j["bits_per_weight"].toDouble() <= 4.5);
        std::set<QString> used;
        for (const auto& t : j["tensors"].toArray())
            used.insert(t.toObject()["scheme"].toString());
        QVERIFY(used.size() >= 2);
        for (const auto& u : j["uniform"].toArray()) {
            const auto o = u.toObject();
            if (o["fits_budget"].toBool())
                QVERIFY(j["rel_rmse"].toDouble() < o["rel_rmse"].toDouble());
        }
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto plan = QJsonDocument::fromJson(f.readAll()).object();
        for (const char* key : {"budget_bpw", "bits_per_weight", "rel_rmse", "default", "tensors"})
            QVERIFY2(plan.contains(key), key);
        QCOMPARE(plan["budget_bpw"].toDouble(), 4.5);
        QCOMPARE(plan["tensors"].toObject()["model.embed_tokens.weight"].toString(),
                 QString("q8_0"));
        QCOMPARE(plan["tensors"].toObject().size(), 36); // 1-D tensors are not planned
    }

    // With activations (synthetic, outlier channels) the plan minimises the output error by
    // default: lower output error than the weight-error plan at the same budget, higher weight
    // error, and both plans and the files say what they minimised.
    void planMinimisesTheOutputErrorWithActivations() {
        const QString out = m_dir.filePath("out-plan.json");
        const QStringList common{"plan",         sample(),
                                 "--budget-bpw", "4.0",
                                 "--calib",      "synthetic:256:4:20",
                                 "--candidates", kCandidates + ",int4:g128,q4_k,mulaw4:g64"};
        const Run o = cli(common + QStringList{"--out", out, "--json"});
        QCOMPARE(o.code, 0);
        const Run w = cli(common + QStringList{"--objective", "weight", "--out",
                                               m_dir.filePath("w-plan.json"), "--json"});
        QCOMPARE(w.code, 0);
        const auto oj = o.json(), wj = w.json();
        QCOMPARE(oj["objective"].toString(), QString("output_error"));
        QCOMPARE(wj["objective"].toString(), QString("weight_error"));
        const double oOut = oj["out_rel_err"].toDouble(), wOut = wj["out_rel_err"].toDouble();
        qInfo("output plan: out %.5f rel_rmse %.5f; weight plan: out %.5f rel_rmse %.5f", oOut,
              oj["rel_rmse"].toDouble(), wOut, wj["rel_rmse"].toDouble());
        QVERIFY(oOut > 0 && oOut < wOut * 0.97);
        QVERIFY(wj["rel_rmse"].toDouble() < oj["rel_rmse"].toDouble());
        for (const auto& t : oj["tensors"].toArray())
            QVERIFY(t.toObject()["out_rel_err"].toDouble() > 0);
        for (const auto& u : oj["uniform"].toArray()) {
            const auto p = u.toObject();
            QVERIFY(p.contains("out_rel_err") && !p.contains("rel_rmse"));
            if (p["fits_budget"].toBool())
                QVERIFY(oOut < p["out_rel_err"].toDouble());
        }
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto plan = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(plan["objective"].toString(), QString("output_error"));
        QCOMPARE(plan["out_rel_err"].toDouble(), oOut);
        // Activations of a width no tensor has are refused.
        const std::string wide = m_dir.filePath("wide.npy").toStdString();
        qs::test::writeNpy(wide, "<f4", {4, 100}, std::vector<std::uint8_t>(4 * 100 * 4, 0));
        const Run bad =
            cli({"plan", sample(), "--budget-bpw", "4", "--candidates", "int4:g64", "--calib",
                 QString::fromStdString(wide), "--out", "/tmp/qs-never-written.json"});
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains("100 features fit no quantized tensor"), bad.err.constData());
        QVERIFY(!QFile::exists("/tmp/qs-never-written.json"));
    }

    void errorsAreOneLineWithExitCodes_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::newRow("memory without a model") << QStringList{"memory"} << 2;
        QTest::newRow("memory with two models")
            << QStringList{"memory", "--params", "7B", "--config", config("qwen2.5-0.5b")} << 2;
        QTest::newRow("memory bad config") << QStringList{"memory", "--config", sample()} << 3;
        QTest::newRow("memory bad kv dtype")
            << QStringList{"memory", "--params", "7B", "--kv-dtype", "q5_1"} << 2;
        QTest::newRow("train with a scheme")
            << QStringList{"memory", "--params", "7B", "--mode", "train", "--scheme", "int4"} << 2;
        QTest::newRow("plan budget too low")
            << QStringList{"plan",         sample(),   "--budget-bpw", "1",
                           "--candidates", "int4:g64", "--out",        "/tmp/qs-never-written.json"}
            << 2;
        for (const char* bad : {"0", "-1", "abc"})
            QTest::newRow(qPrintable(QString("plan budget-bpw %1").arg(bad)))
                << QStringList{"plan",         sample(),
                               "--budget-bpw", bad,
                               "--candidates", "int4:g64",
                               "--out",        "/tmp/qs-never-written.json"}
                << 2;
        QTest::newRow("plan keep bad spec")
            << QStringList{"plan",         sample(),
                           "--budget-bpw", "4",
                           "--candidates", "int4:g64",
                           "--keep",       "embed_tokens=int9",
                           "--out",        "/tmp/qs-never-written.json"}
            << 4;
        QTest::newRow("plan unknown candidate")
            << QStringList{"plan",         sample(),
                           "--budget-bpw", "4",
                           "--candidates", "int4,bogus9",
                           "--out",        "/tmp/qs-never-written.json"}
            << 4;
        QTest::newRow("plan output objective without activations")
            << QStringList{"plan",         sample(),
                           "--budget-bpw", "4",
                           "--candidates", "int4:g64",
                           "--objective",  "output",
                           "--out",        "/tmp/qs-never-written.json"}
            << 2;
        QTest::newRow("plan objective unknown")
            << QStringList{"plan",         sample(),
                           "--budget-bpw", "4",
                           "--candidates", "int4:g64",
                           "--objective",  "speed",
                           "--out",        "/tmp/qs-never-written.json"}
            << 2;
        QTest::newRow("plan overwriting its input")
            << QStringList{"plan",         sample(),   "--budget-bpw", "4",
                           "--candidates", "int4:g64", "--out",        sample()}
            << 6;
    }

    void errorsAreOneLineWithExitCodes() {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        const Run r = cli(args);
        QCOMPARE(r.code, code);
        QCOMPARE(r.err.count('\n'), 1);
        if (QByteArray(QTest::currentDataTag()) == "plan keep bad spec") // says why
            QVERIFY2(r.err.contains("int takes 2..8 bits"), r.err.constData());
        if (QByteArray(QTest::currentDataTag()).startsWith("plan budget-bpw ")) // not 300 digits
            QVERIFY2(r.err.contains("must be a number greater than 0") && r.err.size() < 120,
                     r.err.constData());
        QVERIFY(r.out.isEmpty());
        QVERIFY(!QFile::exists("/tmp/qs-never-written.json"));
    }

    void textOutputIsReadable() {
        Run r = cli({"memory", "--config", config("llama-3.1-8b"), "--context", "8192"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("8,030,261,248 parameters"));
        QVERIFY(r.out.contains("kv cache"));
        QVERIFY(r.out.contains("H100 80 GB"));
        // stories260K allows 512 positions: the default context is cut to it, and a longer one
        // asked for is priced but flagged.
        const QString tiny =
            QString::fromStdString(qs::test::sourceDir()) + "/resources/samples/config.json";
        r = cli({"memory", "--config", tiny});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("context 512 x batch 1"));
        QVERIFY(r.out.contains("context 512: the model's max_position_embeddings"));
        r = cli({"memory", "--config", tiny, "--context", "100000"});
        QVERIFY(r.out.contains("context 100000 x batch 1"));
        QVERIFY(r.out.contains("is past the model's max_position_embeddings of 512"));
        r = cli({"plan", sample(), "--budget-bpw", "4.5", "--candidates", kCandidates, "--out",
                 m_dir.filePath("text-plan.json"), "--pareto"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("uniform scheme"));
        QVERIFY(r.out.contains("Pareto curve"));
        // A keep rule that matches nothing (no lm_head: the sample ties its embeddings) is said.
        r = cli({"plan", sample(), "--budget-bpw", "5", "--candidates", "int4:g64,int8:channel",
                 "--keep", "lm_head.*=q8_0", "--out", m_dir.filePath("unmatched.json")});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("note: --keep 'lm_head.*=q8_0' matched no quantized tensor"));
    }

private:
    QTemporaryDir m_dir;
};

QTEST_APPLESS_MAIN(TestCliPlanning)
#include "test_cli_planning.moc"
