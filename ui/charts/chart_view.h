#pragma once
// Base of every chart in the window: styling, a rubber-band zoom, hover read-outs and the context
// menu every chart shares (save as PNG / SVG, copy data as CSV, reset zoom). Subclasses own their
// series, apply new point lists with one QXYSeries::replace() and say what their data is as CSV.
// GUI thread only.

#include <QChartView>
#include <QString>

class QMenu;

namespace qs {

class ChartView : public QChartView {
    Q_OBJECT
public:
    explicit ChartView(const QString& title, QWidget* parent = nullptr);

    // The plotted data as CSV with a header row; empty when there is nothing to export.
    virtual QString csvData() const = 0;
    bool savePng(const QString& path);
    bool saveSvg(const QString& path);
    // Undoes any zoom and fits the axes to the data again.
    void resetZoom();

protected:
    // Sets every axis range from the current data.
    virtual void fitToData() = 0;
    // How many ticks the x axis can label at the view's width, at most `preferred`: about one per
    // 45 pixels of plot, and at least 3 (at 250 pixels, 8 ticks left room for no label: "-...").
    int xTickBudget(int preferred) const;
    // Refits the axes when the width changes the tick budget (unless the user has zoomed).
    void resizeEvent(QResizeEvent* event) override;
    // Chart-specific entries appended to the context menu.
    virtual void addContextActions(QMenu* menu);
    void showHoverText(const QString& text);
    void hideHoverText();

    void contextMenuEvent(QContextMenuEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    void saveWithDialog(bool svg);
    int m_fittedBudget = 0; // xTickBudget's answer (for a preferred 8) the axes were last fitted at
    QString defaultFileName(const QString& suffix) const;
};

} // namespace qs
