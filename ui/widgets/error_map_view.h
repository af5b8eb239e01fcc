#pragma once
// Where one scheme's error sits in the matrix: the RMSE of w - w^ per tile of a coarse grid
// (rows down, columns across; bright = more error, on a scale shared by the compared schemes),
// with the per-row RMSE as bars on the right and the per-column RMSE as bars underneath, so
// loud rows (per-channel outliers) and loud columns (input channels) stand out. Hover names the
// tile. GUI thread only.

#include "metrics/error_map.h"

#include <QColor>
#include <QWidget>

namespace qs {

class ErrorMapView : public QWidget {
    Q_OBJECT
public:
    explicit ErrorMapView(QWidget* parent = nullptr);

    void setMap(const QString& spec, const QColor& colour, const ErrorMap& map);
    void clear();
    // The RMSE drawn brightest (shared across the compared schemes).
    void setScaleMax(double rmse);
    bool hasMap() const { return !m_map.tileRmse.empty(); }
    const ErrorMap& map() const { return m_map; }
    // The tile (grid row, grid column) under a widget position, or (-1, -1).
    std::pair<int, int> tileAt(const QPoint& pos) const;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;

private:
    QRect gridRect() const;
    double rowBand(int gridRow) const; // RMS of the row RMSEs in that grid row
    double colBand(int gridCol) const;

    QString m_spec;
    QColor m_colour;
    ErrorMap m_map;
    double m_scaleMax = 0;
};

} // namespace qs
