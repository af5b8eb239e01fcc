#pragma once
// The checkpoint's tensors as a two-level tree: tensors of one transformer block are grouped
// under "layers.N" (numeric order), everything else (embeddings, final norm, lm_head) stays at
// the top level. Columns: name, shape, dtype, parameters. Read-only; the checkpoint is shared,
// never copied. GUI thread only.

#include "io/checkpoint.h"

#include <QAbstractItemModel>
#include <QString>

#include <memory>
#include <vector>

namespace qs {

enum class TensorTreeRole {
    TensorName = Qt::UserRole + 1, // QString full tensor name; invalid for group rows
    IsGroup,                       // bool
    SortKey,                       // natural order for the name column, numbers for the others
    FilterText,                    // what the filter matches: full tensor name or group label
};

enum class TensorColumn { Name, Shape, DType, Parameters, Count };

class TensorTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    explicit TensorTreeModel(QObject* parent = nullptr);

    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    const Checkpoint* checkpoint() const { return m_checkpoint.get(); }

    QModelIndex indexOfTensor(const QString& name) const;
    const TensorInfo* tensorAt(const QModelIndex& index) const;
    int groupCount() const;
    int tensorCount() const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

private:
    struct TopItem {
        QString label;
        int tensor = -1;          // index into the checkpoint's tensors; -1 for a group
        std::vector<int> members; // group: tensor indices, in file order
        QString memberPrefix;     // group: stripped from member names for display
        QString groupStem;        // group: "model.layers", for numeric ordering
        qlonglong groupNumber = 0;
        std::int64_t parameters = 0;
        QString dtype;
    };

    void build();
    int tensorIndex(const QModelIndex& index) const; // -1 for groups and invalid indexes
    QVariant tensorData(int tensor, const QString& label, int column, int role, int order) const;
    QVariant groupData(const TopItem& item, int column, int role, int order) const;

    std::shared_ptr<const Checkpoint> m_checkpoint;
    std::vector<TopItem> m_items;
};

// The tensor the window opens on: a q_proj-like 2-D weight, else the first quantizable tensor,
// else the first tensor; empty for an empty checkpoint.
QString preferredTensor(const Checkpoint& checkpoint);

} // namespace qs
