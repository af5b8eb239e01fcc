#include "models/block_walk_model.h"

#include "number_format.h"

#include <QColor>

#include <cmath>

namespace qs {

BlockWalkModel::BlockWalkModel(QObject* parent) : QAbstractTableModel(parent) {}

void BlockWalkModel::setWalk(const BlockWalk& walk) {
    beginResetModel();
    m_walk = walk;
    endResetModel();
}

int BlockWalkModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_walk.elements.size());
}

int BlockWalkModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : Count;
}

QVariant BlockWalkModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const ElementWalk& e = m_walk.elements[static_cast<std::size_t>(index.row())];
    if (role == static_cast<int>(Role::ElementIndex))
        return index.row();
    if (role == static_cast<int>(Role::ByteIndex))
        return static_cast<qulonglong>(e.byte);
    if (role == static_cast<int>(Role::HighNibble))
        return e.highNibble;
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ForegroundRole && index.column() == Error) {
        const double rel = e.scale != 0 ? std::abs(e.error / e.scale) : 0.0;
        return rel > 1.0 ? QColor(0xC0392B) : QVariant();
    }
    if (role == Qt::ToolTipRole && index.column() == Stored)
        return tr("Byte %1 of the block, bits %2")
            .arg(e.byte)
            .arg(e.highNibble ? QStringLiteral("4–7 (high nibble)")
                              : QStringLiteral("0–3 (low nibble)"));
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Index:
        return index.row();
    case Raw:
        return formatNumber(e.raw, 5);
    case Code:
        return e.code;
    case CodeBits:
        return QStringLiteral("%1").arg(e.code, 4, 2, QLatin1Char('0'));
    case Meaning:
        return formatNumber(e.codeValue, 4);
    case Scale:
        return e.offset != 0 ? QStringLiteral("%1, %2").arg(formatNumber(e.scale, 4),
                                                            formatNumber(e.offset, 4))
                             : formatNumber(e.scale, 4);
    case Reconstruction:
        return formatNumber(e.reconstruction, 5);
    case Error:
        return formatNumber(e.error, 3);
    case Stored:
        return QStringLiteral("%1 %2").arg(e.byte).arg(e.highNibble ? tr("high") : tr("low"));
    default:
        return {};
    }
}

QVariant BlockWalkModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case Code:
            return tr("The stored 4-bit code q");
        case Meaning:
            return tr("What the code stands for before scaling: q − zero, a table value or an "
                      "E2M1 number");
        case Scale:
            return tr("The multiplier applied to the code's value (Q4_K: scale, then offset)");
        case Stored:
            return tr("Which byte of the block holds the code, and which half of it");
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Index:
        return tr("#");
    case Raw:
        return tr("raw x");
    case Code:
        return tr("code q");
    case CodeBits:
        return tr("bits");
    case Meaning:
        return tr("value of q");
    case Scale:
        return tr("scale");
    case Reconstruction:
        return tr("reconstructed");
    case Error:
        return tr("error");
    case Stored:
        return tr("byte, nibble");
    default:
        return {};
    }
}

} // namespace qs
