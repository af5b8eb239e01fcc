#include "charts/wrapped_legend.h"

#include <QAbstractTextDocumentLayout>
#include <QChart>
#include <QGraphicsTextItem>
#include <QLegend>
#include <QLegendMarker>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextLayout>

namespace qs {
namespace {

constexpr int kPad = 4; // around the text

QColor markerColour(const QLegendMarker* m) {
    return m->brush().style() != Qt::NoBrush ? m->brush().color() : m->pen().color();
}

} // namespace

WrappedLegend::WrappedLegend(QChart* chart)
    : QObject(chart), m_chart(chart), m_item(new QGraphicsTextItem(chart)),
      m_margins(chart->margins()) {
    m_item->setZValue(10);
    connect(chart, &QGraphicsWidget::geometryChanged, this, &WrappedLegend::place);
    refresh();
}

void WrappedLegend::refresh() {
    QLegend* legend = m_chart->legend();
    legend->setVisible(false);
    QStringList entries;
    for (QLegendMarker* m : legend->markers()) {
        // Unique: refresh() runs again for markers it has seen. (A marker's own visibility is
        // false while the legend is hidden: setShown() stands for it.)
        for (auto signal : {&QLegendMarker::labelChanged, &QLegendMarker::brushChanged,
                            &QLegendMarker::penChanged})
            connect(m, signal, this, &WrappedLegend::refresh, Qt::UniqueConnection);
        if (m_hidden.contains(m->series()) || m->label().isEmpty())
            continue;
        // A square of the colour and the name, kept together; the entries wrap between them.
        entries << QStringLiteral("<span style=\"color:%1\">■</span>&nbsp;%2")
                       .arg(markerColour(m).name(), m->label().toHtmlEscaped().replace(
                                                        QLatin1Char(' '), QLatin1String("&nbsp;")));
    }
    m_item->setFont(legend->font());
    m_item->setDefaultTextColor(legend->labelColor());
    m_item->setHtml(QStringLiteral("<div align=\"center\">%1</div>")
                        .arg(entries.join(QStringLiteral("&nbsp;&nbsp; "))));
    m_item->setVisible(!entries.isEmpty());
    place();
}

void WrappedLegend::setShown(const QAbstractSeries* series, bool shown) {
    if (shown == !m_hidden.contains(series))
        return;
    if (shown)
        m_hidden.remove(series);
    else
        m_hidden.insert(series);
    refresh();
}

void WrappedLegend::place() {
    const QRectF r = m_chart->rect();
    m_item->setTextWidth(std::max(40.0, r.width() - 2 * kPad));
    const double h = m_item->isVisible() ? m_item->boundingRect().height() : 0.0;
    m_item->setPos(r.left() + kPad, r.bottom() - h - kPad / 2.0);
    QMargins m = m_margins;
    m.setBottom(m_margins.bottom() + static_cast<int>(std::ceil(h)));
    if (m != m_chart->margins())
        m_chart->setMargins(m);
}

QString WrappedLegend::plainText() const {
    return m_item->isVisible() ? m_item->toPlainText() : QString();
}

int WrappedLegend::lineCount() const {
    int lines = 0;
    const QTextDocument* doc = m_item->document();
    for (QTextBlock b = doc->begin(); b.isValid(); b = b.next())
        lines += b.layout() ? b.layout()->lineCount() : 0;
    return m_item->isVisible() ? lines : 0;
}

} // namespace qs
