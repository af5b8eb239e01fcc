#pragma once
// Grouped bars per method for the Methods tab: one category per scheme, one bar set per measure
// (e.g. weight error and output error, or time), with the values on hover. GUI thread only.

#include "charts/chart_view.h"

#include <QColor>
#include <QStringList>

#include <vector>

class QBarCategoryAxis;
class QValueAxis;

namespace qs {

struct MethodsBars {
    QString name;
    QColor colour;
    std::vector<double> values; // one per category; NaN: no bar
};

class MethodsChart : public ChartView {
    Q_OBJECT
public:
    MethodsChart(const QString& title, const QString& valueTitle, QWidget* parent = nullptr);

    void setBars(const QStringList& categories, const std::vector<MethodsBars>& sets);
    int categoryCount() const { return static_cast<int>(m_categories.size()); }
    // The category labels' angle: 0, or -90 where the names do not fit side by side.
    int labelsAngle() const;
    QString csvData() const override;

protected:
    void fitToData() override;
    void resizeEvent(QResizeEvent* event) override; // the labels' angle follows the width

private:
    QStringList m_categories;
    std::vector<MethodsBars> m_sets;
    QBarCategoryAxis* m_x;
    QValueAxis* m_y;
};

} // namespace qs
