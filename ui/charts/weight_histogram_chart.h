#pragma once
// Histogram of the original weights with the scheme's reconstruction levels (of the widest
// group) drawn over it as thin vertical lines in the scheme's colour. Linear or log count axis.

#include "charts/chart_view.h"
#include "charts/plot_data.h"

class QAreaSeries;
class QLineSeries;
class QLogValueAxis;
class QValueAxis;

namespace qs {

class WeightHistogramChart : public ChartView {
    Q_OBJECT
public:
    explicit WeightHistogramChart(QWidget* parent = nullptr);

    void setPlots(const HistogramPlot& weights, const std::vector<float>& levels,
                  const QList<QPointF>& levelLines, const QColor& schemeColour);
    void clear();

    bool isLogScale() const { return m_logScale; }
    void setLogScale(bool on);
    int levelCount() const { return static_cast<int>(m_levels.size()); }
    int binCount() const { return static_cast<int>(m_plot.counts.size()); }
    // The drawn levels' lowest point, on the hidden [0, 1] axis: 0 for full-height lines; a
    // dense grid's rug sits along the top.
    double levelsBottom() const;

    QString csvData() const override;

Q_SIGNALS:
    void logScaleChanged(bool on);

protected:
    void fitToData() override;
    void addContextActions(QMenu* menu) override;

private:
    void applyOutline();
    void onBinHovered(const QPointF& point, bool state);
    void onLevelHovered(const QPointF& point, bool state);

    HistogramPlot m_plot;
    std::vector<float> m_levels;
    bool m_logScale = false;
    QLineSeries* m_outline;
    QLineSeries* m_base;
    QAreaSeries* m_area;
    QLineSeries* m_levelSeries;
    QValueAxis* m_x;
    QValueAxis* m_yLinear;
    QLogValueAxis* m_yLog;
    QValueAxis* m_yLevels; // hidden [0, 1]: level lines span the plot height
};

} // namespace qs
