#pragma once
// The block inspector: pick a 4-bit format and a block of the lesson's data, and see that block
// walked through the format — the stored scale fields, every element's code, the packed bytes
// (hex and bits, nibble order spelled out) and the reconstruction with its error. The walk is
// core's inspectBlock(); this widget only shows it. GUI thread only.

#include "teach/block_inspector.h"

#include <QWidget>

#include <vector>

class QComboBox;
class QLabel;
class QSpinBox;
class QTableView;

namespace qs {

class BlockWalkModel;
class PackedBytesView;

class BlockInspectorView : public QWidget {
    Q_OBJECT
public:
    explicit BlockInspectorView(QWidget* parent = nullptr);

    // The values blocks are cut from (flattened, consecutive).
    void setValues(const std::vector<float>& values);
    void setFormat(BlockFormat f);
    BlockFormat format() const;
    void setBlock(int block);
    int blockCount() const;

    const BlockWalk& walk() const;
    QString layoutText() const;
    QString scalesText() const;
    PackedBytesView* bytesView() const { return m_bytes; }
    QTableView* table() const { return m_table; }

Q_SIGNALS:
    void walkChanged();

private:
    void refresh();
    void selectElement(int element);
    QString describeLayout(const BlockWalk& w) const;
    QString describeScales(const BlockWalk& w) const;

    std::vector<float> m_values;
    float m_absmax = 0;
    QComboBox* m_format;
    QSpinBox* m_block;
    QLabel* m_layout;
    QLabel* m_scales;
    PackedBytesView* m_bytes;
    BlockWalkModel* m_model;
    QTableView* m_table;
};

} // namespace qs
