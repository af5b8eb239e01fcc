#pragma once
// One horizontal stacked bar: the memory a model needs, item by item (weights, scales, KV cache,
// training states), in GB, with the shared chart context menu. GUI thread only.

#include "charts/chart_view.h"
#include "teach/memory_lesson.h"

class QBarCategoryAxis;
class QValueAxis;

namespace qs {

class MemoryChart : public ChartView {
    Q_OBJECT
public:
    explicit MemoryChart(QWidget* parent = nullptr);

    // `lines` stacked in one bar, beside a reference bar of `referenceBytes` (the weights in
    // fp16), so the saving and the hidden costs read at a glance.
    void setLines(const std::vector<MemoryLine>& lines, double referenceBytes);
    static QString itemName(MemoryItem item);
    static QColor itemColour(MemoryItem item);

    QString csvData() const override;

protected:
    void fitToData() override;

private:
    std::vector<MemoryLine> m_lines;
    double m_reference = 0;
    QBarCategoryAxis* m_category;
    QValueAxis* m_value;
};

} // namespace qs
