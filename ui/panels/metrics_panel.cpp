#include "panels/metrics_panel.h"

#include "charts/chart_style.h"
#include "diagnostic_text.h"
#include "number_format.h"

#include <QFormLayout>
#include <QLabel>
#include <QTextDocument>

#include <iterator>

namespace qs {
namespace {

const QString kRelRmse = QStringLiteral("rel RMSE");
const QString kMse = QStringLiteral("MSE");
const QString kMaxErr = QStringLiteral("max |err|");
const QString kCosine = QStringLiteral("cosine");
const QString kBpw = QStringLiteral("bits/weight");
const QString kSize = QStringLiteral("size");
const QString kCompression = QStringLiteral("compression");
const QString kBreakdown = QStringLiteral("made of");
const QString kOutErr = QStringLiteral("output err");

QString costBreakdown(const StorageCost& c) {
    if (c.elements == 0)
        return QStringLiteral("—");
    const double n = static_cast<double>(c.elements);
    QStringList parts;
    auto add = [&](std::uint64_t bits, const QString& what) {
        if (bits > 0)
            parts << QStringLiteral("%1 %2").arg(
                QString::number(static_cast<double>(bits) / n, 'g', 4), what);
    };
    add(c.payloadBits, QObject::tr("codes"));
    add(c.scaleBits, QObject::tr("scales"));
    add(c.zeroBits, QObject::tr("zeros"));
    add(c.extraBits, QObject::tr("other"));
    return parts.join(QStringLiteral(" + "));
}

} // namespace

MetricsPanel::MetricsPanel(QWidget* parent)
    : QWidget(parent), m_form(new QFormLayout(this)), m_scheme(new QLabel(this)),
      m_sqnr(new QLabel(this)), m_note(new QLabel(this)), m_diagnostics(new QLabel(this)) {
    m_form->setContentsMargins(8, 6, 8, 8);
    m_form->setLabelAlignment(Qt::AlignRight);
    m_form->setHorizontalSpacing(12);
    m_form->setVerticalSpacing(4);
    m_scheme->setTextFormat(Qt::RichText);
    m_form->addRow(tr("scheme"), m_scheme);

    QFont headline = m_sqnr->font();
    headline.setPointSizeF(headline.pointSizeF() * 1.5);
    headline.setBold(true);
    m_sqnr->setFont(headline);
    m_sqnr->setObjectName(QStringLiteral("sqnrValue"));
    m_sqnr->setTextInteractionFlags(Qt::TextSelectableByMouse);
    const QString sqnrTip = tr("Signal-to-quantization-noise ratio: 10·log10(‖w‖² / ‖w − ŵ‖²); "
                               "about 6 dB per bit for uniform quantization");
    m_sqnr->setToolTip(sqnrTip);
    auto* sqnrLabel = new QLabel(tr("SQNR"), this);
    sqnrLabel->setToolTip(sqnrTip);
    m_form->addRow(sqnrLabel, m_sqnr);

    addMetric(kRelRmse, tr("‖w − ŵ‖ / ‖w‖"));
    addMetric(kMse, tr("mean of (w − ŵ)²"));
    addMetric(kMaxErr, tr("largest absolute error of one weight"));
    addMetric(kCosine, tr("cosine similarity of w and ŵ"));
    // Only where the scheme ran with activations (q4_k:imatrix, gptq): what it is judged by.
    const QString outTip = tr("‖XWᵀ − XŴᵀ‖ / ‖XWᵀ‖ on the Model tab's activations X: the error "
                              "of the layer's outputs, which importance-weighted and calibrated "
                              "schemes lower at the cost of the weights' own error");
    m_outErr = new QLabel(this);
    m_outErr->setObjectName(QStringLiteral("outputErrorValue"));
    m_outErr->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_outErr->setToolTip(outTip);
    auto* outLabel = new QLabel(kOutErr, this);
    outLabel->setToolTip(outTip);
    m_form->addRow(outLabel, m_outErr);
    addMetric(kBpw, tr("payload plus scales, zero-points and second-level scales, per weight"));
    addMetric(kSize, tr("storage of this tensor under the scheme"));
    addMetric(kCompression, tr("stored size over quantized size"));
    addMetric(kBreakdown,
              tr("bits per weight spent on codes, scales, zero-points and second-level data"));

    m_note->setWordWrap(true);
    m_note->setStyleSheet(QStringLiteral("color: #666;"));
    m_form->addRow(m_note);
    m_diagnostics->setObjectName(QStringLiteral("diagnostics"));
    m_diagnostics->setWordWrap(true);
    m_diagnostics->setTextFormat(Qt::RichText);
    m_diagnostics->setContentsMargins(0, 6, 0, 0);
    m_diagnostics->setToolTip(tr("What the quantizer reported about this tensor"));
    m_form->addRow(m_diagnostics);
    clear();
}

QLabel* MetricsPanel::addMetric(const QString& name, const QString& tip) {
    auto* value = new QLabel(this);
    value->setWordWrap(true);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    value->setToolTip(tip);
    auto* label = new QLabel(name, this);
    label->setToolTip(tip);
    m_form->addRow(label, value);
    m_metrics.emplace_back(name, value);
    return value;
}

QString MetricsPanel::sqnrText() const {
    return m_sqnr->text();
}

QString MetricsPanel::diagnosticsText() const {
    QTextDocument doc;
    doc.setHtml(m_diagnostics->text());
    return doc.toPlainText();
}

QString MetricsPanel::noteText() const {
    return m_note->text();
}

void MetricsPanel::setNotApplicable(const Scheme& scheme, const QString& message) {
    clear(message);
    const QString spec = QString::fromStdString(scheme.toString());
    m_scheme->setText(
        QStringLiteral("<span style='color:%1'>■</span> <b>%2</b>")
            .arg(schemeColor(QString::fromStdString(scheme.family)).name(), spec.toHtmlEscaped()));
    m_sqnr->setText(tr("n/a"));
}

QString MetricsPanel::valueText(const QString& metric) const {
    for (const auto& [name, label] : m_metrics)
        if (name == metric)
            return label->text();
    if (metric == kOutErr)
        return m_form->isRowVisible(m_outErr) ? m_outErr->text() : QString();
    return metric == QLatin1String("SQNR") ? m_sqnr->text() : QString();
}

void MetricsPanel::setAnalysis(const TensorInfo& tensor, const TensorAnalysis& a) {
    const QString spec = QString::fromStdString(a.scheme.toString());
    const QColor colour = schemeColor(QString::fromStdString(a.scheme.family));
    m_scheme->setText(QStringLiteral("<span style='color:%1'>■</span> <b>%2</b>")
                          .arg(colour.name(), spec.toHtmlEscaped()));
    m_sqnr->setText(formatDb(a.error.sqnrDb()));

    const double storedBits = tensor.bitsPerWeight() * static_cast<double>(tensor.numel());
    const double bpw = a.cost.bitsPerWeight();
    const QString values[] = {
        formatPercent(a.error.relRmse()),
        formatNumber(a.error.mse()),
        formatNumber(a.error.maxAbsErr),
        QString::number(a.error.cosine(), 'f', 6),
        QString::number(bpw, 'f', 4),
        QStringLiteral("%1 (%2 bytes)")
            .arg(formatBytes(a.cost.bytes()),
                 formatCount(static_cast<std::int64_t>(a.cost.bytes()))),
        a.cost.totalBits() > 0
            ? tr("%1× vs %2")
                  .arg(
                      QString::number(storedBits / static_cast<double>(a.cost.totalBits()), 'f', 2),
                      QString::fromStdString(tensor.typeName()))
            : QStringLiteral("—"),
        costBreakdown(a.cost),
    };
    for (size_t i = 0; i < m_metrics.size() && i < std::size(values); ++i)
        m_metrics[i].second->setText(values[i]);
    if (a.outputError)
        m_outErr->setText(formatPercent(a.outputError->relative()));
    m_form->setRowVisible(m_outErr, a.outputError.has_value());

    QString note = QString::fromStdString(a.levelsNote);
    if (!a.levels.empty())
        note = note.isEmpty() ? tr("%1 levels").arg(a.levels.size())
                              : tr("%1 levels — %2").arg(a.levels.size()).arg(note);
    m_note->setText(note);
    const std::int64_t blocks = blockCount(tensor, a.scheme);
    QStringList lines;
    for (const Diagnostic& d : a.diagnostics) {
        const QString text = diagnosticLine(d, blocks).toHtmlEscaped();
        const QString tip = QString::fromStdString(d.description).toHtmlEscaped();
        lines << (d.value != 0
                      ? QStringLiteral("<span style='color:#B5541C'>⚠ <b>%1</b></span>").arg(text)
                      : QStringLiteral("<span style='color:#7A7A7A'>✓ %1</span>").arg(text)) +
                     (tip.isEmpty() ? QString()
                                    : QStringLiteral("<br><span style='color:#8A8A8A; "
                                                     "font-size:small'>&nbsp;&nbsp;&nbsp;%1</span>")
                                          .arg(tip));
    }
    m_diagnostics->setText(
        lines.isEmpty() ? QString()
                        : QStringLiteral("<b>%1</b><br>%2")
                              .arg(tr("Quantizer reports"), lines.join(QStringLiteral("<br>"))));
    m_diagnostics->setVisible(!lines.isEmpty());
    setStale(false);
}

void MetricsPanel::setPreview(const QString& note) {
    m_note->setText(QStringLiteral("<span style='color:#8A5A00'>%1</span><br>%2")
                        .arg(note.toHtmlEscaped(), m_note->text().toHtmlEscaped()));
    setStale(true);
}

void MetricsPanel::setStale(bool stale) {
    setStyleSheet(stale ? QStringLiteral("QLabel { color: #9A9A9A; }") : QString());
}

void MetricsPanel::clear(const QString& reason) {
    m_scheme->setText(QStringLiteral("—"));
    m_sqnr->setText(QStringLiteral("—"));
    for (auto& [name, label] : m_metrics)
        label->setText(QStringLiteral("—"));
    m_note->setText(reason);
    m_form->setRowVisible(m_outErr, false);
    m_diagnostics->clear();
    m_diagnostics->hide();
    setStale(false);
}

} // namespace qs
