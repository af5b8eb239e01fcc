#include "models/metadata_model.h"

#include "number_format.h"

#include <QFileInfo>
#include <QFont>

namespace qs {

MetadataModel::MetadataModel(QObject* parent) : QAbstractTableModel(parent) {}

void MetadataModel::setCheckpoint(const Checkpoint* checkpoint) {
    beginResetModel();
    m_rows.clear();
    if (checkpoint) {
        const QString path = QString::fromStdString(checkpoint->path());
        m_rows.push_back({tr("file"), QFileInfo(path).fileName(), true});
        m_rows.push_back({tr("file format"), QString::fromStdString(checkpoint->format()), true});
        // The tensors' bytes as stored, and the file's own size (header and padding too) where
        // the checkpoint is one file; "size" showed the former for the latter.
        m_rows.push_back({tr("tensor data"), formatBytes(checkpoint->totalBytes()), true});
        if (const QFileInfo file(path); file.isFile())
            m_rows.push_back(
                {tr("on disk"), formatBytes(static_cast<std::uint64_t>(file.size())), true});
        m_rows.push_back({tr("tensors"),
                          formatCount(static_cast<std::int64_t>(checkpoint->tensors().size())),
                          true});
        m_rows.push_back({tr("parameters"), formatCount(checkpoint->totalParameters()), true});
        for (const auto& [key, value] : checkpoint->metadata())
            m_rows.push_back({QString::fromStdString(key), QString::fromStdString(value), false});
    }
    endResetModel();
}

QString MetadataModel::value(const QString& key) const {
    for (const Row& r : m_rows)
        if (r.key == key)
            return r.value;
    return {};
}

int MetadataModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int MetadataModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : 2;
}

QVariant MetadataModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row& row = m_rows[static_cast<size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        // Long metadata values (chat templates, JSON) are shown on one line; the tooltip has all.
        if (index.column() == 0)
            return row.key;
        return row.value.size() > 200 ? row.value.left(200) + QStringLiteral("…") : row.value;
    case Qt::ToolTipRole:
        return row.value.size() > 4000 ? row.value.left(4000) + QStringLiteral("…") : row.value;
    case Qt::FontRole:
        if (index.column() == 0 && row.fileFact) {
            QFont f;
            f.setBold(true);
            return f;
        }
        return {};
    default:
        break;
    }
    switch (static_cast<MetadataRole>(role)) {
    case MetadataRole::Key:
        return row.key;
    case MetadataRole::IsFileFact:
        return row.fileFact;
    }
    return {};
}

QVariant MetadataModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    return section == 0 ? tr("Key") : tr("Value");
}

} // namespace qs
