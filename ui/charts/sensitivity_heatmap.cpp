#include "charts/sensitivity_heatmap.h"

#include "models/sensitivity_model.h"
#include "number_format.h"
#include "widgets/tensor_names.h"

#include <QAbstractItemModel>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QFileDialog>
#include <QGuiApplication>
#include <QHelpEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QSaveFile>
#include <QSortFilterProxyModel>
#include <QToolTip>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace qs {

namespace {

constexpr int kBarGap = 14;
// The bars beside the map; the last, the inputs' spread, only where the sweep had activations
// or an importance matrix (barCount).
constexpr int kMaxBars = 4;
constexpr int kBarColumns[kMaxBars] = {
    int(SensitivityColumn::Kurtosis), int(SensitivityColumn::Outliers),
    int(SensitivityColumn::Imbalance), int(SensitivityColumn::InputSpread)};
const char* const kBarNames[kMaxBars] = {QT_TRANSLATE_NOOP("qs::SensitivityHeatmap", "kurtosis"),
                                         QT_TRANSLATE_NOOP("qs::SensitivityHeatmap", "outliers"),
                                         QT_TRANSLATE_NOOP("qs::SensitivityHeatmap", "imbalance"),
                                         QT_TRANSLATE_NOOP("qs::SensitivityHeatmap", "inputs")};
const QColor kBarColours[kMaxBars] = {QColor(0x8E, 0x44, 0xAD), QColor(0xD3, 0x54, 0x00),
                                      QColor(0x16, 0xA0, 0x85), QColor(0x28, 0x74, 0xA6)};

// viridis at nine evenly spaced points (matplotlib's table)
constexpr std::array<std::array<int, 3>, 9> kViridis = {{{68, 1, 84},
                                                         {71, 44, 122},
                                                         {59, 81, 139},
                                                         {44, 113, 142},
                                                         {33, 144, 141},
                                                         {39, 173, 129},
                                                         {92, 200, 99},
                                                         {170, 220, 50},
                                                         {253, 231, 37}}};

} // namespace

SensitivityHeatmap::SensitivityHeatmap(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setBackgroundRole(QPalette::Base);
    setAutoFillBackground(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

QColor SensitivityHeatmap::scaleColour(double t) {
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * (kViridis.size() - 1);
    const auto i = std::min(static_cast<size_t>(t), kViridis.size() - 2);
    const double f = t - static_cast<double>(i);
    auto mix = [&](int c) {
        return static_cast<int>(std::lround(kViridis[i][c] * (1 - f) + kViridis[i + 1][c] * f));
    };
    return QColor(mix(0), mix(1), mix(2));
}

void SensitivityHeatmap::setModel(QAbstractItemModel* model) {
    if (m_model)
        m_model->disconnect(this);
    m_model = model;
    if (model) {
        connect(model, &QAbstractItemModel::modelReset, this, &SensitivityHeatmap::refresh);
        connect(model, &QAbstractItemModel::layoutChanged, this, &SensitivityHeatmap::refresh);
        // Rows arrive one at a time during a sweep: only theirs are measured (a name that fits
        // at a level fits at every deeper one, so the column's level is the largest of them).
        connect(model, &QAbstractItemModel::rowsInserted, this,
                [this](const QModelIndex&, int first, int last) {
                    QStringList names;
                    for (int r = first; r <= last; ++r)
                        names << m_model->index(r, 0).data().toString();
                    m_nameLevel = std::max(m_nameLevel, shortTensorLevel(names, fontMetrics(),
                                                                         cellRect(0, 0).width()));
                    noteInputBars(first, last);
                    updateGeometry();
                    adjustSize();
                    update();
                });
        connect(model, &QAbstractItemModel::rowsRemoved, this, &SensitivityHeatmap::refresh);
        connect(model, &QAbstractItemModel::dataChanged, this,
                [this](const QModelIndex& from, const QModelIndex& to) {
                    noteInputBars(from.row(), to.row());
                    update();
                });
        connect(model, &QAbstractItemModel::headerDataChanged, this, [this] { update(); });
    }
    refresh();
}

void SensitivityHeatmap::setScale(double lo, double hi, bool higherIsBetter) {
    m_lo = lo;
    m_hi = hi > lo ? hi : lo + 1;
    m_higherIsBetter = higherIsBetter;
    if (fitWidths()) // errors need wider cells than dB
        refresh();
    else
        update();
}

void SensitivityHeatmap::noteInputBars(int first, int last) {
    const bool allRows = last < 0; // else rows arrived or changed: they can only add the bars
    if (!m_model || (!allRows && m_inputBars))
        return;
    last = allRows ? m_model->rowCount() - 1 : std::min(last, m_model->rowCount() - 1);
    bool any = false;
    for (int r = std::max(0, first); r <= last && !any; ++r)
        any = m_model->index(r, int(SensitivityColumn::InputSpread))
                  .data(int(SensitivityRole::Sort))
                  .toDouble() > 0;
    if (any != m_inputBars) {
        m_inputBars = any;
        if (fitWidths())
            fitNames();
        updateGeometry();
        adjustSize();
    }
}

void SensitivityHeatmap::refresh() {
    noteInputBars();
    fitWidths();
    fitNames();
    updateGeometry();
    adjustSize();
    update();
}

int SensitivityHeatmap::schemeCount() const {
    return m_model ? std::max(0, m_model->columnCount() - kSensitivityFixedColumns) : 0;
}

int SensitivityHeatmap::fixedWidth() const {
    return schemeCount() * m_cellWidth + kBarGap + barCount() * m_barWidth + 8;
}

void SensitivityHeatmap::fitLabelsTo(int width) {
    m_fitWidth = width;
    if (fitWidths())
        refresh();
}

bool SensitivityHeatmap::fitWidths() {
    // The names give way first; then the scheme cells and the bars, alike, down to their least.
    const int schemes = schemeCount(), bars = barCount();
    const int widest = schemes * kCellWidth + kBarGap + bars * kBarWidth + 8;
    const int label = std::clamp(m_fitWidth - widest, kMinLabelWidth, kLabelWidth);
    const int room = kMinLabelWidth + widest - m_fitWidth; // what the cells and bars give up
    const int minCell = leastCellWidth();
    const int give = schemes * (kCellWidth - minCell) + bars * (kBarWidth - kMinBarWidth);
    const double f = room <= 0 || give <= 0 ? 0.0 : std::min(1.0, double(room) / give);
    const int cell = kCellWidth - static_cast<int>(std::ceil(f * (kCellWidth - minCell)));
    const int bar = kBarWidth - static_cast<int>(std::ceil(f * (kBarWidth - kMinBarWidth)));
    if (label == m_labelWidth && cell == m_cellWidth && bar == m_barWidth)
        return false;
    m_labelWidth = label;
    m_cellWidth = cell;
    m_barWidth = bar;
    return true;
}

int SensitivityHeatmap::leastCellWidth() const {
    // The widest figure a cell can show: dB with one decimal, errors down to two significant
    // digits (paintRow), starred where a fallback stands in.
    const QString widest = m_higherIsBetter ? QStringLiteral("99.9*") : QStringLiteral("0.00099*");
    return std::clamp(fontMetrics().horizontalAdvance(widest) + 6, kMinCellWidth, kCellWidth);
}

void SensitivityHeatmap::showWholeNames() {
    fitLabelsTo(std::numeric_limits<int>::max() / 2);
}

int SensitivityHeatmap::barsLeft() const {
    return m_labelWidth + schemeCount() * m_cellWidth + kBarGap;
}

QSize SensitivityHeatmap::sizeHint() const {
    const int rows = m_model ? m_model->rowCount() : 0;
    return {m_labelWidth + fixedWidth(), kHeaderHeight + rows * kRowHeight + 4};
}

QRect SensitivityHeatmap::cellRect(int row, int column) const {
    const int y = kHeaderHeight + row * kRowHeight;
    if (column >= kSensitivityFixedColumns)
        return {m_labelWidth + (column - kSensitivityFixedColumns) * m_cellWidth, y,
                m_cellWidth - 1, kRowHeight - 1};
    for (int b = 0; b < barCount(); ++b)
        if (kBarColumns[b] == column)
            return {barsLeft() + b * m_barWidth, y, m_barWidth - 6, kRowHeight - 1};
    return {0, y, m_labelWidth - 6, kRowHeight - 1};
}

std::pair<int, int> SensitivityHeatmap::cellAt(const QPoint& pos) const {
    if (!m_model || pos.y() < kHeaderHeight)
        return {-1, -1};
    const int row = (pos.y() - kHeaderHeight) / kRowHeight;
    if (row >= m_model->rowCount())
        return {-1, -1};
    if (pos.x() < m_labelWidth)
        return {row, int(SensitivityColumn::Tensor)};
    const int s = (pos.x() - m_labelWidth) / m_cellWidth;
    if (s < schemeCount())
        return {row, kSensitivityFixedColumns + s};
    const int b = (pos.x() - barsLeft()) / m_barWidth;
    if (pos.x() >= barsLeft() && b < barCount())
        return {row, kBarColumns[b]};
    return {row, -1};
}

void SensitivityHeatmap::paintHeader(QPainter& p) const {
    p.setPen(palette().color(QPalette::Text));
    for (int s = 0; s < schemeCount(); ++s) {
        const QString spec =
            m_model->headerData(kSensitivityFixedColumns + s, Qt::Horizontal).toString();
        p.save();
        p.translate(m_labelWidth + s * m_cellWidth + m_cellWidth / 2 - 4, kHeaderHeight - 6);
        p.rotate(-40);
        p.drawText(0, 0, p.fontMetrics().elidedText(spec, Qt::ElideRight, 110));
        p.restore();
    }
    for (int b = 0; b < barCount(); ++b) {
        p.setPen(kBarColours[b]);
        const QString name = tr(kBarNames[b]);
        if (p.fontMetrics().horizontalAdvance(name) <= m_barWidth - 6) {
            p.drawText(QRect(barsLeft() + b * m_barWidth, kHeaderHeight - 22, m_barWidth - 6, 18),
                       Qt::AlignLeft | Qt::AlignVCenter, name);
            continue;
        }
        // Narrow bars (a narrow window): the name upright, bottom to top, within its column.
        p.save();
        p.translate(barsLeft() + b * m_barWidth + (m_barWidth - 6 + p.fontMetrics().ascent()) / 2,
                    kHeaderHeight - 6);
        p.rotate(-90);
        p.drawText(0, 0, p.fontMetrics().elidedText(name, Qt::ElideRight, kHeaderHeight - 10));
        p.restore();
    }
    p.setPen(palette().color(QPalette::PlaceholderText));
    // The notes above the names, bottom up, each wrapped to the names' column.
    int bottom = kHeaderHeight - 4;
    auto note = [&](const QString& text) {
        const QRect fit = p.fontMetrics().boundingRect(QRect(0, 0, m_labelWidth - 8, kHeaderHeight),
                                                       Qt::TextWordWrap, text);
        bottom -= std::max(18, fit.height());
        p.drawText(QRect(0, bottom, m_labelWidth - 8, std::max(18, fit.height())),
                   Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap, text);
    };
    note(tr("tensor  ·  click to open"));
    if (anyCell(SensitivityRole::Fallback))
        note(tr("* hatched: fallback type"));
    if (anyCell(SensitivityRole::NotApplicable))
        note(tr("n/a: hover for why")); // the scheme does not apply, or no activations fit
}

void SensitivityHeatmap::fitNames() {
    QStringList names;
    const int rows = m_model ? m_model->rowCount() : 0;
    names.reserve(rows);
    for (int r = 0; r < rows; ++r)
        names << m_model->index(r, 0).data().toString();
    m_nameLevel = shortTensorLevel(names, fontMetrics(), cellRect(0, 0).width());
}

bool SensitivityHeatmap::anyCell(SensitivityRole role) const {
    if (!m_model)
        return false;
    for (int row = 0; row < m_model->rowCount(); ++row)
        for (int s = 0; s < schemeCount(); ++s)
            if (!m_model->index(row, kSensitivityFixedColumns + s)
                     .data(int(role))
                     .toString()
                     .isEmpty())
                return true;
    return false;
}

void SensitivityHeatmap::paintRow(QPainter& p, int row, const double* barMax) const {
    const QModelIndex name = m_model->index(row, 0);
    const QRect label = cellRect(row, 0);
    p.setPen(palette().color(QPalette::Text));
    p.drawText(label, Qt::AlignLeft | Qt::AlignVCenter,
               p.fontMetrics().elidedText(shortTensorName(name.data().toString(), m_nameLevel),
                                          Qt::ElideMiddle, label.width()));
    for (int s = 0; s < schemeCount(); ++s) {
        const int col = kSensitivityFixedColumns + s;
        const QModelIndex idx = m_model->index(row, col);
        const double v = idx.data(int(SensitivityRole::Value)).toDouble();
        const QRect r = cellRect(row, col);
        if (std::isnan(v)) { // not measured yet, or n/a (said so: a sweep that ended has none)
            p.fillRect(r, palette().color(QPalette::AlternateBase));
            if (!idx.data(int(SensitivityRole::NotApplicable)).toString().isEmpty()) {
                p.setPen(palette().color(QPalette::PlaceholderText));
                p.drawText(r, Qt::AlignCenter, tr("n/a"));
            }
            continue;
        }
        double t = std::isinf(v) ? (v > 0 ? 1.0 : 0.0) : (v - m_lo) / (m_hi - m_lo);
        if (!m_higherIsBetter)
            t = 1 - t;
        const QColor c = scaleColour(t);
        p.fillRect(r, c);
        p.setPen(c.lightnessF() > 0.55 ? Qt::black : Qt::white);
        // dB with one decimal; errors with three, or two significant digits where smaller
        // (f16's output error, 1e-4, would read 0.000).
        QString text = std::isinf(v)       ? QStringLiteral("∞")
                       : v > 0 && v < 0.01 ? QString::number(v, 'g', 2)
                                           : QString::number(v, 'f', v < 1 ? 3 : 1);
        if (!idx.data(int(SensitivityRole::Fallback)).toString().isEmpty()) {
            text += QLatin1Char('*'); // another scheme stands in: hatched
            p.fillRect(
                r, QBrush(c.lightnessF() > 0.55 ? QColor(0, 0, 0, 70) : QColor(255, 255, 255, 90),
                          Qt::BDiagPattern));
        }
        p.drawText(r, Qt::AlignCenter, text);
    }
    for (int b = 0; b < barCount(); ++b) {
        const double v =
            m_model->index(row, kBarColumns[b]).data(int(SensitivityRole::Sort)).toDouble();
        const QRect r = cellRect(row, kBarColumns[b]).adjusted(0, 3, 0, -3);
        if (!(v > 0) || !(barMax[b] > 0))
            continue;
        p.fillRect(QRect(r.left(), r.top(),
                         std::max(1, static_cast<int>(std::lround(r.width() * v / barMax[b]))),
                         r.height()),
                   kBarColours[b]);
    }
}

void SensitivityHeatmap::paintEvent(QPaintEvent* event) {
    QPainter p(this);
    if (!m_model || m_model->rowCount() == 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignLeft | Qt::AlignTop,
                   tr("Run a sweep to see how every tensor fares under each scheme."));
        return;
    }
    paintHeader(p);
    const int rows = m_model->rowCount();
    double barMax[kMaxBars] = {0, 0, 0, 0};
    for (int r = 0; r < rows; ++r)
        for (int b = 0; b < barCount(); ++b)
            barMax[b] = std::max(
                barMax[b],
                m_model->index(r, kBarColumns[b]).data(int(SensitivityRole::Sort)).toDouble());
    const int first = std::max(0, (event->rect().top() - kHeaderHeight) / kRowHeight);
    const int last = std::min(rows - 1, (event->rect().bottom() - kHeaderHeight) / kRowHeight);
    for (int r = first; r <= last; ++r)
        paintRow(p, r, barMax);
}

void SensitivityHeatmap::mouseReleaseEvent(QMouseEvent* event) {
    const auto [row, col] = cellAt(event->position().toPoint());
    if (row < 0 || col < 0 || event->button() != Qt::LeftButton)
        return;
    const QString tensor = m_model->index(row, 0).data(int(SensitivityRole::TensorName)).toString();
    const QString spec = col >= kSensitivityFixedColumns
                             ? m_model->index(row, col).data(int(SensitivityRole::Spec)).toString()
                             : QString();
    Q_EMIT cellActivated(tensor, spec);
}

bool SensitivityHeatmap::savePng(const QString& path) {
    const QPixmap map = grab();
    if (!m_exportHeader)
        return map.save(path, "PNG");
    const QPixmap header = m_exportHeader->grab();
    const qreal dpr = map.devicePixelRatio();
    QPixmap both(std::max(map.width(), header.width()), map.height() + header.height() + 8 * dpr);
    both.setDevicePixelRatio(dpr);
    both.fill(palette().color(QPalette::Base));
    QPainter p(&both);
    p.drawPixmap(QPointF(4, 4), header);
    p.drawPixmap(QPointF(0, (header.height() + 8 * dpr) / dpr), map);
    p.end();
    return both.save(path, "PNG");
}

QString SensitivityHeatmap::csv() const {
    const QAbstractItemModel* m = m_model;
    while (const auto* proxy = qobject_cast<const QAbstractProxyModel*>(m))
        m = proxy->sourceModel();
    const auto* sensitivity = qobject_cast<const SensitivityModel*>(m);
    return sensitivity && sensitivity->rowCount() > 0 ? sensitivity->csv() : QString();
}

void SensitivityHeatmap::contextMenuEvent(QContextMenuEvent* event) {
    QMenu menu(this);
    const QString table = csv();
    menu.addAction(tr("Save map as PNG…"), this, [this] {
        QString path = QFileDialog::getSaveFileName(this, tr("Save map as PNG"),
                                                    QStringLiteral("sensitivity-map.png"),
                                                    tr("PNG images (*.png)"));
        if (!path.isEmpty() && !path.endsWith(QLatin1String(".png"), Qt::CaseInsensitive))
            path += QStringLiteral(".png");
        if (!path.isEmpty() && !savePng(path))
            QToolTip::showText(QCursor::pos(), tr("Could not write %1").arg(path), this);
    });
    QAction* copy = menu.addAction(tr("Copy all figures as CSV"), this,
                                   [table] { QGuiApplication::clipboard()->setText(table); });
    QAction* save = menu.addAction(tr("Save all figures as CSV…"), this, [this, table] {
        QString path = QFileDialog::getSaveFileName(this, tr("Save figures as CSV"),
                                                    QStringLiteral("sensitivity.csv"),
                                                    tr("CSV files (*.csv)"));
        if (path.isEmpty())
            return;
        QSaveFile f(path); // the old file stays whole if writing fails
        const QByteArray bytes = table.toUtf8();
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit())
            QToolTip::showText(QCursor::pos(), tr("Could not write %1").arg(path), this);
    });
    copy->setEnabled(!table.isEmpty());
    save->setEnabled(!table.isEmpty());
    menu.exec(event->globalPos());
    event->accept();
}

bool SensitivityHeatmap::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip && m_model) {
        auto* help = static_cast<QHelpEvent*>(event);
        const auto [row, col] = cellAt(help->pos());
        if (row >= 0 && col >= 0) {
            const QModelIndex idx = m_model->index(row, col);
            QString tip = idx.data(Qt::ToolTipRole).toString();
            if (col < kSensitivityFixedColumns && col != int(SensitivityColumn::Tensor))
                tip = m_model->headerData(col, Qt::Horizontal).toString() + QStringLiteral(": ") +
                      idx.data().toString() + QStringLiteral("\n") +
                      m_model->headerData(col, Qt::Horizontal, Qt::ToolTipRole).toString();
            QToolTip::showText(help->globalPos(), tip, this);
        } else {
            QToolTip::hideText();
        }
        return true;
    }
    return QWidget::event(event);
}

} // namespace qs
