// The house rule that core/ has no Qt: every file under core/ is scanned for Qt includes.

#include "test_support.h"

#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QtTest>

class TestCoreLayering : public QObject {
    Q_OBJECT
private slots:
    void coreIncludesNoQtHeader();
};

void TestCoreLayering::coreIncludesNoQtHeader() {
    const QString core = QString::fromStdString(qs::test::sourceDir()) + "/core";
    QVERIFY(QFile::exists(core));
    const QRegularExpression qtInclude(R"(#\s*include\s*[<"](Q[A-Z]\w*|Qt\w*/))");
    int scanned = 0;
    QDirIterator it(core, {"*.h", "*.cpp", "*.cu", "*.cuh"}, QDir::Files,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString file = it.next();
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY2(!qtInclude.match(text).hasMatch(), qPrintable(file + " includes a Qt header"));
        ++scanned;
    }
    QVERIFY(scanned > 10);
}

QTEST_APPLESS_MAIN(TestCoreLayering)
#include "test_core_layering.moc"
