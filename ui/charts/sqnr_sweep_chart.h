#pragma once
// SQNR (dB) against bit width for the selected tensor under the current family and options, with
// the current bit width highlighted. Hovering a point shows its honest bits per weight.

#include "charts/chart_view.h"
#include "charts/plot_data.h"

class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace qs {

class SqnrSweepChart : public ChartView {
    Q_OBJECT
public:
    explicit SqnrSweepChart(QWidget* parent = nullptr);

    void setPlot(const SweepPlot& plot, const QColor& schemeColour);
    void clear();
    int pointCount() const { return static_cast<int>(m_plot.sqnr.size()); }
    // The highlighted bit width, 0 when none.
    int highlightedBits() const;

    QString csvData() const override;

protected:
    void fitToData() override;

private:
    void onHovered(const QPointF& point, bool state);

    SweepPlot m_plot;
    QLineSeries* m_curve;
    QScatterSeries* m_points;
    QScatterSeries* m_current;
    QValueAxis* m_x;
    QValueAxis* m_y;
};

} // namespace qs
