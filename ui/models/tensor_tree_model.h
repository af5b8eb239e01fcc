#pragma once
// The checkpoint's tensors as a two-level tree: tensors of one transformer block are grouped
// under "layers.N" (numeric order), everything else (embeddings, final norm, lm_head) stays at
// the top level. Columns: name, shape, dtype, parameters, and bits per weight and SQNR under the
// current scheme as they arrive (setMetric; groups show their members combined). Read-only; the
// checkpoint is shared, never copied. GUI thread only.

#include "io/checkpoint.h"
#include "models/tensor_metric.h"

#include <QAbstractItemModel>
#include <QHash>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

namespace qs {

enum class TensorTreeRole {
    TensorName = Qt::UserRole + 1, // QString full tensor name; invalid for group rows
    IsGroup,                       // bool
    SortKey,                       // natural order for the name column, numbers for the others
    FilterText,                    // what the filter matches: full tensor name or group label
};

enum class TensorColumn { Name, Shape, DType, Parameters, Bpw, Sqnr, Count };

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

    // The bpw/SQNR cells of `tensor` (full name); unknown names are ignored.
    void setMetric(const QString& tensor, const TensorMetric& metric);
    void clearMetrics();
    const TensorMetric* metric(const QString& tensor) const;

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
    QVariant metricData(const TensorMetric* m, TensorColumn column, int role) const;
    TensorMetric groupMetric(const TopItem& item) const;
    QModelIndex indexOfTensorIndex(int tensor, int column) const;

    std::shared_ptr<const Checkpoint> m_checkpoint;
    std::vector<TopItem> m_items;
    std::vector<std::optional<TensorMetric>> m_metrics; // by tensor index
    QHash<QString, int> m_tensorByName;
    std::vector<std::pair<int, int>> m_location; // tensor -> (top row, child row or -1)
};

// The tensor the window opens on: a q_proj-like 2-D weight, else the first quantizable tensor,
// else the first tensor; empty for an empty checkpoint.
QString preferredTensor(const Checkpoint& checkpoint);

} // namespace qs
