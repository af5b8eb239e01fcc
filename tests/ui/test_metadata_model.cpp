// MetadataModel: a well-formed table of the checkpoint's facts followed by its metadata.

#include "models/metadata_model.h"
#include "number_format.h"

#include "test_support.h"
#include <QFileInfo>

#include <QAbstractItemModelTester>
#include <QTest>

using namespace qs;

class TestMetadataModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listsFileFactsThenMetadata();
};

void TestMetadataModel::listsFileFactsThenMetadata() {
    auto opened = Checkpoint::open(test::samplePath());
    QVERIFY(opened.ok());
    MetadataModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCheckpoint(&opened.value());
    QCOMPARE(model.value(QStringLiteral("file format")), QStringLiteral("safetensors"));
    QCOMPARE(model.value(QStringLiteral("tensors")), QStringLiteral("47"));
    QCOMPARE(model.value(QStringLiteral("tensor data")), formatBytes(opened->totalBytes()));
    QCOMPARE(model.value(QStringLiteral("on disk")),
             formatBytes(static_cast<std::uint64_t>(
                 QFileInfo(QString::fromStdString(test::samplePath())).size())));
    QVERIFY(model.value(QStringLiteral("on disk")) != model.value(QStringLiteral("tensor data")));
    QCOMPARE(model.value(QStringLiteral("format")),
             QStringLiteral("pt")); // the file's own metadata
    QVERIFY(model.rowCount() > 5);
    const QModelIndex first = model.index(0, 0);
    QVERIFY(first.data(static_cast<int>(MetadataRole::IsFileFact)).toBool());
    const QModelIndex last = model.index(model.rowCount() - 1, 0);
    QVERIFY(!last.data(static_cast<int>(MetadataRole::IsFileFact)).toBool());
    model.setCheckpoint(nullptr);
    QCOMPARE(model.rowCount(), 0);
}

QTEST_MAIN(TestMetadataModel)
#include "test_metadata_model.moc"
