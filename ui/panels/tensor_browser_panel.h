#pragma once
// The "Checkpoint" dock: a filter line, the tensor tree (grouped by layer, filtered recursively
// through a proxy) and the metadata pane. Emits tensorSelected when the user (or
// selectTensor()) makes a tensor current. GUI thread only.

#include "io/checkpoint.h"

#include <QWidget>

#include <memory>

class QLineEdit;
class QSortFilterProxyModel;
class QTreeView;

namespace qs {

class MetadataPane;
class TensorTreeModel;

class TensorBrowserPanel : public QWidget {
    Q_OBJECT
public:
    explicit TensorBrowserPanel(QWidget* parent = nullptr);

    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    // Makes `name` current (clearing a filter that hides it); false if there is no such tensor.
    bool selectTensor(const QString& name);
    QString currentTensor() const;
    void setFilterText(const QString& text);

    TensorTreeModel* model() const { return m_model; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    MetadataPane* metadataPane() const { return m_metadata; }

Q_SIGNALS:
    void tensorSelected(const QString& name);

private:
    void applyFilter(const QString& text);
    void onCurrentChanged(const QModelIndex& current);

    TensorTreeModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QLineEdit* m_filter;
    QTreeView* m_tree;
    MetadataPane* m_metadata;
};

} // namespace qs
