#pragma once
// Per-index profiles for the Methods tab: one line per named series over an index (row, column
// or input channel), on a linear or logarithmic value axis — SINQ's row and column standard
// deviations before and after its normalisation, AWQ's per-channel scales beside the
// activations' mean |x|. GUI thread only.

#include "charts/chart_view.h"

#include <QColor>

#include <vector>

class QAbstractAxis;
class QValueAxis;

namespace qs {

struct ProfileSeries {
    QString name;
    QColor colour;
    std::vector<double> values;
};

class ProfileChart : public ChartView {
    Q_OBJECT
public:
    ProfileChart(const QString& title, const QString& indexTitle, const QString& valueTitle,
                 bool logValues, QWidget* parent = nullptr);

    void setSeries(const std::vector<ProfileSeries>& series);
    const std::vector<ProfileSeries>& series() const { return m_series; }
    double indexTickInterval() const; // a power of two, about six ticks over the indices
    QString csvData() const override;

protected:
    void fitToData() override;

private:
    std::vector<ProfileSeries> m_series;
    QString m_valueTitle;
    bool m_log;
    QValueAxis* m_x;
    QAbstractAxis* m_y;
};

} // namespace qs
