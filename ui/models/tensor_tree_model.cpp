#include "models/tensor_tree_model.h"

#include "analysis/tensor_analysis.h"
#include "number_format.h"

#include <QBrush>
#include <QColor>
#include <QRegularExpression>

#include <algorithm>
#include <map>

namespace qs {
namespace {

constexpr int kColumns = static_cast<int>(TensorColumn::Count);
constexpr quintptr kTopLevel = 0; // internalId of top-level rows; children store parent row + 1

const QRegularExpression& layerPattern() {
    // model.layers.3.x, transformer.h.3.x, blocks.3.x, encoder.layer.3.x, GGUF blk.3.x ...
    static const QRegularExpression re(
        QStringLiteral(R"(^(.*?)\b(layers|layer|h|blocks|block|blk)\.(\d+)\.(.+)$)"));
    return re;
}

} // namespace

TensorTreeModel::TensorTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void TensorTreeModel::setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint) {
    beginResetModel();
    m_checkpoint = std::move(checkpoint);
    build();
    endResetModel();
}

void TensorTreeModel::build() {
    m_items.clear();
    m_tensorByName.clear();
    m_location.clear();
    m_metrics.clear();
    if (!m_checkpoint)
        return;
    const auto& tensors = m_checkpoint->tensors();
    std::map<QString, size_t> groupByKey;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const TensorInfo& t = tensors[i];
        const QString name = QString::fromStdString(t.name);
        const QString dtype = QString::fromStdString(t.typeName());
        const auto m = layerPattern().match(name);
        if (!m.hasMatch()) {
            m_items.push_back({name, static_cast<int>(i), {}, {}, {}, 0, t.numel(), dtype});
            continue;
        }
        const QString stem = m.captured(1) + m.captured(2);
        const QString key = stem + QLatin1Char('.') + m.captured(3);
        auto [it, inserted] = groupByKey.try_emplace(key, m_items.size());
        if (inserted) {
            TopItem g;
            g.label = m.captured(2) + QLatin1Char('.') + m.captured(3);
            g.memberPrefix = key + QLatin1Char('.');
            g.groupStem = stem;
            g.groupNumber = m.captured(3).toLongLong();
            g.dtype = dtype;
            m_items.push_back(std::move(g));
        }
        TopItem& g = m_items[it->second];
        g.members.push_back(static_cast<int>(i));
        g.parameters += t.numel();
        if (g.dtype != dtype)
            g.dtype = tr("mixed");
    }

    // Groups keep the slots they first appeared in, but in numeric order (layers.10 after
    // layers.9).
    std::vector<size_t> slots;
    std::vector<TopItem> groups;
    for (size_t i = 0; i < m_items.size(); ++i) {
        if (m_items[i].tensor < 0) {
            slots.push_back(i);
            groups.push_back(std::move(m_items[i]));
        }
    }
    std::stable_sort(groups.begin(), groups.end(), [](const TopItem& a, const TopItem& b) {
        return a.groupStem != b.groupStem ? a.groupStem < b.groupStem
                                          : a.groupNumber < b.groupNumber;
    });
    std::map<QString, int> labelUse;
    for (const TopItem& g : groups)
        ++labelUse[g.label];
    for (size_t k = 0; k < slots.size(); ++k) {
        if (labelUse[groups[k].label] > 1) // e.g. encoder and decoder layers both numbered
            groups[k].label = groups[k].memberPrefix.chopped(1);
        m_items[slots[k]] = std::move(groups[k]);
    }

    m_location.assign(tensors.size(), {-1, -1});
    for (size_t row = 0; row < m_items.size(); ++row) {
        const TopItem& item = m_items[row];
        if (item.tensor >= 0)
            m_location[static_cast<size_t>(item.tensor)] = {static_cast<int>(row), -1};
        for (size_t c = 0; c < item.members.size(); ++c)
            m_location[static_cast<size_t>(item.members[c])] = {static_cast<int>(row),
                                                                static_cast<int>(c)};
    }
    for (size_t i = 0; i < tensors.size(); ++i)
        m_tensorByName.insert(QString::fromStdString(tensors[i].name), static_cast<int>(i));
    m_metrics.assign(tensors.size(), std::nullopt);
}

QModelIndex TensorTreeModel::indexOfTensorIndex(int tensor, int column) const {
    if (tensor < 0 || static_cast<size_t>(tensor) >= m_location.size())
        return {};
    const auto [row, child] = m_location[static_cast<size_t>(tensor)];
    if (row < 0)
        return {};
    return child < 0 ? index(row, column) : index(child, column, index(row, 0));
}

void TensorTreeModel::setMetric(const QString& tensor, const TensorMetric& metric) {
    const auto it = m_tensorByName.constFind(tensor);
    if (it == m_tensorByName.constEnd())
        return;
    m_metrics[static_cast<size_t>(*it)] = metric;
    const int first = static_cast<int>(TensorColumn::Bpw);
    const int last = static_cast<int>(TensorColumn::Sqnr);
    const QModelIndex cell = indexOfTensorIndex(*it, first);
    Q_EMIT dataChanged(cell, cell.siblingAtColumn(last));
    const QModelIndex group = cell.parent();
    if (group.isValid())
        Q_EMIT dataChanged(group.siblingAtColumn(first), group.siblingAtColumn(last));
}

void TensorTreeModel::clearMetrics() {
    if (m_metrics.empty())
        return;
    std::fill(m_metrics.begin(), m_metrics.end(), std::nullopt);
    const int first = static_cast<int>(TensorColumn::Bpw);
    const int last = static_cast<int>(TensorColumn::Sqnr);
    const int rows = rowCount();
    if (rows == 0)
        return;
    Q_EMIT dataChanged(index(0, first), index(rows - 1, last));
    for (int r = 0; r < rows; ++r) {
        const QModelIndex parent = index(r, 0);
        if (const int n = rowCount(parent); n > 0)
            Q_EMIT dataChanged(index(0, first, parent), index(n - 1, last, parent));
    }
}

const TensorMetric* TensorTreeModel::metric(const QString& tensor) const {
    const auto it = m_tensorByName.constFind(tensor);
    if (it == m_tensorByName.constEnd() || !m_metrics[static_cast<size_t>(*it)])
        return nullptr;
    return &*m_metrics[static_cast<size_t>(*it)];
}

TensorMetric TensorTreeModel::groupMetric(const TopItem& item) const {
    std::vector<const TensorMetric*> members;
    for (int t : item.members)
        if (const auto& m = m_metrics[static_cast<size_t>(t)])
            members.push_back(&*m);
    return mergeMetrics(members);
}

QVariant TensorTreeModel::metricData(const TensorMetric* m, TensorColumn column, int role) const {
    const bool bpw = column == TensorColumn::Bpw;
    switch (role) {
    case Qt::DisplayRole:
        return m ? (bpw ? bpwText(*m) : sqnrCellText(*m)) : QString();
    case Qt::TextAlignmentRole:
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        return m && m->status != TensorMetric::Status::Ok
                   ? QVariant(QBrush(QColor(0x8A, 0x8A, 0x8A)))
                   : QVariant();
    case Qt::ToolTipRole:
        if (m && !m->message.isEmpty())
            return m->message;
        return bpw ? tr("Bits per weight under the current scheme, scales included")
                   : tr("SQNR under the current scheme (groups: of all their tensors together)");
    default:
        break;
    }
    if (role == static_cast<int>(TensorTreeRole::SortKey))
        return bpw ? bpwSortKey(m) : sqnrSortKey(m);
    return {};
}

QModelIndex TensorTreeModel::indexOfTensor(const QString& name) const {
    const auto it = m_tensorByName.constFind(name);
    return it == m_tensorByName.constEnd() ? QModelIndex() : indexOfTensorIndex(*it, 0);
}

const TensorInfo* TensorTreeModel::tensorAt(const QModelIndex& index) const {
    const int t = tensorIndex(index);
    return t < 0 ? nullptr : &m_checkpoint->tensors()[static_cast<size_t>(t)];
}

int TensorTreeModel::groupCount() const {
    return static_cast<int>(std::count_if(m_items.begin(), m_items.end(),
                                          [](const TopItem& i) { return i.tensor < 0; }));
}

int TensorTreeModel::tensorCount() const {
    return m_checkpoint ? static_cast<int>(m_checkpoint->tensors().size()) : 0;
}

int TensorTreeModel::tensorIndex(const QModelIndex& index) const {
    if (!index.isValid())
        return -1;
    if (index.internalId() == kTopLevel)
        return m_items[static_cast<size_t>(index.row())].tensor;
    return m_items[index.internalId() - 1].members[static_cast<size_t>(index.row())];
}

QModelIndex TensorTreeModel::index(int row, int column, const QModelIndex& parent) const {
    if (!hasIndex(row, column, parent))
        return {};
    if (!parent.isValid())
        return createIndex(row, column, kTopLevel);
    return createIndex(row, column, static_cast<quintptr>(parent.row()) + 1);
}

QModelIndex TensorTreeModel::parent(const QModelIndex& child) const {
    if (!child.isValid() || child.internalId() == kTopLevel)
        return {};
    return createIndex(static_cast<int>(child.internalId() - 1), 0, kTopLevel);
}

int TensorTreeModel::rowCount(const QModelIndex& parent) const {
    if (!parent.isValid())
        return static_cast<int>(m_items.size());
    if (parent.column() != 0 || parent.internalId() != kTopLevel)
        return 0;
    return static_cast<int>(m_items[static_cast<size_t>(parent.row())].members.size());
}

int TensorTreeModel::columnCount(const QModelIndex&) const {
    return kColumns;
}

QVariant TensorTreeModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    if (index.internalId() == kTopLevel) {
        const TopItem& item = m_items[static_cast<size_t>(index.row())];
        if (item.tensor < 0)
            return groupData(item, index.column(), role, index.row());
        return tensorData(item.tensor, item.label, index.column(), role, index.row());
    }
    const TopItem& group = m_items[index.internalId() - 1];
    const int t = group.members[static_cast<size_t>(index.row())];
    const QString full =
        QString::fromStdString(m_checkpoint->tensors()[static_cast<size_t>(t)].name);
    const QString label =
        full.startsWith(group.memberPrefix) ? full.mid(group.memberPrefix.size()) : full;
    return tensorData(t, label, index.column(), role, index.row());
}

QVariant TensorTreeModel::tensorData(int tensor, const QString& label, int column, int role,
                                     int order) const {
    const TensorInfo& t = m_checkpoint->tensors()[static_cast<size_t>(tensor)];
    const auto col = static_cast<TensorColumn>(column);
    const bool quantizable = isQuantizable(t);
    if ((col == TensorColumn::Bpw || col == TensorColumn::Sqnr) &&
        role != static_cast<int>(TensorTreeRole::TensorName) &&
        role != static_cast<int>(TensorTreeRole::IsGroup) &&
        role != static_cast<int>(TensorTreeRole::FilterText)) {
        const auto& m = m_metrics[static_cast<size_t>(tensor)];
        return metricData(m ? &*m : nullptr, col, role);
    }
    switch (role) {
    case Qt::DisplayRole:
        switch (col) {
        case TensorColumn::Name:
            return label;
        case TensorColumn::Shape:
            return QString::fromStdString(t.shapeString());
        case TensorColumn::DType:
            return QString::fromStdString(t.typeName());
        case TensorColumn::Parameters:
            return formatCount(t.numel());
        case TensorColumn::Bpw:
        case TensorColumn::Sqnr:
        case TensorColumn::Count:
            break;
        }
        return {};
    case Qt::ToolTipRole:
        return tr("%1\n%2 parameters").arg(QString::fromStdString(t.name), formatCount(t.numel())) +
               (quantizable ? QString() : tr("\n1-D: kept at its stored precision by default"));
    case Qt::TextAlignmentRole:
        return col == TensorColumn::Parameters ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                               : QVariant();
    case Qt::ForegroundRole:
        return quantizable ? QVariant() : QVariant(QBrush(QColor(0x80, 0x80, 0x80)));
    default:
        break;
    }
    switch (static_cast<TensorTreeRole>(role)) {
    case TensorTreeRole::TensorName:
        return QString::fromStdString(t.name);
    case TensorTreeRole::IsGroup:
        return false;
    case TensorTreeRole::FilterText:
        return QString::fromStdString(t.name);
    case TensorTreeRole::SortKey:
        switch (col) {
        case TensorColumn::Shape:
        case TensorColumn::Parameters:
            return static_cast<qlonglong>(t.numel());
        case TensorColumn::DType:
            return QString::fromStdString(t.typeName());
        default:
            return order;
        }
    }
    return {};
}

QVariant TensorTreeModel::groupData(const TopItem& item, int column, int role, int order) const {
    const auto col = static_cast<TensorColumn>(column);
    if ((col == TensorColumn::Bpw || col == TensorColumn::Sqnr) &&
        (role == Qt::DisplayRole || role == Qt::TextAlignmentRole || role == Qt::ForegroundRole ||
         role == static_cast<int>(TensorTreeRole::SortKey))) {
        const TensorMetric m = groupMetric(item);
        const bool any = std::any_of(item.members.begin(), item.members.end(),
                                     [this](int t) { return m_metrics[static_cast<size_t>(t)]; });
        return metricData(any ? &m : nullptr, col, role);
    }
    switch (role) {
    case Qt::DisplayRole:
        if (col == TensorColumn::Name)
            return item.label;
        if (col == TensorColumn::DType)
            return item.dtype;
        if (col == TensorColumn::Parameters)
            return formatCount(item.parameters);
        return {};
    case Qt::ToolTipRole:
        return tr("%1: %2 tensors, %3 parameters")
            .arg(item.memberPrefix.chopped(1))
            .arg(item.members.size())
            .arg(formatCount(item.parameters));
    case Qt::TextAlignmentRole:
        return col == TensorColumn::Parameters ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                               : QVariant();
    default:
        break;
    }
    switch (static_cast<TensorTreeRole>(role)) {
    case TensorTreeRole::TensorName:
        return {};
    case TensorTreeRole::IsGroup:
        return true;
    case TensorTreeRole::FilterText:
        return item.label;
    case TensorTreeRole::SortKey:
        if (col == TensorColumn::Parameters || col == TensorColumn::Shape)
            return static_cast<qlonglong>(item.parameters);
        if (col == TensorColumn::DType)
            return item.dtype;
        return order;
    }
    return {};
}

QVariant TensorTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (static_cast<TensorColumn>(section)) {
    case TensorColumn::Name:
        return tr("Name");
    case TensorColumn::Shape:
        return tr("Shape");
    case TensorColumn::DType:
        return tr("Type");
    case TensorColumn::Parameters:
        return tr("Params");
    case TensorColumn::Bpw:
        return tr("bpw");
    case TensorColumn::Sqnr:
        return tr("SQNR dB");
    case TensorColumn::Count:
        break;
    }
    return {};
}

Qt::ItemFlags TensorTreeModel::flags(const QModelIndex& index) const {
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable;
}

QString preferredTensor(const Checkpoint& checkpoint) {
    const auto& tensors = checkpoint.tensors();
    const TensorInfo* firstQuantizable = nullptr;
    for (const TensorInfo& t : tensors) {
        if (!isQuantizable(t))
            continue;
        if (t.name.find("q_proj") != std::string::npos ||
            t.name.find("attn.wq") != std::string::npos ||
            t.name.find("attn_q.") != std::string::npos) // GGUF (llama.cpp names)
            return QString::fromStdString(t.name);
        if (!firstQuantizable)
            firstQuantizable = &t;
    }
    if (firstQuantizable)
        return QString::fromStdString(firstQuantizable->name);
    return tensors.empty() ? QString() : QString::fromStdString(tensors.front().name);
}

} // namespace qs
