#include "charts/chart_view.h"

#include "charts/chart_style.h"

#include <QClipboard>
#include <QContextMenuEvent>
#include <QCursor>
#include <QFileDialog>
#include <QGuiApplication>
#include <QMenu>
#include <QPainter>
#include <QRegularExpression>
#include <QResizeEvent>
#include <QSvgGenerator>
#include <QToolTip>

#include <algorithm>

namespace qs {

ChartView::ChartView(const QString& title, QWidget* parent) : QChartView(parent) {
    auto* c = new QChart;
    styleChart(c, title);
    setChart(c);
    setRenderHint(QPainter::Antialiasing);
    setRubberBand(QChartView::RectangleRubberBand);
    setMinimumSize(260, 190);
    setFrameShape(QFrame::NoFrame);
    // Files dropped on a chart go to the main window, which opens them.
    setAcceptDrops(false);
    viewport()->setAcceptDrops(false);
}

bool ChartView::savePng(const QString& path) {
    const qreal ratio = 2.0; // crisp in documents and on high-DPI screens
    QPixmap pixmap(size() * ratio);
    pixmap.setDevicePixelRatio(ratio);
    pixmap.fill(Qt::white);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    render(&painter);
    painter.end();
    return pixmap.save(path, "PNG");
}

bool ChartView::saveSvg(const QString& path) {
    QSvgGenerator generator;
    generator.setFileName(path);
    generator.setSize(size());
    generator.setViewBox(rect());
    generator.setTitle(chart()->title());
    generator.setDescription(tr("Quantscope chart"));
    QPainter painter;
    if (!painter.begin(&generator))
        return false;
    painter.setRenderHint(QPainter::Antialiasing);
    render(&painter);
    return painter.end();
}

int ChartView::xTickBudget(int preferred) const {
    constexpr int kAxisMargin = 70, kPixelsPerTick = 45; // the y axis' labels and the frame
    return std::clamp((width() - kAxisMargin) / kPixelsPerTick, 2, std::max(2, preferred));
}

void ChartView::resizeEvent(QResizeEvent* event) {
    QChartView::resizeEvent(event);
    const int budget = xTickBudget(8);
    if (budget != m_fittedBudget && !chart()->isZoomed()) {
        m_fittedBudget = budget;
        fitToData();
    }
}

void ChartView::resetZoom() {
    chart()->zoomReset();
    fitToData();
}

void ChartView::addContextActions(QMenu*) {}

void ChartView::showHoverText(const QString& text) {
    QToolTip::showText(QCursor::pos(), text, this);
}

void ChartView::hideHoverText() {
    QToolTip::hideText();
}

void ChartView::contextMenuEvent(QContextMenuEvent* event) {
    QMenu menu(this);
    menu.addAction(tr("Save as PNG…"), this, [this] { saveWithDialog(false); });
    menu.addAction(tr("Save as SVG…"), this, [this] { saveWithDialog(true); });
    QAction* copy = menu.addAction(tr("Copy data as CSV"), this,
                                   [this] { QGuiApplication::clipboard()->setText(csvData()); });
    copy->setEnabled(!csvData().isEmpty());
    menu.addSeparator();
    menu.addAction(tr("Reset zoom"), this, &ChartView::resetZoom);
    addContextActions(&menu);
    menu.exec(event->globalPos());
    event->accept();
}

void ChartView::mouseReleaseEvent(QMouseEvent* event) {
    // QChartView zooms out on a right click; here the right button opens the context menu.
    if (event->button() == Qt::RightButton) {
        event->accept();
        return;
    }
    QChartView::mouseReleaseEvent(event);
}

void ChartView::saveWithDialog(bool svg) {
    const QString suffix = svg ? QStringLiteral("svg") : QStringLiteral("png");
    const QString filter = svg ? tr("SVG images (*.svg)") : tr("PNG images (*.png)");
    QString path =
        QFileDialog::getSaveFileName(this, svg ? tr("Save chart as SVG") : tr("Save chart as PNG"),
                                     defaultFileName(suffix), filter);
    if (path.isEmpty())
        return;
    if (!path.endsWith(QLatin1Char('.') + suffix, Qt::CaseInsensitive))
        path += QLatin1Char('.') + suffix;
    if (!(svg ? saveSvg(path) : savePng(path)))
        showHoverText(tr("Could not write %1").arg(path));
}

QString ChartView::defaultFileName(const QString& suffix) const {
    QString base = chart()->title().toLower();
    base.replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")), QStringLiteral("-"));
    base = base.mid(0, 60).remove(QRegularExpression(QStringLiteral("^-+|-+$")));
    return (base.isEmpty() ? QStringLiteral("chart") : base) + QLatin1Char('.') + suffix;
}

} // namespace qs
