#pragma once
// The Compare tab's table: one row per compared scheme (in its chart colour) with its level
// count, SQNR, relative RMSE, bits per weight and what the quantizer reported (saturated/flushed
// blocks, non-finite inputs). Rows whose result has not arrived show "…"; schemes that do not
// apply to the tensor show "n/a" with the reason. Read-only. GUI thread only.

#include "io/checkpoint.h"
#include "workers/compare_job.h"

#include <QAbstractTableModel>

#include <memory>
#include <optional>
#include <vector>

namespace qs {

enum class CompareColumn {
    Scheme,
    Levels,
    Sqnr,
    SqnrDelta,
    RelRmse,
    OutErr, // only with activations or an importance matrix (hasOutputError)
    Bpw,
    Diagnostics,
    Count
};

enum class CompareRole {
    Value = Qt::UserRole + 1, // double behind the cell (NaN when there is none)
    Spec,                     // QString canonical spec of the row
};

class CompareTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    explicit CompareTableModel(QObject* parent = nullptr);

    // New rows, without results. `tensor` (may be null) sizes the block counts.
    void setSchemes(const std::vector<Scheme>& schemes, const TensorInfo* tensor);
    void setResult(int row, std::shared_ptr<const CompareResult> result);
    void clearResults();
    bool hasOutputError() const; // some result has an output error
    const CompareResult* result(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QVariant display(const Scheme& scheme, const CompareResult* r, CompareColumn column) const;
    double value(const CompareResult* r, CompareColumn column) const;
    // SQNR of `r` minus that of the first row; NaN when either is missing.
    double sqnrDelta(const CompareResult* r) const;

    std::vector<Scheme> m_schemes;
    std::vector<std::shared_ptr<const CompareResult>> m_results;
    std::optional<TensorInfo> m_tensor;
};

} // namespace qs
