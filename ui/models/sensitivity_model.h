#pragma once
// The sensitivity map's data: one row per quantizable tensor (name, role, block index, size,
// kurtosis, outlier share, SINQ imbalance, the spread of its inputs) and one column per swept
// scheme holding its SQNR in dB, its relative RMSE or its output error. Rows fill in as the sweep
// measures tensors; a scheme that does not apply shows the value of llama.cpp's fallback, marked.
// Read-only; sortable through a proxy on SensitivityRole::Sort. GUI thread only.

#include "plan/planner.h"
#include "plan/tensor_roles.h"

#include <QAbstractTableModel>

#include <map>
#include <optional>
#include <vector>

namespace qs {

enum class SensitivityColumn {
    Tensor,
    Role,
    Layer,
    Params,
    Kurtosis,
    Outliers,
    Imbalance,
    InputSpread, // n/a without activations or an importance matrix of the tensor's width
    Count
};
constexpr int kSensitivityFixedColumns = static_cast<int>(SensitivityColumn::Count);

enum class SensitivityRole {
    Sort = Qt::UserRole + 1, // double (or QString for text columns): what the proxy sorts on
    Value,                   // double shown by the heatmap (NaN: not measured yet, or n/a)
    TensorName,              // QString
    Spec,                    // QString of a scheme column
    TensorRoleId,            // int(TensorRole)
    Fallback,                // QString: the scheme realising a column's spec, when not itself
    NotApplicable,           // QString: why a column's spec does not apply (nothing stands in)
};

// SQNR in dB, relative RMSE, or the output's relative error ||X W^T - X W^^T|| / ||X W^T||
// (measured where the sweep had activations of the tensor's width; n/a elsewhere).
enum class SensitivityMetric { SqnrDb, RelRmse, OutRelErr };

class SensitivityModel : public QAbstractTableModel {
    Q_OBJECT
public:
    explicit SensitivityModel(QObject* parent = nullptr);

    // Columns for `schemes`; existing rows keep their statistics and lose their values.
    void setSchemes(const std::vector<Scheme>& schemes);
    // A tensor measured under some of the schemes (partial sweep results).
    void addMeasurement(const TensorMeasurement& t);
    // Everything at once (a finished sweep); rows in checkpoint order.
    void setMeasurements(const PlanMeasurements& m);
    void clear();
    void setMetric(SensitivityMetric metric);
    // The output error comes from a llama.cpp importance matrix (n/a: it has no entry).
    void setFromImportanceMatrix(bool on) { m_fromImportance = on; }
    SensitivityMetric metric() const { return m_metric; }

    const std::vector<Scheme>& schemes() const { return m_schemes; }
    int schemeColumn(int scheme) const { return kSensitivityFixedColumns + scheme; }
    // Range of the finite values of the measured cells, for the colour scale; cells where a
    // fallback stands in for the scheme are left out (they would squash the scale).
    std::pair<double, double> valueRange() const;
    int measuredTensors() const;
    // Whether some row has an input spread (the sweep had activations or an importance matrix).
    bool hasInputSpread() const;
    // Every row as CSV, whatever the metric shown: the tensor's name, role, block, weights,
    // kurtosis, outlier share, imbalance and input spread, then per scheme its SQNR in dB, relative
    // RMSE, bits per weight, output error (where activations gave one) and the scheme standing in
    // (llama.cpp's fallback); a cell not measured or n/a leaves its fields empty.
    QString csv() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    struct Cell {
        double sqnrDb = 0;
        double relRmse = 0;
        double outRelErr = 0; // NaN without activations of the tensor's width
        double bpw = 0;
        QString fallback;
        QString notApplicable; // why the scheme does not apply (no value then)
    };
    struct Row {
        TensorMeasurement stats; // options cleared; name, shape, moments
        TensorRole role = TensorRole::Other;
        std::optional<int> layer;
        std::map<std::string, Cell> cells; // by spec
    };
    void store(Row& row, const TensorMeasurement& t);
    const Cell* cell(const Row& row, int column) const;
    double cellValue(const Cell& c) const;
    QString noValueReason(const Row& row, const Cell* c) const; // n/a, and why; else empty
    QVariant fixedData(const Row& row, SensitivityColumn column, int role) const;

    std::vector<Scheme> m_schemes;
    std::vector<Row> m_rows;
    std::map<std::string, int> m_rowOf;
    SensitivityMetric m_metric = SensitivityMetric::SqnrDb;
    bool m_fromImportance = false;
};

} // namespace qs
