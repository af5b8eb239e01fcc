#pragma once
// A chart's legend under the plot that wraps onto more lines where Qt's legend, one row, would
// cut the names ("mulaw4:g64:m…" in a 260-pixel chart). It shows the Qt legend's markers (their
// colour and label) but those of series setShown(false); the Qt legend stays hidden. It lives in
// the chart's scene, so PNG and SVG exports carry it, and the chart's bottom margin makes room
// for it. It follows the markers' labels and colours and the chart's size. GUI thread only.

#include <QMargins>
#include <QObject>
#include <QSet>

class QAbstractSeries;
class QChart;
class QGraphicsTextItem;

namespace qs {

class WrappedLegend : public QObject {
    Q_OBJECT
public:
    explicit WrappedLegend(QChart* chart); // the chart's series are added already
    QString plainText() const;             // what it shows, for tests
    int lineCount() const;
    QGraphicsTextItem* item() const { return m_item; }
    void setShown(const QAbstractSeries* series, bool shown); // all are, at first

public Q_SLOTS:
    void refresh(); // the markers again (after series were added)

private:
    void place();

    QChart* m_chart;
    QGraphicsTextItem* m_item;
    QMargins m_margins; // the chart's own
    QSet<const QAbstractSeries*> m_hidden;
};

} // namespace qs
