#pragma once
// Histogram of the signed error w − ŵ over a range symmetric about zero, in the scheme's colour.

#include "charts/chart_view.h"
#include "charts/plot_data.h"

class QAreaSeries;
class QLineSeries;
class QValueAxis;

namespace qs {

class ErrorHistogramChart : public ChartView {
    Q_OBJECT
public:
    explicit ErrorHistogramChart(QWidget* parent = nullptr);

    void setPlot(const HistogramPlot& errors, const QColor& schemeColour);
    void clear();
    int binCount() const { return static_cast<int>(m_plot.counts.size()); }

    QString csvData() const override;

protected:
    void fitToData() override;

private:
    void onHovered(const QPointF& point, bool state);

    HistogramPlot m_plot;
    QLineSeries* m_outline;
    QLineSeries* m_base;
    QAreaSeries* m_area;
    QValueAxis* m_x;
    QValueAxis* m_y;
};

} // namespace qs
