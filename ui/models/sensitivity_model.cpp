#include "models/sensitivity_model.h"

#include "metrics/error_metrics.h"
#include "number_format.h"
#include "util/csv.h"

#include <QColor>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString roleLabel(TensorRole r) {
    switch (r) {
    case TensorRole::Attention:
        return SensitivityModel::tr("attention");
    case TensorRole::Mlp:
        return SensitivityModel::tr("MLP");
    case TensorRole::Embedding:
        return SensitivityModel::tr("embedding");
    case TensorRole::Norm:
        return SensitivityModel::tr("norm");
    case TensorRole::Output:
        return SensitivityModel::tr("output");
    case TensorRole::Other:
        break;
    }
    return SensitivityModel::tr("other");
}

} // namespace

SensitivityModel::SensitivityModel(QObject* parent) : QAbstractTableModel(parent) {}

void SensitivityModel::setSchemes(const std::vector<Scheme>& schemes) {
    beginResetModel();
    m_schemes = schemes;
    for (Row& r : m_rows)
        r.cells.clear();
    endResetModel();
}

void SensitivityModel::clear() {
    beginResetModel();
    m_rows.clear();
    m_rowOf.clear();
    m_schemes.clear();
    endResetModel();
}

void SensitivityModel::setMetric(SensitivityMetric metric) {
    if (metric == m_metric)
        return;
    m_metric = metric;
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, kSensitivityFixedColumns),
                           index(rowCount() - 1, columnCount() - 1));
    Q_EMIT headerDataChanged(Qt::Horizontal, kSensitivityFixedColumns, columnCount() - 1);
}

void SensitivityModel::store(Row& row, const TensorMeasurement& t) {
    row.stats = t;
    row.stats.options.clear();
    row.role = classifyTensor(t.name);
    row.layer = layerIndex(t.name);
    const double bitsPerElement = t.elements ? 1.0 / static_cast<double>(t.elements) : 0;
    for (size_t k = 0; k < t.options.size(); ++k) {
        const PlanOption& o = t.options[k];
        Cell c;
        c.sqnrDb = sqnrDbFromSums(t.sumSqRef, o.sqErr);
        c.relRmse = t.sumSqRef > 0 ? std::sqrt(o.sqErr / t.sumSqRef) : 0;
        c.outRelErr = o.outRelErr;
        c.bpw = static_cast<double>(o.bits) * bitsPerElement;
        std::string key = o.scheme.toString();
        if (!o.fallbackFor.empty()) {
            c.fallback = QString::fromStdString(key);
            key = o.fallbackFor;
        }
        row.cells[key] = c;
    }
    // The candidates that do not apply and that nothing stands in for: marked, with the reason,
    // so that a finished sweep shows them apart from cells still to come.
    for (const std::string& why : t.notApplicable) {
        const size_t colon = why.find(": ");
        Cell c;
        c.notApplicable =
            QString::fromStdString(colon == std::string::npos ? why : why.substr(colon + 2));
        row.cells.try_emplace(why.substr(0, colon), c);
    }
}

void SensitivityModel::addMeasurement(const TensorMeasurement& t) {
    const auto it = m_rowOf.find(t.name);
    if (it == m_rowOf.end()) {
        const int r = static_cast<int>(m_rows.size());
        beginInsertRows({}, r, r);
        m_rows.emplace_back();
        store(m_rows.back(), t);
        m_rowOf[t.name] = r;
        endInsertRows();
        return;
    }
    Row& row = m_rows[static_cast<size_t>(it->second)];
    auto cells = std::move(row.cells);
    store(row, t);
    for (auto& [spec, c] : cells)
        row.cells.try_emplace(spec, c);
    Q_EMIT dataChanged(index(it->second, 0), index(it->second, columnCount() - 1));
}

void SensitivityModel::setMeasurements(const PlanMeasurements& m) {
    beginResetModel();
    m_schemes = m.candidates;
    m_rows.clear();
    m_rowOf.clear();
    for (const TensorMeasurement& t : m.tensors) {
        m_rowOf[t.name] = static_cast<int>(m_rows.size());
        m_rows.emplace_back();
        store(m_rows.back(), t);
    }
    endResetModel();
}

bool SensitivityModel::hasInputSpread() const {
    return std::any_of(m_rows.begin(), m_rows.end(),
                       [](const Row& r) { return std::isfinite(r.stats.inputSpread); });
}

QString SensitivityModel::csv() const {
    auto quoted = [](const QString& v) {
        return QString::fromStdString(csvField(v.toStdString()));
    };
    auto number = [](double v) {
        return std::isfinite(v) ? QString::number(v, 'g', 17) : QString();
    };
    QStringList header{QStringLiteral("tensor"),    QStringLiteral("role"),
                       QStringLiteral("block"),     QStringLiteral("params"),
                       QStringLiteral("kurtosis"),  QStringLiteral("outlier_share"),
                       QStringLiteral("imbalance"), QStringLiteral("input_spread")};
    for (const Scheme& s : m_schemes)
        for (const char* field :
             {"sqnr_db", "rel_rmse", "bits_per_weight", "out_rel_err", "stored_as"})
            header << quoted(QString::fromStdString(s.toString()) + QLatin1Char(' ') +
                             QLatin1String(field));
    QString out = header.join(QLatin1Char(',')) + QLatin1Char('\n');
    for (const Row& r : m_rows) {
        const TensorMeasurement& t = r.stats;
        QStringList f{quoted(QString::fromStdString(t.name)),
                      roleLabel(r.role),
                      r.layer ? QString::number(*r.layer) : QString(),
                      QString::number(t.elements),
                      number(t.kurtosis),
                      number(t.outlierShare),
                      number(t.imbalance),
                      number(t.inputSpread)};
        for (int s = 0; s < static_cast<int>(m_schemes.size()); ++s) {
            const Cell* c = cell(r, schemeColumn(s));
            if (!c || !c->notApplicable.isEmpty()) {
                f << QString() << QString() << QString() << QString() << QString();
                continue;
            }
            f << number(c->sqnrDb) << number(c->relRmse) << number(c->bpw) << number(c->outRelErr)
              << quoted(c->fallback);
        }
        out += f.join(QLatin1Char(',')) + QLatin1Char('\n');
    }
    return out;
}

int SensitivityModel::measuredTensors() const {
    return static_cast<int>(m_rows.size());
}

const SensitivityModel::Cell* SensitivityModel::cell(const Row& row, int column) const {
    const int s = column - kSensitivityFixedColumns;
    if (s < 0 || s >= static_cast<int>(m_schemes.size()))
        return nullptr;
    const auto it = row.cells.find(m_schemes[static_cast<size_t>(s)].toString());
    return it == row.cells.end() ? nullptr : &it->second;
}

double SensitivityModel::cellValue(const Cell& c) const {
    if (!c.notApplicable.isEmpty())
        return kNaN;
    switch (m_metric) {
    case SensitivityMetric::SqnrDb:
        return c.sqnrDb;
    case SensitivityMetric::RelRmse:
        return c.relRmse;
    case SensitivityMetric::OutRelErr:
        return c.outRelErr;
    }
    return kNaN;
}

QString SensitivityModel::noValueReason(const Row& row, const Cell* c) const {
    if (!c)
        return {};
    if (!c->notApplicable.isEmpty())
        return c->notApplicable;
    if (m_metric == SensitivityMetric::OutRelErr && std::isnan(c->outRelErr)) {
        const auto& shape = row.stats.shape;
        const std::int64_t inputs = shape.size() >= 2 && shape[0] > 0
                                        ? static_cast<std::int64_t>(row.stats.elements) / shape[0]
                                        : 0;
        if (m_fromImportance)
            return tr("the importance matrix has no entry for it with %1 inputs (llama-imatrix "
                      "collects none for token embeddings); an imatrix scheme quantizes it "
                      "without one, as llama-quantize does")
                .arg(inputs);
        return tr("no activations with its %1 inputs (Activations, above)").arg(inputs);
    }
    return {};
}

std::pair<double, double> SensitivityModel::valueRange() const {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Row& r : m_rows)
        for (int s = 0; s < static_cast<int>(m_schemes.size()); ++s)
            if (const Cell* c = cell(r, schemeColumn(s));
                c && c->fallback.isEmpty() && std::isfinite(cellValue(*c))) {
                lo = std::min(lo, cellValue(*c));
                hi = std::max(hi, cellValue(*c));
            }
    if (lo > hi)
        return {0, 1};
    return {lo, hi};
}

int SensitivityModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int SensitivityModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : kSensitivityFixedColumns + static_cast<int>(m_schemes.size());
}

QVariant SensitivityModel::fixedData(const Row& row, SensitivityColumn column, int role) const {
    const TensorMeasurement& t = row.stats;
    const bool sort = role == int(SensitivityRole::Sort);
    switch (column) {
    case SensitivityColumn::Tensor:
        return QString::fromStdString(t.name);
    case SensitivityColumn::Role:
        return roleLabel(row.role);
    case SensitivityColumn::Layer:
        if (sort)
            return row.layer ? double(*row.layer) : -1.0;
        return row.layer ? QVariant(*row.layer) : QVariant(QStringLiteral("–"));
    case SensitivityColumn::Params:
        return sort ? QVariant(double(t.elements))
                    : QVariant(formatCountShort(static_cast<std::int64_t>(t.elements)));
    case SensitivityColumn::Kurtosis:
        return sort ? QVariant(t.kurtosis) : QVariant(formatNumber(t.kurtosis, 3));
    case SensitivityColumn::Outliers:
        return sort ? QVariant(t.outlierShare) : QVariant(formatPercent(t.outlierShare));
    case SensitivityColumn::Imbalance:
        if (sort)
            return std::isfinite(t.imbalance) ? t.imbalance : -1.0;
        return std::isfinite(t.imbalance) ? QVariant(formatNumber(t.imbalance, 3))
                                          : QVariant(QStringLiteral("–"));
    case SensitivityColumn::InputSpread:
        if (sort)
            return std::isfinite(t.inputSpread) ? t.inputSpread : -1.0;
        return std::isfinite(t.inputSpread) ? QVariant(formatNumber(t.inputSpread, 3))
                                            : QVariant(QStringLiteral("n/a"));
    case SensitivityColumn::Count:
        break;
    }
    return {};
}

QVariant SensitivityModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const Row& row = m_rows[static_cast<size_t>(index.row())];
    const int col = index.column();
    if (role == int(SensitivityRole::TensorName))
        return QString::fromStdString(row.stats.name);
    if (role == int(SensitivityRole::TensorRoleId))
        return static_cast<int>(row.role);
    if (col < kSensitivityFixedColumns) {
        const auto column = static_cast<SensitivityColumn>(col);
        if (role == Qt::DisplayRole || role == int(SensitivityRole::Sort))
            return fixedData(row, column, role);
        if (role == Qt::TextAlignmentRole && col >= int(SensitivityColumn::Layer))
            return int(Qt::AlignRight | Qt::AlignVCenter);
        if (role == Qt::ToolTipRole && column == SensitivityColumn::Tensor)
            return QString::fromStdString(row.stats.name);
        return {};
    }
    const Cell* c = cell(row, col);
    const QString spec =
        QString::fromStdString(m_schemes[size_t(col - kSensitivityFixedColumns)].toString());
    switch (role) {
    case int(SensitivityRole::Spec):
        return spec;
    case int(SensitivityRole::Fallback):
        return c ? c->fallback : QString();
    case int(SensitivityRole::Value):
    case int(SensitivityRole::Sort):
        return c ? cellValue(*c) : kNaN;
    case int(SensitivityRole::NotApplicable):
        return noValueReason(row, c);
    case Qt::DisplayRole:
        if (!c)
            return QStringLiteral("…");
        if (!noValueReason(row, c).isEmpty())
            return tr("n/a");
        return (m_metric == SensitivityMetric::SqnrDb ? formatDb(c->sqnrDb)
                                                      : formatNumber(cellValue(*c), 3)) +
               (c->fallback.isEmpty() ? QString() : QStringLiteral(" *"));
    case Qt::TextAlignmentRole:
        return int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ToolTipRole:
        if (!c)
            return tr("not measured yet");
        if (!c->notApplicable.isEmpty())
            return tr("%1 does not apply to %2: %3")
                .arg(spec, QString::fromStdString(row.stats.name), c->notApplicable);
        return tr("%1 under %2\nSQNR %3 · relative RMSE %4 · %5 bits per weight%6%7")
            .arg(QString::fromStdString(row.stats.name), spec, formatDb(c->sqnrDb),
                 formatPercent(c->relRmse), formatNumber(c->bpw, 4),
                 std::isnan(c->outRelErr)
                     ? QString()
                     : tr("\noutput error %1").arg(formatPercent(c->outRelErr)),
                 c->fallback.isEmpty() ? QString()
                                       : tr("\n%1 does not apply here; llama.cpp would use %2")
                                             .arg(spec, c->fallback));
    default:
        return {};
    }
}

QVariant SensitivityModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal)
        return {};
    if (section >= kSensitivityFixedColumns && section < columnCount()) {
        const QString spec = QString::fromStdString(
            m_schemes[size_t(section - kSensitivityFixedColumns)].toString());
        if (role == Qt::DisplayRole)
            return spec;
        if (role == Qt::ToolTipRole)
            switch (m_metric) {
            case SensitivityMetric::SqnrDb:
                return tr("SQNR of each tensor under %1 (higher is better)").arg(spec);
            case SensitivityMetric::RelRmse:
                return tr("relative RMSE of each tensor under %1 (lower is better)").arg(spec);
            case SensitivityMetric::OutRelErr:
                return tr("output error ‖XWᵀ − XŴᵀ‖ / ‖XWᵀ‖ of each tensor under %1, with the "
                          "sweep's activations X (lower is better)")
                    .arg(spec);
            }
        return {};
    }
    static const char* const kNames[] = {QT_TR_NOOP("Tensor"),    QT_TR_NOOP("Role"),
                                         QT_TR_NOOP("Block"),     QT_TR_NOOP("Params"),
                                         QT_TR_NOOP("Kurtosis"),  QT_TR_NOOP("Outliers"),
                                         QT_TR_NOOP("Imbalance"), QT_TR_NOOP("Inputs")};
    static const char* const kTips[] = {
        QT_TR_NOOP("Tensor name"),
        QT_TR_NOOP("What the tensor is for, recognised from its name"),
        QT_TR_NOOP("Transformer block index"),
        QT_TR_NOOP("Number of weights"),
        QT_TR_NOOP("Excess kurtosis: heavy tails make a uniform grid waste levels"),
        QT_TR_NOOP("Share of weights beyond 3 standard deviations"),
        QT_TR_NOOP("SINQ's matrix imbalance: largest row/column std over the smallest"),
        QT_TR_NOOP("Spread of the tensor's inputs: the loudest input channel's RMS over the "
                   "median channel's, from the Model tab's activations or importance matrix "
                   "(n/a without them). Loud channels raise the output error more than the weight "
                   "error shows")};
    if (section < 0 || section >= kSensitivityFixedColumns)
        return {};
    if (role == Qt::DisplayRole)
        return tr(kNames[section]);
    if (role == Qt::ToolTipRole)
        return tr(kTips[section]);
    return {};
}

} // namespace qs
