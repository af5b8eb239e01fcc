#pragma once
// The memory planner's chart: what the model needs, part by part (weights by role, KV cache,
// activations, gradients, optimizer states, adapters), stacked in one bar for the chosen setup
// beside a bar for the same setup with the weights as stored, in GiB. GUI thread only.

#include "charts/chart_view.h"

#include <QColor>

#include <vector>

class QBarCategoryAxis;
class QValueAxis;

namespace qs {

class WrappedLegend;

struct MemorySegment {
    QString name;
    QColor colour;
    double bytes = 0;          // this setup
    double referenceBytes = 0; // weights as stored
};

class MemoryBreakdownChart : public ChartView {
    Q_OBJECT
public:
    explicit MemoryBreakdownChart(QWidget* parent = nullptr);

    void setSegments(const std::vector<MemorySegment>& segments, const QString& setupLabel);
    const std::vector<MemorySegment>& segments() const { return m_segments; }
    QString unitName() const { return m_unitName; } // the value axis's: GiB, MiB or KiB
    QString csvData() const override;

    // The parts' names as its legend (which wraps under the bars) shows them.
    QString legendText() const;

protected:
    void fitToData() override;

private:
    std::vector<MemorySegment> m_segments;
    double m_unitBytes = 1024.0 * 1024.0 * 1024.0;
    QString m_unitName = QStringLiteral("GiB");
    QBarCategoryAxis* m_category;
    QValueAxis* m_value;
    WrappedLegend* m_legend;
};

} // namespace qs
