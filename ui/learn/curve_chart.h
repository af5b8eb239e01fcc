#pragma once
// A small multi-series chart for the lessons' extra views (SNR against amplitude, SQNR against
// bits or bits per weight, ...): named lines or point clouds with a legend, optional highlighted
// "you are here" point, and the shared ChartView context menu (PNG/SVG/CSV, reset zoom).
// GUI thread only.

#include "charts/chart_view.h"

#include <QColor>
#include <QList>
#include <QPointF>

class QScatterSeries;
class QValueAxis;

namespace qs {

class PointNames;

struct CurveSeries {
    QString name;
    QList<QPointF> points;
    QColor colour;
    bool scatter = false;   // points only (labelled by `labels` when given)
    QStringList labels;     // one per point, shown on hover
    QStringList pointNames; // scatter: a short name written next to each point (no legend entry)
};

class CurveChart : public ChartView {
    Q_OBJECT
public:
    explicit CurveChart(QWidget* parent = nullptr);

    void setCurves(const QString& title, const QString& xTitle, const QString& yTitle,
                   const QList<CurveSeries>& curves, const QList<QPointF>& highlight = {});
    int seriesCount() const { return static_cast<int>(m_curves.size()); }
    // Where the named points' names are drawn (chart coordinates; empty where hidden).
    QList<QRectF> nameRects() const;
    const QList<CurveSeries>& curves() const { return m_curves; }

    QString csvData() const override;

protected:
    void resizeEvent(QResizeEvent* event) override;
    void fitToData() override;

private:
    void addNamedPoints(const CurveSeries& c);

    QList<CurveSeries> m_curves;
    QList<QPointF> m_highlight;
    QScatterSeries* m_here = nullptr; // the highlighted point's ring
    void showHereInLegend();          // "current" in the legend where there is room for it
    PointNames* m_names;              // the named points' names, clear of each other
    QValueAxis* m_x;
    QValueAxis* m_y;
};

} // namespace qs
