#pragma once
// The Compare tab's transfer functions: input x over the tensor's range against each compared
// scheme's reconstruction (nearest level of its widest group), one staircase per scheme in its
// colour, with y = x for reference and a legend naming the schemes (wrapping: WrappedLegend).

#include "charts/chart_view.h"
#include "charts/plot_data.h"

#include <array>

class QLineSeries;
class QValueAxis;

namespace qs {

class WrappedLegend;

class CompareTransferChart : public ChartView {
    Q_OBJECT
public:
    static constexpr int kSlots = 3;

    explicit CompareTransferChart(QWidget* parent = nullptr);

    // The input range (the weight histogram's), for y = x and the axes.
    void setRange(double lo, double hi);
    void setSlot(int slot, const QString& spec, const QList<QPointF>& staircase,
                 const QColor& colour, bool dashed);
    void clearSlot(int slot);
    void clear();
    int stepCount(int slot) const;

    QString csvData() const override;

protected:
    void fitToData() override;

private:
    struct Slot {
        QString spec;
        QList<QPointF> staircase;
        QLineSeries* series = nullptr;
    };
    void onHovered(int slot, const QPointF& point, bool state);

    std::array<Slot, kSlots> m_slots;
    double m_lo = 0, m_hi = 0;
    QLineSeries* m_identity;
    QValueAxis* m_x;
    QValueAxis* m_y;
    WrappedLegend* m_legend = nullptr;
};

} // namespace qs
