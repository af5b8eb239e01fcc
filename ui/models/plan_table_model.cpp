#include "models/plan_table_model.h"

#include "metrics/error_metrics.h"
#include "number_format.h"

#include <QColor>

#include <cmath>

namespace qs {

QString PlanTableModel::autoText() {
    return tr("auto");
}

PlanTableModel::PlanTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void PlanTableModel::setPlan(const PlanMeasurements& m, const PlanSolution& solution,
                             const std::set<std::string>& handPinned, const QStringList& specs) {
    beginResetModel();
    m_specs = specs;
    m_rows.clear();
    for (size_t i = 0; i < m.tensors.size() && i < solution.choice.size(); ++i) {
        const TensorMeasurement& t = m.tensors[i];
        const PlanOption& o = t.options[solution.choice[i]];
        Row r;
        r.name = QString::fromStdString(t.name);
        QStringList dims;
        for (auto d : t.shape)
            dims << QString::number(d);
        r.shape = QStringLiteral("[%1]").arg(dims.join(QStringLiteral(", ")));
        r.spec = QString::fromStdString(o.scheme.toString());
        r.bpw = t.elements ? static_cast<double>(o.bits) / static_cast<double>(t.elements) : 0;
        r.sqnrDb = sqnrDbFromSums(t.sumSqRef, o.sqErr);
        r.outRelErr = o.outRelErr;
        r.hand = handPinned.count(t.name) > 0;
        if (r.hand)
            r.why = tr("set by hand");
        else if (t.pinned)
            r.why = tr("keep rule");
        else if (!o.fallbackFor.empty())
            r.why = tr("%1 fallback").arg(QString::fromStdString(o.fallbackFor));
        else
            r.why = tr("solver");
        m_rows.push_back(std::move(r));
    }
    endResetModel();
}

void PlanTableModel::clear() {
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

QStringList PlanTableModel::editorChoices() const {
    return QStringList{autoText()} + m_specs;
}

QString PlanTableModel::specAt(int row) const {
    return row >= 0 && row < rowCount() ? m_rows[size_t(row)].spec : QString();
}

int PlanTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int PlanTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(PlanColumn::Count);
}

QVariant PlanTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Row& r = m_rows[size_t(index.row())];
    const auto col = static_cast<PlanColumn>(index.column());
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        switch (col) {
        case PlanColumn::Tensor:
            return r.name;
        case PlanColumn::Shape:
            return r.shape;
        case PlanColumn::Scheme:
            return r.spec;
        case PlanColumn::Bpw:
            return QString::number(r.bpw, 'f', 3);
        case PlanColumn::Sqnr:
            return formatDb(r.sqnrDb);
        case PlanColumn::OutErr:
            return std::isnan(r.outRelErr) ? tr("n/a") : formatPercent(r.outRelErr);
        case PlanColumn::Why:
            return r.why;
        case PlanColumn::Count:
            break;
        }
    }
    if (role == Qt::UserRole) {
        if (col == PlanColumn::Bpw)
            return r.bpw;
        if (col == PlanColumn::Sqnr)
            return r.sqnrDb;
        if (col == PlanColumn::OutErr)
            return r.outRelErr;
        return data(index, Qt::DisplayRole);
    }
    if (role == Qt::TextAlignmentRole &&
        (col == PlanColumn::Bpw || col == PlanColumn::Sqnr || col == PlanColumn::OutErr))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ForegroundRole && col == PlanColumn::Scheme && r.hand)
        return QColor(0xC0, 0x39, 0x2B);
    if (role == Qt::ToolTipRole && col == PlanColumn::OutErr)
        return std::isnan(r.outRelErr)
                   ? tr("No activations with this tensor's input width")
                   : tr("||XW^T - XŴ^T|| / ||XW^T|| with the Model tab's activations");
    if (role == Qt::ToolTipRole && col == PlanColumn::Why && r.why.endsWith(tr("fallback")))
        return tr("What llama.cpp stores this tensor as for the candidate, whose blocks do not "
                  "divide its rows");
    if (role == Qt::ToolTipRole && col == PlanColumn::Scheme)
        return tr("Double-click to choose this tensor's scheme by hand; \"auto\" lets the "
                  "solver choose");
    return {};
}

bool PlanTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid() || role != Qt::EditRole ||
        static_cast<PlanColumn>(index.column()) != PlanColumn::Scheme)
        return false;
    const QString v = value.toString();
    if (v != autoText() && !m_specs.contains(v))
        return false;
    Q_EMIT schemeEdited(m_rows[size_t(index.row())].name, v == autoText() ? QString() : v);
    return true;
}

Qt::ItemFlags PlanTableModel::flags(const QModelIndex& index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (static_cast<PlanColumn>(index.column()) == PlanColumn::Scheme)
        f |= Qt::ItemIsEditable;
    return f;
}

QVariant PlanTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation == Qt::Horizontal && role == Qt::ToolTipRole &&
        static_cast<PlanColumn>(section) == PlanColumn::Bpw)
        return tr("Bits per weight, scales and zero-points included");
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (static_cast<PlanColumn>(section)) {
    case PlanColumn::Tensor:
        return tr("Tensor");
    case PlanColumn::Shape:
        return tr("Shape");
    case PlanColumn::Scheme:
        return tr("Scheme");
    case PlanColumn::Bpw:
        return tr("bpw");
    case PlanColumn::Sqnr:
        return tr("SQNR");
    case PlanColumn::OutErr:
        return tr("Output err");
    case PlanColumn::Why:
        return tr("Why");
    case PlanColumn::Count:
        break;
    }
    return {};
}

} // namespace qs
