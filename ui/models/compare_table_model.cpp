#include "models/compare_table_model.h"

#include "charts/chart_style.h"
#include "diagnostic_text.h"
#include "number_format.h"

#include <QBrush>
#include <QColor>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {
namespace {
constexpr int kColumns = static_cast<int>(CompareColumn::Count);
const QColor kMuted(0x8A, 0x8A, 0x8A);
const QColor kWarning(0xB5, 0x54, 0x1C);
} // namespace

CompareTableModel::CompareTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void CompareTableModel::setSchemes(const std::vector<Scheme>& schemes, const TensorInfo* tensor) {
    beginResetModel();
    m_schemes = schemes;
    m_results.assign(schemes.size(), nullptr);
    m_tensor = tensor ? std::optional<TensorInfo>(*tensor) : std::nullopt;
    endResetModel();
}

void CompareTableModel::setResult(int row, std::shared_ptr<const CompareResult> result) {
    if (row < 0 || row >= rowCount())
        return;
    m_results[static_cast<size_t>(row)] = std::move(result);
    Q_EMIT dataChanged(index(row, 0), index(row, kColumns - 1));
    if (row == 0 && rowCount() > 1) // every other row's delta is against this one
        Q_EMIT dataChanged(index(1, int(CompareColumn::SqnrDelta)),
                           index(rowCount() - 1, int(CompareColumn::SqnrDelta)));
}

void CompareTableModel::clearResults() {
    std::fill(m_results.begin(), m_results.end(), nullptr);
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, kColumns - 1));
}

bool CompareTableModel::hasOutputError() const {
    return std::any_of(m_results.begin(), m_results.end(),
                       [](const auto& r) { return r && r->outputError; });
}

const CompareResult* CompareTableModel::result(int row) const {
    return row >= 0 && row < rowCount() ? m_results[static_cast<size_t>(row)].get() : nullptr;
}

int CompareTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_schemes.size());
}

int CompareTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : kColumns;
}

double CompareTableModel::value(const CompareResult* r, CompareColumn column) const {
    const double none = std::numeric_limits<double>::quiet_NaN();
    if (!r || r->status != CompareResult::Status::Ok)
        return none;
    switch (column) {
    case CompareColumn::Levels:
        return static_cast<double>(r->levels.size());
    case CompareColumn::Sqnr:
        return r->error.sqnrDb();
    case CompareColumn::SqnrDelta:
        return sqnrDelta(r);
    case CompareColumn::RelRmse:
        return r->error.relRmse();
    case CompareColumn::OutErr:
        return r->outputError ? r->outputError->relative() : none;
    case CompareColumn::Bpw:
        return r->cost.bitsPerWeight();
    default:
        return none;
    }
}

double CompareTableModel::sqnrDelta(const CompareResult* r) const {
    const CompareResult* first = m_results.empty() ? nullptr : m_results.front().get();
    if (!r || !first || r->status != CompareResult::Status::Ok ||
        first->status != CompareResult::Status::Ok)
        return std::numeric_limits<double>::quiet_NaN();
    return r->error.sqnrDb() - first->error.sqnrDb();
}

QVariant CompareTableModel::display(const Scheme& scheme, const CompareResult* r,
                                    CompareColumn column) const {
    if (column == CompareColumn::Scheme)
        return QString::fromStdString(scheme.toString());
    if (!r)
        return QStringLiteral("…");
    if (r->status != CompareResult::Status::Ok)
        return column == CompareColumn::Diagnostics ? r->message
               : column == CompareColumn::Sqnr
                   ? (r->status == CompareResult::Status::NotApplicable ? tr("n/a") : tr("error"))
                   : QStringLiteral("—");
    switch (column) {
    case CompareColumn::Levels:
        return r->levels.empty() ? QStringLiteral("—") : QString::number(r->levels.size());
    case CompareColumn::Sqnr:
        return formatDb(r->error.sqnrDb());
    case CompareColumn::SqnrDelta: {
        if (!m_results.empty() && r == m_results.front().get())
            return tr("reference");
        const double d = sqnrDelta(r);
        if (std::isnan(d))
            return QStringLiteral("—");
        return (d >= 0 ? QStringLiteral("+") : QString()) + formatDb(d);
    }
    case CompareColumn::RelRmse:
        return formatPercent(r->error.relRmse());
    case CompareColumn::OutErr:
        return r->outputError ? formatPercent(r->outputError->relative()) : QStringLiteral("—");
    case CompareColumn::Bpw:
        return QString::number(r->cost.bitsPerWeight(), 'f', 3);
    case CompareColumn::Diagnostics: {
        const QString summary = diagnosticSummary(
            r->diagnostics, m_tensor ? blockCount(*m_tensor, r->scheme) : std::int64_t{0});
        return summary.isEmpty() ? QStringLiteral("—") : summary;
    }
    default:
        return {};
    }
}

QVariant CompareTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const auto row = static_cast<size_t>(index.row());
    const Scheme& scheme = m_schemes[row];
    const CompareResult* r = m_results[row].get();
    const auto column = static_cast<CompareColumn>(index.column());
    switch (role) {
    case Qt::DisplayRole:
        return display(scheme, r, column);
    case Qt::DecorationRole: {
        if (column != CompareColumn::Scheme)
            return {};
        QStringList families; // the charts' colours: distinct where families share one
        for (const Scheme& s : m_schemes)
            families << QString::fromStdString(s.family);
        return distinctSchemeColors(families)[row];
    }
    case Qt::ToolTipRole:
        if (r && r->status != CompareResult::Status::Ok)
            return r->message;
        if (r && column == CompareColumn::Levels)
            return r->levelsNote;
        if (r && column == CompareColumn::Diagnostics) {
            QStringList lines;
            for (const Diagnostic& d : r->diagnostics)
                lines << QString::fromStdString(d.description.empty() ? d.key : d.description);
            return lines.join(QLatin1Char('\n'));
        }
        return {};
    case Qt::ForegroundRole:
        if (!r || r->status != CompareResult::Status::Ok)
            return QBrush(kMuted);
        if (column == CompareColumn::Diagnostics)
            return QBrush(hasNotableDiagnostic(r->diagnostics) ? kWarning : kMuted);
        return {};
    case Qt::TextAlignmentRole:
        return column == CompareColumn::Scheme || column == CompareColumn::Diagnostics
                   ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                   : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    default:
        break;
    }
    switch (static_cast<CompareRole>(role)) {
    case CompareRole::Value:
        return value(r, column);
    case CompareRole::Spec:
        return QString::fromStdString(scheme.toString());
    }
    return {};
}

QVariant CompareTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (static_cast<CompareColumn>(section)) {
    case CompareColumn::Scheme:
        return tr("Scheme");
    case CompareColumn::Levels:
        return tr("Levels");
    case CompareColumn::Sqnr:
        return tr("SQNR");
    case CompareColumn::SqnrDelta:
        return tr("Δ SQNR");
    case CompareColumn::RelRmse:
        return tr("rel RMSE");
    case CompareColumn::OutErr:
        return tr("output err");
    case CompareColumn::Bpw:
        return tr("bits/weight");
    case CompareColumn::Diagnostics:
        return tr("Quantizer reports");
    case CompareColumn::Count:
        break;
    }
    return {};
}

} // namespace qs
