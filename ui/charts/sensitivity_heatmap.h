#pragma once
// The sensitivity map: one row per tensor, one coloured cell per swept scheme (SQNR or relative
// RMSE on a perceptually uniform scale, bright = better), and beside each row three bars that
// show why a tensor may be sensitive — excess kurtosis, outlier share and SINQ imbalance, each
// scaled to its largest shown value. A cell where llama.cpp's fallback type stands in for the
// scheme (q4_k on widths 256 does not divide) is hatched and starred, with a note in the header.
// Rows follow the model it draws (the table's sort/filter proxy), so sorting the table reorders
// the map. Clicking a cell asks to open that tensor under that scheme. Draws only the visible
// rows; lives in a QScrollArea. GUI thread only.

#include "models/sensitivity_model.h"

#include <QColor>
#include <QWidget>

#include <limits>

class QAbstractItemModel;

namespace qs {

class SensitivityHeatmap : public QWidget {
    Q_OBJECT
public:
    static constexpr int kRowHeight = 18;
    static constexpr int kHeaderHeight = 84;
    // The tensor names' column: this wide, or narrower (names shortened, shortTensorName) down to
    // kMinLabelWidth where fitLabelsTo() is given less room.
    static constexpr int kLabelWidth = 250;
    static constexpr int kMinLabelWidth = 170;
    // A scheme's cell and a bar's column: this wide, or, once the names are at kMinLabelWidth
    // and the map is still wider than fitLabelsTo()'s width, narrower alike down to the least
    // (for cells, no less than the widest figure they can show: leastCellWidth()).
    static constexpr int kCellWidth = 62;
    static constexpr int kMinCellWidth = 42;
    static constexpr int kBarWidth = 70;
    static constexpr int kMinBarWidth = 24;

    explicit SensitivityHeatmap(QWidget* parent = nullptr);

    // A SensitivityModel, or a proxy over one.
    void setModel(QAbstractItemModel* model);
    // Values at or below `lo` get the darkest colour, at or above `hi` the brightest; with
    // `higherIsBetter` false the scale is reversed.
    void setScale(double lo, double hi, bool higherIsBetter);
    static QColor scaleColour(double t); // t in [0, 1]: dark (poor) to bright (good)
    // Some shown cell holds llama.cpp's fallback type (drawn hatched, with a note above).
    bool hasStandIns() const { return anyCell(SensitivityRole::Fallback); }
    // Some shown cell's scheme does not apply, with nothing standing in ("n/a", a note above).
    bool hasNotApplicable() const { return anyCell(SensitivityRole::NotApplicable); }
    double scaleLow() const { return m_lo; }
    double scaleHigh() const { return m_hi; }
    bool higherIsBetter() const { return m_higherIsBetter; }

    // The model row and column under a widget position (-1 when none).
    std::pair<int, int> cellAt(const QPoint& pos) const;
    QRect cellRect(int row, int column) const; // for tests
    QSize sizeHint() const override;
    // Narrows the names' column so that the map fits `width` where it can, then the scheme
    // cells and the bars (kMin*Width).
    void fitLabelsTo(int width);
    void showWholeNames(); // the names, cells and bars at their whole widths again
    int labelWidth() const { return m_labelWidth; }
    int cellWidth() const { return m_cellWidth; }
    int barWidth() const { return m_barWidth; }
    int leastCellWidth() const;
    // The whole map, every row, under the widget given here (the colour scale, which lives
    // beside the map), so that the image says what its colours are.
    bool savePng(const QString& path);
    void setExportHeader(QWidget* header) { m_exportHeader = header; }
    QString csv() const; // the SensitivityModel's figures (through a proxy too)

Q_SIGNALS:
    // A cell was clicked: the tensor and the scheme's spec (empty for the label and bar area).
    void cellActivated(const QString& tensor, const QString& spec);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    // Save the map as PNG, copy or save its figures as CSV (the model's csv(), if it has one).
    void contextMenuEvent(QContextMenuEvent* event) override;
    bool event(QEvent* event) override;

private:
    bool anyCell(SensitivityRole role) const; // a shown scheme cell has the role's text
    int schemeCount() const;
    int barCount() const { return m_inputBars ? 4 : 3; }
    // Whether some row has an input spread, so its bars are drawn: all rows (last < 0), or
    // rows [first, last] just arrived or changed.
    void noteInputBars(int first = 0, int last = -1);
    int barsLeft() const;
    int fixedWidth() const; // all but the names' column
    void paintHeader(QPainter& p) const;
    void paintRow(QPainter& p, int row, const double* barMax) const;
    void refresh();
    // The names', cells' and bars' widths for m_fitWidth and the current columns; true when
    // they changed.
    bool fitWidths();
    // m_nameLevel: the shortTensorLevel of the rows' names in the names' column (all rows are
    // shortened alike, so that they stay aligned).
    void fitNames();

    QAbstractItemModel* m_model = nullptr;
    bool m_inputBars = false; // some row has an input spread: its bars are drawn
    double m_lo = 0, m_hi = 1;
    bool m_higherIsBetter = true;
    int m_labelWidth = kLabelWidth;
    int m_cellWidth = kCellWidth;
    int m_barWidth = kBarWidth;
    int m_fitWidth = std::numeric_limits<int>::max() / 2; // the last fitLabelsTo()'s width
    int m_nameLevel = 0;
    QWidget* m_exportHeader = nullptr;
};

} // namespace qs
