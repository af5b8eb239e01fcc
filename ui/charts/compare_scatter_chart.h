#pragma once
// Signed error against value for the compared schemes: a sample of (w, w - w^) points per
// scheme in its colour (an even stride over the tensor plus its largest errors), so one sees
// where each scheme's error grows — a uniform grid's flat band, μ-law's error growing with |w|,
// clipping's wings. GUI thread only.

#include "charts/chart_view.h"

#include <QColor>
#include <QList>
#include <QPointF>

#include <array>

class QScatterSeries;
class QValueAxis;

namespace qs {

class WrappedLegend;

class CompareScatterChart : public ChartView {
    Q_OBJECT
public:
    static constexpr int kSlots = 3;

    explicit CompareScatterChart(QWidget* parent = nullptr);

    void setSlot(int slot, const QString& spec, const QList<QPointF>& points, const QColor& colour);
    void clearSlot(int slot);
    void clear();
    int pointCount(int slot) const;

    QString csvData() const override;

protected:
    void fitToData() override;

private:
    std::array<QScatterSeries*, kSlots> m_series{};
    QValueAxis* m_x;
    QValueAxis* m_y;
    WrappedLegend* m_legend = nullptr;
};

} // namespace qs
