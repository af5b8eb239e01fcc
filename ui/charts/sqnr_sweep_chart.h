#pragma once
// SQNR (dB) against bit width for the selected tensor under the current family and options, with
// the current bit width highlighted. A fixed-width family is drawn with its siblings (q4_k among
// the k-quants, mxfp4 among the MX widths), each point named. Hovering a point shows its honest
// bits per weight. Where the sweep had activations or an importance matrix, the output's SNR at
// each width is drawn too (dashed), with a legend telling the two apart.

#include "charts/chart_view.h"
#include "charts/plot_data.h"
#include "charts/point_names.h"

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
    int outputPointCount() const { return static_cast<int>(m_plot.outputSnr.size()); }
    // The highlighted bit width, 0 when none.
    int highlightedBits() const;
    // The names written beside the points (a ladder's siblings); none for a variable width.
    QStringList pointNames() const;

    QString csvData() const override;

protected:
    void fitToData() override;

private:
    void onHovered(const QPointF& point, bool state);

    QString nameAt(double bits) const; // the family measured at that width

    SweepPlot m_plot;
    PointNames* m_names;
    QLineSeries* m_curve;
    QScatterSeries* m_points;
    QScatterSeries* m_current;
    QLineSeries* m_outCurve; // the output's SNR, dashed
    QScatterSeries* m_outPoints;
    QValueAxis* m_x;
    QValueAxis* m_y;
};

} // namespace qs
