#pragma once
// The "Checkpoint" dock: a filter line, the tensor tree (grouped by layer, filtered recursively
// through a proxy) and the metadata pane. Emits tensorSelected when the user (or
// selectTensor()) makes a tensor current. The tree's bpw and SQNR columns are filled in the
// background for the scheme given to setScheme() (see TreeMetricsController). In a narrow dock
// (lessons narrow it) the dtype, bpw and shape columns step aside, in that order, so that names
// keep kNameMinWidth; SQNR always shows. GUI thread only.

#include "io/checkpoint.h"
#include "models/tensor_metric.h"
#include "models/tensor_tree_model.h"
#include "quant/scheme.h"

#include <QWidget>

#include <array>
#include <memory>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTreeView;

namespace qs {

class ActivationSource;

class MetadataPane;
class TensorTreeModel;
class TreeMetricsController;

class TensorBrowserPanel : public QWidget {
    Q_OBJECT
public:
    static constexpr int kNameMinWidth = 170; // the name column's share before others hide

    explicit TensorBrowserPanel(QWidget* parent = nullptr);

    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    // Makes `name` current (clearing a filter that hides it); false if there is no such tensor.
    bool selectTensor(const QString& name);
    QString currentTensor() const;
    void setFilterText(const QString& text);
    // The scheme whose bpw and SQNR the tree shows.
    void setScheme(const Scheme& scheme);
    // The Model tab's activations, for the columns of schemes that need them.
    void setActivations(std::shared_ptr<const ActivationSource> activations);
    // A metric computed elsewhere (the selected tensor's analysis), so it is not computed twice.
    void storeMetric(const QString& tensor, const Scheme& scheme, const TensorMetric& metric);
    // Stops filling the columns and waits for the worker (window closing).
    void shutdown();
    bool isBusy() const;

    TensorTreeModel* model() const { return m_model; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    MetadataPane* metadataPane() const { return m_metadata; }
    QTreeView* tree() const { return m_tree; }
    // The hint over the empty tree ("No checkpoint open …"), visible while no file is open.
    QLabel* emptyHint() const { return m_emptyHint; }

Q_SIGNALS:
    void tensorSelected(const QString& name);
    // The bpw/SQNR columns are complete for the current scheme.
    void idle();

private:
    void applyFilter(const QString& text);
    // Widths for the shape, dtype, bpw and SQNR columns from what they can show.
    void fitColumns();
    // Hides the columns that would leave the names less than kNameMinWidth (at the widths
    // fitColumns gave them), shows the others.
    void showColumnsThatFit();
    bool eventFilter(QObject* watched, QEvent* event) override;
    void onCurrentChanged(const QModelIndex& current);

    TensorTreeModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QLineEdit* m_filter;
    QTreeView* m_tree;
    MetadataPane* m_metadata;
    TreeMetricsController* m_metrics;
    QLabel* m_emptyHint; // over the tree's viewport while no checkpoint is open
    std::array<int, static_cast<int>(TensorColumn::Count)> m_widths{}; // fitColumns' widths
};

} // namespace qs
