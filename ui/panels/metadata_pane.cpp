#include "panels/metadata_pane.h"

#include "models/metadata_model.h"
#include "number_format.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>

#include <QTableView>
#include <QVBoxLayout>
#include <iterator>

namespace qs {

MetadataPane::MetadataPane(QWidget* parent)
    : QWidget(parent), m_model(new MetadataModel(this)), m_table(new QTableView(this)),
      m_tensorLabel(new QLabel(this)), m_statsForm(new QFormLayout) {
    m_table->setModel(m_model);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->hide();
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->setAlternatingRowColors(true);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setMinimumHeight(90);

    auto* statsBox = new QGroupBox(tr("Selected tensor"), this);
    auto* statsLayout = new QVBoxLayout(statsBox);
    statsLayout->setContentsMargins(8, 6, 8, 6);
    m_tensorLabel->setWordWrap(true);
    m_tensorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statsLayout->addWidget(m_tensorLabel);
    m_statsForm->setLabelAlignment(Qt::AlignRight);
    m_statsForm->setHorizontalSpacing(12);
    m_statsForm->setVerticalSpacing(2);
    statsLayout->addLayout(m_statsForm);
    addStat(tr("mean"), tr("Mean of the finite values"));
    addStat(tr("std"), tr("Population standard deviation"));
    addStat(tr("min"), {});
    addStat(tr("max"), {});
    addStat(tr("absmax"), tr("Largest magnitude: what a min-max scale has to cover"));
    addStat(tr("skew"), {});
    addStat(tr("kurtosis"), tr("Excess kurtosis (0 for a Gaussian); heavy tails waste levels"));
    addStat(tr("outliers"),
            tr("Share of values farther than %1 σ from the mean").arg(kOutlierSigmas));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    layout->addWidget(m_table, 1);
    layout->addWidget(statsBox);
    setTensor(nullptr);
}

QLabel* MetadataPane::addStat(const QString& name, const QString& tip) {
    auto* value = new QLabel(QStringLiteral("—"), this);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* label = new QLabel(name, this);
    label->setToolTip(tip);
    value->setToolTip(tip);
    m_statsForm->addRow(label, value);
    m_stats.emplace_back(name, value);
    return value;
}

void MetadataPane::setCheckpoint(const Checkpoint* checkpoint) {
    m_model->setCheckpoint(checkpoint);
    setTensor(nullptr);
}

void MetadataPane::setTensor(const TensorInfo* tensor) {
    if (!tensor) {
        m_tensorLabel->setText(tr("<i>No tensor selected</i>"));
        for (auto& [name, label] : m_stats)
            label->setText(QStringLiteral("—"));
        return;
    }
    m_tensorLabel->setText(QStringLiteral("<b>%1</b><br>%2 · %3 · %4 parameters")
                               .arg(QString::fromStdString(tensor->name).toHtmlEscaped(),
                                    QString::fromStdString(tensor->shapeString()),
                                    QString::fromStdString(tensor->typeName()),
                                    formatCount(tensor->numel())));
    for (auto& [name, label] : m_stats)
        label->setText(QStringLiteral("…"));
}

void MetadataPane::setStats(const DistributionStats& s) {
    const QString values[] = {formatNumber(s.mean),        formatNumber(s.std),
                              formatNumber(s.min),         formatNumber(s.max),
                              formatNumber(s.absmax),      formatNumber(s.skew, 3),
                              formatNumber(s.kurtosis, 3), formatPercent(s.outlierShare)};
    for (size_t i = 0; i < m_stats.size() && i < std::size(values); ++i)
        m_stats[i].second->setText(values[i]);
}

QString MetadataPane::statText(const QString& name) const {
    for (const auto& [n, label] : m_stats)
        if (n == name)
            return label->text();
    return {};
}

} // namespace qs
