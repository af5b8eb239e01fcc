#pragma once
// The Compare tab's level-placement chart: the weight histogram with each compared scheme's
// reconstruction levels (of its widest group) drawn over it as faint lines in the scheme's
// colour, and again as a solid rug in the scheme's own lane along the top, so where each scheme
// spends its levels can be read side by side.

#include "charts/chart_view.h"
#include "charts/plot_data.h"

#include <array>

class QAreaSeries;
class QLineSeries;
class QValueAxis;

namespace qs {

class CompareLevelsChart : public ChartView {
    Q_OBJECT
public:
    static constexpr int kSlots = 3;

    explicit CompareLevelsChart(QWidget* parent = nullptr);

    void setWeights(const HistogramPlot& weights);
    // `lines` and `rug` as built by the compare job for this slot; `dashed` tells apart two
    // slots of one family (same colour).
    void setSlot(int slot, const QString& spec, const std::vector<float>& levels,
                 const QList<QPointF>& lines, const QList<QPointF>& rug, const QColor& colour,
                 bool dashed);
    void clearSlot(int slot);
    void clear();
    int levelCount(int slot) const;
    int binCount() const { return static_cast<int>(m_plot.counts.size()); }

    QString csvData() const override;

protected:
    void fitToData() override;

private:
    struct Slot {
        QString spec;
        std::vector<float> levels;
        QLineSeries* lines = nullptr;
        QLineSeries* rug = nullptr;
    };
    void onLevelHovered(int slot, const QPointF& point, bool state);

    HistogramPlot m_plot;
    std::array<Slot, kSlots> m_slots;
    QLineSeries* m_outline;
    QLineSeries* m_base;
    QAreaSeries* m_area;
    QValueAxis* m_x;
    QValueAxis* m_y;
    QValueAxis* m_yLevels; // hidden [0, 1]
};

} // namespace qs
