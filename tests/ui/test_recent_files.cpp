// RecentFiles: newest first, no duplicates, at most kMaxFiles, missing files dropped.

#include "recent_files.h"

#include <QFile>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace qs;

class TestRecentFiles : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void keepsTheNewestFirstWithoutDuplicates();
    void forgetsFilesThatNoLongerExist();

private:
    QString touch(const QString& name);
    QTemporaryDir m_dir;
};

void TestRecentFiles::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("QuantscopeTest"));
    QCoreApplication::setApplicationName(QStringLiteral("test_recent_files"));
    QVERIFY(m_dir.isValid());
}

QString TestRecentFiles::touch(const QString& name) {
    const QString path = m_dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        qFatal("cannot create %s", qPrintable(path));
    return path;
}

void TestRecentFiles::keepsTheNewestFirstWithoutDuplicates() {
    RecentFiles recent(QStringLiteral("test/recent"));
    recent.clear();
    QStringList added;
    for (int i = 0; i < RecentFiles::kMaxFiles + 3; ++i) {
        added.prepend(touch(QStringLiteral("f%1.safetensors").arg(i)));
        recent.add(added.front());
    }
    recent.add(added.at(2));
    const QStringList files = recent.files();
    QCOMPARE(files.size(), RecentFiles::kMaxFiles);
    QCOMPARE(files.front(), added.at(2));
    QCOMPARE(files.at(1), added.at(0));
    QCOMPARE(files.count(added.at(2)), 1);
}

void TestRecentFiles::forgetsFilesThatNoLongerExist() {
    RecentFiles recent(QStringLiteral("test/recent"));
    recent.clear();
    const QString kept = touch(QStringLiteral("kept.npy"));
    const QString gone = touch(QStringLiteral("gone.npy"));
    recent.add(kept);
    recent.add(gone);
    QVERIFY(QFile::remove(gone));
    QCOMPARE(recent.files(), QStringList{kept});
    QCOMPARE(QSettings().value(QStringLiteral("test/recent")).toStringList(), QStringList{kept});
}

QTEST_MAIN(TestRecentFiles)
#include "test_recent_files.moc"
