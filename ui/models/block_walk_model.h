#pragma once
// One inspected block as a table: a row per element with its raw value, code (decimal and
// binary), what the code means, the scale applied, the reconstruction, the error, and where the
// code is stored (byte and nibble). GUI thread; the data is a copy of a core BlockWalk.

#include "teach/block_inspector.h"

#include <QAbstractTableModel>

namespace qs {

class BlockWalkModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Index,
        Raw,
        Code,
        CodeBits,
        Meaning,
        Scale,
        Reconstruction,
        Error,
        Stored,
        Count
    };
    enum class Role { ElementIndex = Qt::UserRole + 1, ByteIndex, HighNibble };

    explicit BlockWalkModel(QObject* parent = nullptr);

    void setWalk(const BlockWalk& walk);
    const BlockWalk& walk() const { return m_walk; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    BlockWalk m_walk;
};

} // namespace qs
