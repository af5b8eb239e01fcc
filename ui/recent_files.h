#pragma once
// The File → Open Recent list, kept in QSettings: newest first, at most kMaxFiles, and files that
// no longer exist are dropped when the list is read.

#include <QString>
#include <QStringList>

namespace qs {

class RecentFiles {
public:
    static constexpr int kMaxFiles = 8;

    explicit RecentFiles(QString settingsKey = QStringLiteral("recentFiles"));

    QStringList files() const;
    void add(const QString& path);
    void clear();

private:
    void store(const QStringList& files) const;

    QString m_key;
};

} // namespace qs
