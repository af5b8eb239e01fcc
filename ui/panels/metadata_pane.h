#pragma once
// Below the tensor tree: the checkpoint's facts and metadata (a table over MetadataModel) and the
// selected tensor's distribution statistics. GUI thread only.

#include "io/checkpoint.h"
#include "metrics/distribution_stats.h"

#include <QWidget>

#include <utility>
#include <vector>

class QFormLayout;
class QLabel;
class QTableView;

namespace qs {

class MetadataModel;

class MetadataPane : public QWidget {
    Q_OBJECT
public:
    explicit MetadataPane(QWidget* parent = nullptr);

    void setCheckpoint(const Checkpoint* checkpoint);
    // Shows the tensor's name and shape; statistics read "…" until setStats().
    void setTensor(const TensorInfo* tensor);
    void setStats(const DistributionStats& stats);

    MetadataModel* model() const { return m_model; }
    QString statText(const QString& name) const; // "mean", "std", "min", ... as displayed

private:
    QLabel* addStat(const QString& name, const QString& tip);

    MetadataModel* m_model;
    QTableView* m_table;
    QLabel* m_tensorLabel;
    QFormLayout* m_statsForm;
    std::vector<std::pair<QString, QLabel*>> m_stats;
};

} // namespace qs
