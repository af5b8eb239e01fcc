// Project files: a saved working state reads back equal, relative paths resolve beside the
// project, and malformed documents are refused with a reason that names the field.

#include "project/project_file.h"
#include "quant/scheme.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace qs;

namespace {

Project fullProject() {
    Project p;
    p.paths = {"/data/models/stories260K.safetensors"};
    p.tensor = "model.layers.0.self_attn.q_proj.weight";
    p.scheme = "nf4:g64:dq";
    p.compareSchemes = {"int4:g64", "nf4:g64", "int4:g32:sym"};
    p.planPath = "/data/plans/plan.json";
    p.sweepSchemes = {"int4:g128", "q4_k", "nf4:g64:dq"};
    p.activations = "/data/act/calib.safetensors";
    p.activationsTensor = "layers.0.input";
    p.activeTab = "compare";
    p.logHistogram = true;
    p.windowState = "AAAA/w==";
    p.windowGeometry = "AdnQywADAAA=";
    return p;
}

} // namespace

class TestProjectFile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void savedProjectReadsBackEqual();
    void specsAreStoredCanonical();
    void minimalDocumentGivesDefaults();
    void relativePathsResolveBesideTheProject();
    void malformedDocumentsAreRefusedWithAReason_data();
    void malformedDocumentsAreRefusedWithAReason();
    void oversizedFileIsRefused();
};

void TestProjectFile::savedProjectReadsBackEqual() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("session.qsproj")).toStdString();
    const Project p = fullProject();
    QVERIFY(saveProject(path, p).ok());
    auto back = loadProject(path);
    QVERIFY2(back.ok(), back.ok() ? "" : back.message().c_str());
    QVERIFY(*back == p);
    QCOMPARE(QString::fromStdString(back->scheme), QStringLiteral("nf4:g64:dq"));
    QCOMPARE(back->compareSchemes.size(), size_t(3));
    QVERIFY(back->logHistogram);
    QCOMPARE(back->sweepSchemes.size(), size_t(3));
    QCOMPARE(back->activationsTensor, std::string("layers.0.input"));
}

void TestProjectFile::specsAreStoredCanonical() {
    auto p = parseProject(R"({"quantscope_project": 1, "scheme": "int4:g64:sym",
                              "compare_schemes": ["nf4:g64"]})");
    QVERIFY2(p.ok(), p.ok() ? "" : p.message().c_str());
    auto again = parseProject(projectToJson(*p));
    QVERIFY(again.ok());
    QVERIFY(*again == *p);
    QCOMPARE(again->scheme, p->scheme);
}

void TestProjectFile::minimalDocumentGivesDefaults() {
    auto p = parseProject(R"({"quantscope_project": 1, "future_field": {"x": 1}})");
    QVERIFY2(p.ok(), p.ok() ? "" : p.message().c_str());
    QVERIFY(p->paths.empty());
    QVERIFY(p->scheme.empty());
    QVERIFY(!p->logHistogram);
    QVERIFY(p->sweepSchemes.empty() && p->activations.empty());
}

void TestProjectFile::relativePathsResolveBesideTheProject() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("p.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"quantscope_project": 1, "paths": ["models/a.safetensors", "/abs/b.gguf"],
               "plan": "plan.json", "sweep": {"activations": "act/x.npy"}})");
    f.close();
    auto p = loadProject(path.toStdString());
    QVERIFY2(p.ok(), p.ok() ? "" : p.message().c_str());
    QCOMPARE(QDir::cleanPath(QString::fromStdString(p->paths[0])),
             QDir::cleanPath(dir.filePath(QStringLiteral("models/a.safetensors"))));
    QCOMPARE(QString::fromStdString(p->paths[1]), QStringLiteral("/abs/b.gguf"));
    QCOMPARE(QDir::cleanPath(QString::fromStdString(p->planPath)),
             QDir::cleanPath(dir.filePath(QStringLiteral("plan.json"))));
    QCOMPARE(QDir::cleanPath(QString::fromStdString(p->activations)),
             QDir::cleanPath(dir.filePath(QStringLiteral("act/x.npy"))));
    // Synthetic activations are a spec, not a path.
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(R"({"quantscope_project": 1, "sweep": {"activations": "synthetic:128:4:20",
               "schemes": ["int4:g64:sym"]}})");
    f.close();
    p = loadProject(path.toStdString());
    QVERIFY2(p.ok(), p.ok() ? "" : p.message().c_str());
    QCOMPARE(p->activations, std::string("synthetic:128:4:20"));
    QCOMPARE(p->sweepSchemes, std::vector<std::string>{Scheme::parse("int4:g64:sym")->toString()});
}

void TestProjectFile::malformedDocumentsAreRefusedWithAReason_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("reason");
    QTest::newRow("not json") << QByteArray("{\"quantscope_project\": 1,") << "not valid JSON";
    QTest::newRow("array") << QByteArray("[1, 2]") << "not a JSON object";
    QTest::newRow("no version") << QByteArray(R"({"paths": []})") << "quantscope_project";
    QTest::newRow("future version")
        << QByteArray(R"({"quantscope_project": 2})") << "version 2 is not supported";
    QTest::newRow("paths not array")
        << QByteArray(R"({"quantscope_project": 1, "paths": "a.gguf"})") << "\"paths\"";
    QTest::newRow("path not string")
        << QByteArray(R"({"quantscope_project": 1, "paths": [3]})") << "\"paths\"";
    QTest::newRow("bad scheme") << QByteArray(R"({"quantscope_project": 1, "scheme": "int99:gx"})")
                                << "\"scheme\"";
    QTest::newRow("bad compare scheme")
        << QByteArray(R"({"quantscope_project": 1, "compare_schemes": ["nope"]})")
        << "\"compare_schemes\"";
    QTest::newRow("four compare schemes")
        << QByteArray(
               R"({"quantscope_project": 1, "compare_schemes": ["nf4", "nf4", "nf4", "nf4"]})")
        << "more than 3";
    QTest::newRow("tensor not string")
        << QByteArray(R"({"quantscope_project": 1, "tensor": {"a": 1}})") << "\"tensor\"";
    QTest::newRow("view not object")
        << QByteArray(R"({"quantscope_project": 1, "view": 3})") << "\"view\"";
    QTest::newRow("log toggle not bool")
        << QByteArray(R"({"quantscope_project": 1, "view": {"log_histogram": "yes"}})")
        << "view.log_histogram";
    QTest::newRow("state not base64")
        << QByteArray(R"({"quantscope_project": 1, "view": {"window_state": "a b<"}})")
        << "view.window_state";
    QTest::newRow("sweep not object")
        << QByteArray(R"({"quantscope_project": 1, "sweep": []})") << "\"sweep\"";
    QTest::newRow("bad sweep scheme")
        << QByteArray(R"({"quantscope_project": 1, "sweep": {"schemes": ["int4", "nope"]}})")
        << "\"sweep.schemes\"";
    QTest::newRow("sweep schemes not array")
        << QByteArray(R"({"quantscope_project": 1, "sweep": {"schemes": "int4"}})")
        << "\"sweep.schemes\"";
    QTest::newRow("activations not string")
        << QByteArray(R"({"quantscope_project": 1, "sweep": {"activations": 4}})")
        << "sweep.activations";
    QTest::newRow("too deep")
        << QByteArray(R"({"quantscope_project": 1, "view": {"tab": [[["tensor"]]]}})")
        << "nested too deeply";
}

void TestProjectFile::malformedDocumentsAreRefusedWithAReason() {
    QFETCH(QByteArray, json);
    QFETCH(QString, reason);
    auto p = parseProject(std::string_view(json.constData(), size_t(json.size())));
    QVERIFY(!p.ok());
    QVERIFY2(QString::fromStdString(p.message()).contains(reason), p.message().c_str());
}

void TestProjectFile::oversizedFileIsRefused() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("big.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(R"({"quantscope_project": 1, "tensor": ")"));
    f.write(QByteArray(int(kMaxProjectBytes), 'a'));
    f.write(QByteArray("\"}"));
    f.close();
    auto p = loadProject(path.toStdString());
    QVERIFY(!p.ok());
    QVERIFY2(QString::fromStdString(p.message()).contains(QStringLiteral("larger than 1 MiB")),
             p.message().c_str());
}

QTEST_GUILESS_MAIN(TestProjectFile)
#include "test_project_file.moc"
