#include "recent_files.h"

#include <QFileInfo>
#include <QSettings>

namespace qs {

RecentFiles::RecentFiles(QString settingsKey) : m_key(std::move(settingsKey)) {}

QStringList RecentFiles::files() const {
    const QStringList stored = QSettings().value(m_key).toStringList();
    QStringList existing;
    for (const QString& f : stored)
        if (QFileInfo::exists(f) && !existing.contains(f))
            existing.append(f);
    if (existing != stored)
        store(existing);
    return existing;
}

void RecentFiles::add(const QString& path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList list = files();
    list.removeAll(absolute);
    list.prepend(absolute);
    while (list.size() > kMaxFiles)
        list.removeLast();
    store(list);
}

void RecentFiles::clear() {
    store({});
}

void RecentFiles::store(const QStringList& files) const {
    QSettings().setValue(m_key, files);
}

} // namespace qs
