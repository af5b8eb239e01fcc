#include "panels/tensor_tab.h"

#include "analysis/tensor_analysis.h"
#include "charts/chart_style.h"
#include "charts/error_histogram_chart.h"
#include "charts/sqnr_sweep_chart.h"
#include "charts/transfer_chart.h"
#include "charts/weight_histogram_chart.h"
#include "quant/registry.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace qs {
namespace {

// Which way scales run over this tensor (DESIGN.md: groups run along the last axis, as stored).
QString layoutNote(const TensorInfo& t, const Scheme& s) {
    const FamilyInfo* f = findFamily(s.family);
    if (f && f->kind == FamilyKind::Cast)
        return TensorTab::tr("element-wise cast");
    const QString cols = QString::number(t.cols());
    QString note;
    switch (s.granularity) {
    case Granularity::Group:
    case Granularity::Block:
        note = TensorTab::tr("%1 of %2 along each row of %3 (the last axis)")
                   .arg(s.granularity == Granularity::Group ? TensorTab::tr("groups")
                                                            : TensorTab::tr("blocks"))
                   .arg(s.groupSize)
                   .arg(cols);
        // A group wider than the row is the row (one scale per row); a row that is not a whole
        // number of groups ends in a shorter one (DESIGN.md), which costs its own scale.
        if (s.granularity == Granularity::Group && s.groupSize > 0 && t.cols() > 0) {
            if (s.groupSize >= t.cols())
                note += TensorTab::tr(": one group per row");
            else if (t.cols() % s.groupSize != 0)
                note += TensorTab::tr(", the last of each row %1 wide").arg(t.cols() % s.groupSize);
        }
        break;
    case Granularity::Channel:
        note = TensorTab::tr("one scale per row (%1 rows of %2)").arg(t.rows()).arg(cols);
        break;
    case Granularity::Tensor:
        note = TensorTab::tr("one scale for the whole tensor");
        break;
    }
    if (!isQuantizable(t))
        note += TensorTab::tr("; 1-D tensors are kept as stored by default");
    return note;
}

} // namespace

TensorTab::TensorTab(QWidget* parent)
    : QWidget(parent), m_caption(new QLabel(this)), m_preview(new QLabel(this)),
      m_pages(new QStackedWidget(this)), m_message(new QLabel(this)),
      m_weights(new WeightHistogramChart(this)), m_errors(new ErrorHistogramChart(this)),
      m_sweep(new SqnrSweepChart(this)), m_transfer(new TransferChart(this)) {
    m_caption->setTextFormat(Qt::RichText);
    m_caption->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_caption->setContentsMargins(4, 2, 4, 2);
    // A long tensor name and layout wrap rather than widen the window's centre (whose minimum
    // width would otherwise take the docks' room).
    m_caption->setWordWrap(true);

    auto* grid = new QGridLayout;
    grid->setSpacing(6);
    grid->addWidget(m_weights, 0, 0);
    grid->addWidget(m_errors, 0, 1);
    grid->addWidget(m_sweep, 1, 0);
    grid->addWidget(m_transfer, 1, 1);
    for (int i = 0; i < 2; ++i) {
        grid->setRowStretch(i, 1);
        grid->setColumnStretch(i, 1);
    }
    auto* charts = new QWidget(m_pages);
    charts->setLayout(grid);
    grid->setContentsMargins(0, 0, 0, 0);
    m_message->setObjectName(QStringLiteral("tensorTabMessage"));
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_message->setTextFormat(Qt::RichText);
    m_message->setContentsMargins(40, 40, 40, 40);
    m_message->setOpenExternalLinks(false);
    connect(m_message, &QLabel::linkActivated, this, &TensorTab::alternativeRequested);
    m_pages->addWidget(charts);
    m_pages->addWidget(m_message);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(4);
    m_preview->setObjectName(QStringLiteral("previewBadge"));
    m_preview->setStyleSheet(QStringLiteral(
        "QLabel#previewBadge { background: #FFF1D6; color: #8A5A00; border: 1px solid #E8C27A;"
        " border-radius: 3px; padding: 1px 6px; }"));
    m_preview->hide();
    auto* top = new QHBoxLayout;
    top->setContentsMargins(0, 0, 0, 0);
    top->addWidget(m_caption, 1);
    top->addWidget(m_preview);
    layout->addLayout(top);
    layout->addWidget(m_pages, 1);
}

void TensorTab::showMessage(const QString& title, const QString& detail,
                            const QString& alternative) {
    clear();
    QString html =
        QStringLiteral("<div style='color:#555; font-size:14pt;'>%1</div>"
                       "<div style='color:#777; margin-top:8px;'>%2</div>")
            .arg(title.toHtmlEscaped(),
                 detail.toHtmlEscaped().replace(QLatin1Char('\n'), QLatin1String("<br>")));
    if (!alternative.isEmpty())
        html += QStringLiteral("<div style='margin-top:16px;'><a href='%1'>%2</a></div>")
                    .arg(alternative.toHtmlEscaped(),
                         tr("Show %1 instead").arg(alternative).toHtmlEscaped());
    m_message->setText(html);
    m_pages->setCurrentWidget(m_message);
}

QString TensorTab::message() const {
    return m_pages->currentWidget() == m_message ? m_message->text() : QString();
}

void TensorTab::setSubject(const TensorInfo* tensor, const Scheme& scheme) {
    if (!tensor) {
        m_caption->clear();
        return;
    }
    m_caption->setText(
        QStringLiteral("<b>%1</b>&nbsp;&nbsp;<span style='color:#555'>%2 %3 · %4 · %5</span>")
            .arg(QString::fromStdString(tensor->name).toHtmlEscaped(),
                 QString::fromStdString(tensor->shapeString()),
                 QString::fromStdString(tensor->typeName()),
                 QString::fromStdString(scheme.toString()).toHtmlEscaped(),
                 layoutNote(*tensor, scheme)));
}

QString TensorTab::caption() const {
    return m_caption->text();
}

QString TensorTab::previewText() const {
    return m_preview->isVisibleTo(this) ? m_preview->text() : QString();
}

void TensorTab::setAnalysis(const AnalysisPlots& plots, const QString& family) {
    m_pages->setCurrentIndex(0);
    if (plots.isPreview()) {
        m_preview->setText(tr("Preview · %1 of %2 rows · exact result on its way")
                               .arg(QLocale().toString(static_cast<qlonglong>(plots.previewRows)),
                                    QLocale().toString(static_cast<qlonglong>(plots.totalRows))));
        m_preview->show();
    } else {
        m_preview->hide();
    }
    m_pendingAnalysis.emplace(plots, family);
    if (drawsNow())
        drawPending();
}

void TensorTab::setSweep(const SweepPlot& sweep) {
    m_pendingSweep = sweep;
    if (drawsNow())
        drawPending();
}

bool TensorTab::drawsNow() const {
    return isVisibleTo(window());
}

void TensorTab::drawPending() {
    if (m_pendingAnalysis) {
        const auto& [plots, family] = *m_pendingAnalysis;
        const QColor colour = schemeColor(family);
        m_weights->setPlots(plots.weights, plots.levels, plots.levelLines, colour);
        m_errors->setPlot(plots.errors, colour);
        m_transfer->setPlot(plots, colour);
        m_pendingAnalysis.reset();
    }
    if (m_pendingSweep) {
        m_sweep->setPlot(*m_pendingSweep, schemeColor(m_pendingSweep->family));
        m_pendingSweep.reset();
    }
}

void TensorTab::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    drawPending();
}

void TensorTab::clear() {
    m_pendingAnalysis.reset();
    m_pendingSweep.reset();
    m_pages->setCurrentIndex(0);
    m_preview->hide();
    m_weights->clear();
    m_errors->clear();
    m_sweep->clear();
    m_transfer->clear();
}

} // namespace qs
