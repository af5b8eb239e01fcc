// quantscope-cli with a llama.cpp importance matrix (--imatrix FILE, llama-imatrix's GGUF
// layout built by the test): analyze quantizes q4_0:imatrix with each tensor's entry (found by
// its llama.cpp name) and gives every scheme the output error the file implies; a tensor the
// file has no entry for is quantized plainly, as llama-quantize does, and says so; plan
// minimises that output error; and the errors are one line with the contract's exit codes.

#include "test_support.h"

#include "cli_run.h"
#include "fixture_imatrix.h"
#include "io/checkpoint.h"
#include "quant/ggml_quant.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>

namespace {

using Run = qs::test::CliRun;

QString sample() {
    return QString::fromStdString(qs::test::samplePath());
}

// What llama-imatrix collects on the sample (5 layers; every matmul input but the embedding's):
// mean squares with every 8th input channel 100 times louder, over 40 tokens.
std::vector<std::uint8_t> sampleImatrix() {
    std::vector<qs::test::ImatrixFixtureEntry> entries;
    const std::pair<const char*, int> kinds[] = {
        {"attn_q", 64},   {"attn_k", 64}, {"attn_v", 64},   {"attn_output", 64},
        {"ffn_gate", 64}, {"ffn_up", 64}, {"ffn_down", 172}};
    for (int layer = 0; layer < 5; ++layer)
        for (const auto& [kind, cols] : kinds) {
            qs::test::ImatrixFixtureEntry e;
            e.name = "blk." + std::to_string(layer) + "." + kind + ".weight";
            e.counts = {40};
            for (int j = 0; j < cols; ++j)
                e.sums.push_back(40.0f * (j % 8 == 3 ? 100.0f : 1.0f + 0.1f * float(j % 5)));
            entries.push_back(std::move(e));
        }
    return qs::test::imatrixGguf(entries, 1, "tiny.txt");
}

QJsonObject find(const QJsonArray& rows, const QString& name, const QString& scheme) {
    for (const auto& r : rows) {
        const auto o = r.toObject();
        if (o["name"].toString() == name && o["scheme"].toString() == scheme)
            return o;
    }
    return {};
}

QJsonObject total(const QJsonArray& totals, const QString& scheme) {
    for (const auto& t : totals)
        if (t.toObject()["scheme"].toString() == scheme)
            return t.toObject();
    return {};
}

} // namespace

class TestCliImatrix : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_imatrix = m_dir.filePath("imatrix.gguf");
        qs::test::writeBytes(m_imatrix.toStdString(), sampleImatrix());
    }

    void analyzeQuantizesWithTheFile() {
        const Run r = qs::test::runCli({"analyze", sample(), "--scheme", "q4_0", "--scheme",
                                        "q4_0:imatrix", "--imatrix", m_imatrix, "--json"});
        QCOMPARE(r.code, 0);
        const auto j = r.json();
        QCOMPARE(j["imatrix"].toObject()["entries"].toInt(), 35);
        QCOMPARE(j["imatrix"].toObject()["format"].toString(), QString("gguf"));
        const auto results = j["results"].toArray();
        const QString q = "model.layers.2.self_attn.q_proj.weight";
        const double plain = find(results, q, "q4_0")["out_rel_err"].toDouble();
        const double weighted = find(results, q, "q4_0:imatrix")["out_rel_err"].toDouble();
        QVERIFY2(weighted > 0 && weighted < 0.9 * plain,
                 qPrintable(QString("%1 vs %2").arg(weighted).arg(plain)));
        // The embedding has no entry: quantized as plain q4_0, and the row says so.
        const QString e = "model.embed_tokens.weight";
        const auto embPlain = find(results, e, "q4_0"),
                   embWeighted = find(results, e, "q4_0:imatrix");
        QCOMPARE(embWeighted["rel_rmse"].toDouble(), embPlain["rel_rmse"].toDouble());
        QCOMPARE(embWeighted["diagnostics"].toObject()["no_importance"].toDouble(), 1.0);
        QVERIFY(!embWeighted.contains("out_rel_err"));
        const auto totals = j["totals"].toArray();
        const auto tp = total(totals, "q4_0"), tw = total(totals, "q4_0:imatrix");
        QCOMPARE(tp["out_tensors"].toInt(), 30); // the 64-wide matrices (ffn_down: n/a)
        QCOMPARE(tw["out_tensors"].toInt(), 30);
        QVERIFY(tw["out_rel_err"].toDouble() < 0.9 * tp["out_rel_err"].toDouble());
        QVERIFY(tw["rel_rmse"].toDouble() > tp["rel_rmse"].toDouble()); // the weights pay
        // The text report names the file and the tensors without an entry.
        const Run t = qs::test::runCli(
            {"analyze", sample(), "--scheme", "q4_0:imatrix", "--imatrix", m_imatrix});
        QCOMPARE(t.code, 0);
        QVERIFY2(t.out.contains("1 of 36 tensors have no entry"), t.out.constData());
    }

    void planMinimisesTheOutputErrorTheFileImplies() {
        const QStringList base{"plan",      sample(),  "--budget-bpw", "4.6",
                               "--imatrix", m_imatrix, "--json",       "--out"};
        const QString others = "q8_0,int4:g64,int8:channel:sym";
        const Run with =
            qs::test::runCli(base + QStringList{m_dir.filePath("a.json"), "--candidates",
                                                "q4_0,q4_0:imatrix," + others});
        const Run without = qs::test::runCli(
            base + QStringList{m_dir.filePath("b.json"), "--candidates", "q4_0," + others});
        QCOMPARE(with.code, 0);
        QCOMPARE(without.code, 0);
        const auto a = with.json(), b = without.json();
        QCOMPARE(a["objective"].toString(), QString("output_error"));
        QCOMPARE(a["imatrix"].toString(), m_imatrix);
        int weighted = 0;
        for (const auto& t : a["tensors"].toArray())
            weighted += t.toObject()["scheme"].toString() == "q4_0:imatrix";
        QVERIFY(weighted > 0);
        QVERIFY2(a["out_rel_err"].toDouble() < b["out_rel_err"].toDouble(),
                 qPrintable(QString("%1 vs %2")
                                .arg(a["out_rel_err"].toDouble())
                                .arg(b["out_rel_err"].toDouble())));
    }

    // GGUF export quantizes with each tensor's entry: the bytes are ggml's quantize_q4_0 given
    // it (v_proj: stored as it is, no q/k row permutation), not the plain ones; the embedding,
    // without an entry, is listed. Without the file the export refuses, naming --imatrix.
    void ggufExportUsesTheFile() {
        const QString out = m_dir.filePath("model.gguf");
        const QStringList args{"export", sample(), "--scheme", "q4_0:imatrix", "--to",
                               "gguf",   "--out",  out,        "--json"};
        const Run refused = qs::test::runCli(args);
        QCOMPARE(refused.code, 4);
        QVERIFY2(refused.err.contains("--imatrix FILE, or the Model tab"), refused.err.constData());
        QVERIFY(!QFile::exists(out));
        const Run r = qs::test::runCli(args + QStringList{"--imatrix", m_imatrix});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("no entry in") && r.out.contains("token_embd.weight"),
                 r.out.constData());

        auto src = qs::Checkpoint::open(qs::test::samplePath()).value();
        auto gguf = qs::Checkpoint::open(out.toStdString()).value();
        const qs::TensorInfo* v = src.find("model.layers.1.self_attn.v_proj.weight");
        const qs::TensorInfo* stored = gguf.find("blk.1.attn_v.weight");
        QVERIFY(v && stored);
        auto values = src.readFloat(*v).value();
        std::vector<float> importance;
        for (int j = 0; j < 64; ++j) // in_sum2 / counts, as the file holds them
            importance.push_back(40.0f * (j % 8 == 3 ? 100.0f : 1.0f + 0.1f * float(j % 5)) /
                                 40.0f);
        const qs::MatrixView m{values.data(), v->rows(), v->cols()};
        const auto expected = qs::ggmlQuantizeRows(qs::GgmlType::Q4_0, m, importance).value();
        const auto plain = qs::ggmlQuantizeRows(qs::GgmlType::Q4_0, m).value();
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.seek(static_cast<qint64>(stored->offset)));
        const QByteArray bytes = f.read(static_cast<qint64>(stored->nbytes));
        QCOMPARE(bytes.size(), static_cast<int>(expected.size()));
        QVERIFY(std::memcmp(bytes.constData(), expected.data(), expected.size()) == 0);
        QVERIFY(expected != plain);

        // dequant writes the same reconstruction (and gptq there now takes --calib too).
        const QString npy = m_dir.filePath("v.npy");
        const Run d = qs::test::runCli({"dequant", sample(), "--tensor",
                                        QString::fromStdString(v->name), "--scheme", "q4_0:imatrix",
                                        "--imatrix", m_imatrix, "--out", npy, "--json"});
        QCOMPARE(d.code, 0);
        QVERIFY(d.json()["out_rel_err"].toDouble() > 0);
        std::vector<float> decoded(values.size());
        QVERIFY(qs::ggmlDequantize(qs::GgmlType::Q4_0, expected, decoded).ok());
        auto written = qs::Checkpoint::open(npy.toStdString()).value();
        QCOMPARE(written.readFloat(written.tensors().front()).value(), decoded);
        const Run g = qs::test::runCli(
            {"dequant", sample(), "--tensor", QString::fromStdString(v->name), "--scheme",
             "gptq4:g64", "--calib", "synthetic:32:2:10", "--out", m_dir.filePath("g.npy")});
        QCOMPARE(g.code, 0);
    }

    // The llama-quantize command passes the file (or makes one with llama-imatrix first).
    void llamaQuantizeCommandPassesTheImatrix() {
        const QString sh = m_dir.filePath("q.sh");
        const QStringList args{"export", sample(),   "--scheme", "q4_0:imatrix",
                               "--to",   "llamacpp", "--out",    sh};
        const Run given = qs::test::runCli(args + QStringList{"--imatrix", m_imatrix});
        QCOMPARE(given.code, 0);
        QFile a(sh);
        QVERIFY(a.open(QIODevice::ReadOnly));
        const QString withFile = a.readAll();
        QVERIFY2(withFile.contains("llama-quantize --pure --imatrix " + m_imatrix + " "),
                 qPrintable(withFile));
        QVERIFY(!withFile.contains("llama-imatrix"));
        a.close();
        const Run made = qs::test::runCli(args);
        QCOMPARE(made.code, 0);
        QVERIFY(a.open(QIODevice::ReadOnly));
        const QString withLine = a.readAll();
        QVERIFY2(withLine.contains("llama-imatrix -m stories260K-f32.gguf -f calibration.txt -o "
                                   "stories260K.imatrix.gguf\n") &&
                     withLine.contains("--imatrix stories260K.imatrix.gguf"),
                 qPrintable(withLine));
        QVERIFY(made.out.contains("to supply: calibration.txt"));
    }

    void errorsAreOneLine() {
        const Run none = qs::test::runCli({"analyze", sample(), "--scheme", "q4_0:imatrix"});
        QCOMPARE(none.code, 4);
        QVERIFY2(none.err.contains("pass --calib ACT or --imatrix FILE"), none.err.constData());
        const Run both = qs::test::runCli({"analyze", sample(), "--scheme", "q4_0:imatrix",
                                           "--imatrix", m_imatrix, "--calib", "synthetic:8:1:5"});
        QCOMPARE(both.code, 2);
        const QString bad = m_dir.filePath("bad.dat");
        qs::test::writeBytes(bad.toStdString(), {1, 0, 0, 0, 50, 0, 0, 0, 'b', 'l', 'k'});
        for (const char* cmd : {"analyze", "plan"}) {
            QStringList args{cmd, sample(), "--imatrix", bad};
            args << (QString(cmd) == "analyze"
                         ? QStringList{"--scheme", "q4_0:imatrix"}
                         : QStringList{"--budget-bpw", "5", "--candidates", "q4_0:imatrix,q8_0",
                                       "--out", m_dir.filePath("never.json")});
            const Run r = qs::test::runCli(args);
            QCOMPARE(r.code, 3);
            QVERIFY2(r.err.trimmed().count('\n') == 0 && r.err.contains(bad.toUtf8()),
                     r.err.constData());
        }
        QVERIFY(!QFile::exists(m_dir.filePath("never.json")));
        // gptq still needs activations: an importance matrix is not enough.
        const Run gptq = qs::test::runCli(
            {"analyze", sample(), "--scheme", "gptq4:g64", "--imatrix", m_imatrix});
        QCOMPARE(gptq.code, 4);
        QVERIFY2(gptq.err.contains("pass --calib ACT") && !gptq.err.contains("--imatrix"),
                 gptq.err.constData());
    }

private:
    QTemporaryDir m_dir;
    QString m_imatrix;
};

QTEST_APPLESS_MAIN(TestCliImatrix)
#include "test_cli_imatrix.moc"
