#include "io/checkpoint.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace qs;
using namespace qs::test;

namespace {

void writeText(const QString& path, const std::string& text) {
    std::ofstream(path.toStdString()) << text;
}

} // namespace

class TestSharded : public QObject {
    Q_OBJECT
private slots:
    void indexJoinsShards();
    void directoryWithIndexAndSidecars();
    void directoryWithoutIndexTakesEveryShard();
    void badIndexes_data();
    void badIndexes();
    void emptyDirectory();
    void openingReportsProgressAndCancels();
};

void TestSharded::indexJoinsShards() {
    QTemporaryDir d;
    writeSafetensors(d.filePath("model-00001-of-00002.safetensors").toStdString(),
                     {{"a.weight", "F32", {2, 2}, floatBytes({1, 2, 3, 4})}});
    writeSafetensors(
        d.filePath("model-00002-of-00002.safetensors").toStdString(),
        {{"b.weight", "F32", {2}, floatBytes({5, 6})}, {"c.bias", "F32", {1}, floatBytes({7})}});
    writeText(
        d.filePath("model.safetensors.index.json"),
        R"({"metadata": {"total_size": 28}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                  "b.weight": "model-00002-of-00002.safetensors", "c.bias": "model-00002-of-00002.safetensors"}})");
    auto c = Checkpoint::open(d.filePath("model.safetensors.index.json").toStdString());
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->tensors().size(), size_t(3));
    QCOMPARE(c->fileCount(), size_t(2));
    QCOMPARE(c->metadata().at("shards"), std::string("2"));
    QCOMPARE(c->metadata().at("index.total_size"), std::string("28"));
    QCOMPARE(c->readFloat(*c->find("a.weight")).value(), (std::vector<float>{1, 2, 3, 4}));
    QCOMPARE(c->readFloat(*c->find("c.bias")).value(), std::vector<float>{7});
}

void TestSharded::directoryWithIndexAndSidecars() {
    QTemporaryDir d;
    writeSafetensors(d.filePath("s1.safetensors").toStdString(),
                     {{"x", "F32", {1}, floatBytes({1})}});
    writeSafetensors(d.filePath("s2.safetensors").toStdString(),
                     {{"y", "F32", {1}, floatBytes({2})}});
    writeText(d.filePath("model.safetensors.index.json"),
              R"({"weight_map": {"x": "s1.safetensors", "y": "s2.safetensors"}})");
    writeText(d.filePath("config.json"), R"({"model_type": "llama", "hidden_size": 64})");
    writeText(d.filePath("generation_config.json"), R"({"bos_token_id": 1})");
    auto c = Checkpoint::open(d.path().toStdString());
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->tensors().size(), size_t(2));
    QVERIFY(c->sidecars().at("config.json").find("\"llama\"") != std::string::npos);
    QVERIFY(c->sidecars().count("generation_config.json"));
}

void TestSharded::directoryWithoutIndexTakesEveryShard() {
    QTemporaryDir d;
    writeSafetensors(d.filePath("b.safetensors").toStdString(),
                     {{"y", "F32", {1}, floatBytes({2})}});
    writeSafetensors(d.filePath("a.safetensors").toStdString(),
                     {{"x", "F32", {1}, floatBytes({1})}});
    auto c = Checkpoint::open(d.path().toStdString());
    QVERIFY(c.ok());
    QCOMPARE(c->tensors()[0].name, std::string("x")); // files in name order
    QCOMPARE(c->readFloat(c->tensors()[1]).value(), std::vector<float>{2});
    // The bundled sample's directory opens as a model folder with its config.
    auto sample = Checkpoint::open(sourceDir() + "/resources/samples");
    QVERIFY(sample.ok());
    QCOMPARE(sample->tensors().size(), size_t(47));
    QVERIFY(sample->sidecars().count("config.json"));
}

void TestSharded::badIndexes_data() {
    QTest::addColumn<QString>("index");
    QTest::addColumn<QString>("mustMention");
    QTest::newRow("missing shard") << R"({"weight_map": {"x": "nope.safetensors"}})"
                                   << "cannot open";
    QTest::newRow("tensor not in shard")
        << R"({"weight_map": {"x": "s1.safetensors", "z": "s1.safetensors"}})"
        << "does not hold";
    QTest::newRow("path traversal") << R"({"weight_map": {"x": "../s1.safetensors"}})"
                                    << "not a file beside";
    QTest::newRow("duplicate across shards")
        << R"({"weight_map": {"x": "s1.safetensors", "y": "dup.safetensors"}})"
        << "more than one file";
    QTest::newRow("not a string") << R"({"weight_map": {"x": 3}})"
                                  << "not a file name";
    QTest::newRow("empty map") << R"({"weight_map": {}})"
                               << "empty";
    QTest::newRow("malformed") << R"({"weight_map": {"x": )"
                               << "";
}

void TestSharded::badIndexes() {
    QFETCH(QString, index);
    QFETCH(QString, mustMention);
    QTemporaryDir d;
    writeSafetensors(d.filePath("s1.safetensors").toStdString(),
                     {{"x", "F32", {1}, floatBytes({1})}});
    writeSafetensors(d.filePath("dup.safetensors").toStdString(),
                     {{"x", "F32", {1}, floatBytes({1})}, {"y", "F32", {1}, floatBytes({2})}});
    writeText(d.filePath("m.safetensors.index.json"), index.toStdString());
    auto c = Checkpoint::open(d.filePath("m.safetensors.index.json").toStdString());
    QVERIFY(!c.ok());
    QVERIFY2(QString::fromStdString(c.message()).contains(mustMention), c.message().c_str());
}

void TestSharded::emptyDirectory() {
    QTemporaryDir d;
    auto c = Checkpoint::open(d.path().toStdString());
    QVERIFY(!c.ok());
    QVERIFY(QString::fromStdString(c.message()).contains("index.json"));
}

void TestSharded::openingReportsProgressAndCancels() {
    QTemporaryDir d;
    std::string map;
    for (int i = 0; i < 4; ++i) {
        const std::string shard = "s" + std::to_string(i) + ".safetensors";
        writeSafetensors(d.filePath(QString::fromStdString(shard)).toStdString(),
                         {{"t" + std::to_string(i), "F32", {1}, floatBytes({float(i)})}});
        map += (i ? "," : "") + ("\"t" + std::to_string(i) + "\": \"" + shard + "\"");
    }
    writeText(d.filePath("model.safetensors.index.json"), "{\"weight_map\": {" + map + "}}");
    std::vector<double> seen;
    auto all = Checkpoint::open(d.path().toStdString(), [&](double f) {
        seen.push_back(f);
        return true;
    });
    QVERIFY(all.ok());
    QCOMPARE(seen, (std::vector<double>{0.0, 0.25, 0.5, 0.75}));
    int calls = 0;
    auto cancelled = Checkpoint::open(d.path().toStdString(), [&](double) { return ++calls < 3; });
    QVERIFY(!cancelled.ok());
    QVERIFY(cancelled.error().kind == ErrorKind::Cancelled);
    QCOMPARE(calls, 3); // stopped at the third shard, the fourth was never opened
}

QTEST_APPLESS_MAIN(TestSharded)
#include "test_sharded.moc"
