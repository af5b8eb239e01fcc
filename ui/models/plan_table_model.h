#pragma once
// The Plan tab's table: one row per quantized tensor with the scheme the plan gives it, its bits
// per weight, SQNR and output error (where activations were given), and why (chosen by the solver,
// pinned by a rule, set by hand, or llama.cpp's fallback for a candidate that does not apply). The
// Scheme column is editable: a measured spec pins the tensor by hand, "auto" gives it back to the
// solver. GUI thread only.

#include "plan/planner.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <set>
#include <vector>

namespace qs {

enum class PlanColumn { Tensor, Shape, Scheme, Bpw, Sqnr, OutErr, Why, Count };

class PlanTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static QString autoText();

    explicit PlanTableModel(QObject* parent = nullptr);

    // `m` is what the solver saw (rules applied), `solution` its answer; `handPinned` the tensors
    // the user set by hand; `specs` the measured candidates offered by the editor.
    void setPlan(const PlanMeasurements& m, const PlanSolution& solution,
                 const std::set<std::string>& handPinned, const QStringList& specs);
    void clear();
    QStringList editorChoices() const; // "auto", then the measured specs
    QString specAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    // The user picked a scheme for `tensor`: a measured spec, or empty for "auto".
    void schemeEdited(const QString& tensor, const QString& spec);

private:
    struct Row {
        QString name, shape, spec, why;
        double bpw = 0, sqnrDb = 0, outRelErr = 0; // outRelErr NaN: no activations
        bool hand = false;
    };
    std::vector<Row> m_rows;
    QStringList m_specs;
};

} // namespace qs
