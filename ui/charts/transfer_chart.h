#pragma once
// The transfer function of the widest group: input x over the tensor's range against its
// reconstruction (the nearest level), a staircase, with y = x for reference.

#include "charts/chart_view.h"
#include "charts/plot_data.h"

class QLineSeries;
class QValueAxis;

namespace qs {

class TransferChart : public ChartView {
    Q_OBJECT
public:
    explicit TransferChart(QWidget* parent = nullptr);

    void setPlot(const AnalysisPlots& plots, const QColor& schemeColour);
    void clear();
    int stepCount() const { return static_cast<int>(m_levels.size()); }

    QString csvData() const override;

protected:
    void fitToData() override;

private:
    void onHovered(const QPointF& point, bool state);

    std::vector<float> m_levels;
    QList<QPointF> m_staircase;
    double m_lo = 0, m_hi = 0;
    QLineSeries* m_identity;
    QLineSeries* m_stairs;
    QValueAxis* m_x;
    QValueAxis* m_y;
};

} // namespace qs
