#pragma once
// Key/value rows describing an open checkpoint: file facts first (format, size, tensor and
// parameter counts), then the file's own metadata entries. Read-only. GUI thread only.

#include "io/checkpoint.h"

#include <QAbstractTableModel>
#include <QString>

#include <vector>

namespace qs {

enum class MetadataRole {
    Key = Qt::UserRole + 1, // QString key of the row
    IsFileFact,             // bool: computed by Quantscope rather than stored in the file
};

class MetadataModel : public QAbstractTableModel {
    Q_OBJECT
public:
    explicit MetadataModel(QObject* parent = nullptr);

    void setCheckpoint(const Checkpoint* checkpoint); // null clears; the data is copied
    QString value(const QString& key) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    struct Row {
        QString key;
        QString value;
        bool fileFact = false;
    };
    std::vector<Row> m_rows;
};

} // namespace qs
