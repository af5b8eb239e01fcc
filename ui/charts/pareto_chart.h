#pragma once
// Error against size for mixed-precision plans: the Pareto curve of plans the solver finds at
// every budget (SQNR in dB against bits per weight, or the output's SNR where the plan minimises
// the output error), each uniform candidate as a labelled point in its family's colour and named
// beside it (placed clear of the other names), the budget as a vertical line and the current plan
// as a ring. Hovering a point names it. GUI thread only.

#include "charts/chart_view.h"
#include "plan/planner.h"

#include <vector>

class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace qs {

class PointNames;

class ParetoChart : public ChartView {
    Q_OBJECT
public:
    explicit ParetoChart(QWidget* parent = nullptr);

    void setCurve(const std::vector<ParetoPoint>& plans, const std::vector<ParetoPoint>& uniform);
    void setCurrent(double budgetBpw, const ParetoPoint* plan); // plan may be null
    void clear();
    // What the points' relRmse and sqnrDb measure: the weights' error or the output's (axis
    // title, hover text and CSV header follow).
    void setObjective(PlanObjective objective);
    PlanObjective objective() const { return m_objective; }
    int curvePoints() const { return static_cast<int>(m_plans.size()); }
    int uniformPoints() const { return static_cast<int>(m_uniform.size()); }
    double budgetLine() const { return m_budget; }
    // Where the uniform schemes' names are drawn (chart coordinates; empty where hidden).
    QList<QRectF> labelRects() const;

    QString csvData() const override;

protected:
    void fitToData() override;

private:
    void onHovered(const QPointF& point, bool state);
    void updateBudgetLine();
    QList<QRectF> labelObstacles() const; // the curve's points and the current plan's ring
    QList<QLineF> curveLines() const;     // the curve's segments (names keep off them)
    QString snrName() const;              // "SQNR" or "output SNR"
    QString errName() const;              // "rel RMSE" or "output err"

    std::vector<ParetoPoint> m_plans, m_uniform;
    double m_budget = 0;
    PlanObjective m_objective = PlanObjective::WeightError;
    QLineSeries* m_curve;
    QScatterSeries* m_curvePoints;
    std::vector<QScatterSeries*> m_uniformSeries;
    PointNames* m_names; // the uniform schemes' names
    QLineSeries* m_budgetSeries;
    QScatterSeries* m_current;
    QValueAxis* m_x;
    QValueAxis* m_y;
};

} // namespace qs
