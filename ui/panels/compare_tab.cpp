#include "panels/compare_tab.h"

#include "charts/chart_style.h"
#include "charts/compare_levels_chart.h"
#include "charts/compare_scatter_chart.h"
#include "charts/compare_transfer_chart.h"
#include "models/compare_table_model.h"
#include "number_format.h"
#include "widgets/compare_slot_editor.h"
#include "widgets/error_map_view.h"
#include "widgets/flow_layout.h"
#include "widgets/scale_legend.h"
#include "workers/compare_controller.h"

#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace qs {
namespace {
constexpr int kTableRowsShown = kCompareSlots;
} // namespace

CompareTab::CompareTab(QWidget* parent)
    : QWidget(parent), m_controller(new CompareController(this)), m_caption(new QLabel(this)),
      m_levels(new CompareLevelsChart(this)), m_transfer(new CompareTransferChart(this)),
      m_scatter(new CompareScatterChart(this)), m_pages(new QTabWidget(this)),
      m_model(new CompareTableModel(this)), m_table(new QTableView(this)),
      m_status(new QLabel(this)) {
    if (auto initial = Scheme::parse("int4:g64"))
        m_panel = initial.value();
    m_slots = defaultCompareSlots(m_panel);

    m_caption->setTextFormat(Qt::RichText);
    m_caption->setContentsMargins(4, 2, 4, 2);
    m_caption->setWordWrap(true);
    // The slots at their specs' widths, wrapping to a second line where the page is narrow (three
    // long specs do not fit 540 pixels beside the docks of a 1280-pixel window).
    auto* editors = new FlowLayout(nullptr, 14, 4);
    for (int i = 0; i < kCompareSlots; ++i) {
        auto* e = new CompareSlotEditor(i, this);
        m_editors[static_cast<size_t>(i)] = e;
        editors->addWidget(e);
        connect(e, &CompareSlotEditor::familyChosen, this,
                [this, i](const QString& family) { setSlotFamily(i, family); });
        connect(e, &CompareSlotEditor::specEntered, this, [this, i](const Scheme& s) {
            m_slots[static_cast<size_t>(i)] = {QString::fromStdString(s.family), true, s};
            applySlots();
        });
    }

    auto* charts = new QSplitter(Qt::Horizontal, this);
    charts->addWidget(m_levels);
    charts->addWidget(m_transfer);
    charts->setStretchFactor(0, 3);
    charts->setStretchFactor(1, 2);
    charts->setChildrenCollapsible(false);

    m_table->setObjectName(QStringLiteral("compareTable"));
    m_table->setModel(m_model);
    // The output error's column shows once a result has one (activations on the Model tab).
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        m_table->setColumnHidden(static_cast<int>(CompareColumn::OutErr),
                                 !m_model->hasOutputError());
    });
    m_table->setColumnHidden(static_cast<int>(CompareColumn::OutErr), true);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->setFocusPolicy(Qt::NoFocus);
    m_table->verticalHeader()->hide();
    m_table->setShowGrid(false);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    QHeaderView* header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(static_cast<int>(CompareColumn::Diagnostics),
                                 QHeaderView::Stretch);
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->setFixedHeight(header->sizeHint().height() +
                            kTableRowsShown * m_table->verticalHeader()->defaultSectionSize() + 4);

    m_status->setObjectName(QStringLiteral("compareStatus"));
    m_status->setStyleSheet(QStringLiteral("color: #C0392B;"));
    m_status->setWordWrap(true);
    m_status->hide();

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(6);
    layout->addWidget(m_caption);
    layout->addLayout(editors);
    m_pages->setObjectName(QStringLiteral("comparePages"));
    m_pages->setTabPosition(QTabWidget::South);
    m_pages->setDocumentMode(true);
    m_pages->addTab(charts, tr("Levels"));
    m_pages->addTab(buildErrorPage(), tr("Error"));
    m_pages->setTabToolTip(1, tr("Signed error against value, and where in the matrix the error "
                                 "sits"));
    layout->addWidget(m_pages, 1);
    layout->addWidget(m_table);
    layout->addWidget(m_status);

    connect(m_controller, &CompareController::weightsReady, this, &CompareTab::onWeights);
    connect(m_controller, &CompareController::resultReady, this, &CompareTab::onResult);
    connect(m_controller, &CompareController::failed, this, &CompareTab::onFailed);
    connect(m_controller, &CompareController::idle, this, &CompareTab::idle);
    applySlots();
}

QWidget* CompareTab::buildErrorPage() {
    auto* maps = new QWidget(this);
    auto* mapsLayout = new QVBoxLayout(maps);
    mapsLayout->setContentsMargins(0, 0, 0, 0);
    m_mapLegend = new ScaleLegend(maps);
    m_mapLegend->setToolTip(tr("The colours of the maps below: RMSE of w − ŵ per tile, from 0 to "
                               "the largest tile of any compared scheme"));
    m_mapLegend->hide(); // until a map is drawn
    mapsLayout->addWidget(m_mapLegend);
    for (int i = 0; i < kCompareSlots; ++i) {
        auto* view = new ErrorMapView(maps);
        view->setToolTip(tr("RMSE of w − ŵ per tile (bright = more error, one scale for all "
                            "schemes); bars: per row (right) and per column (below)"));
        m_maps[static_cast<size_t>(i)] = view;
        mapsLayout->addWidget(view, 1);
    }
    auto* page = new QSplitter(Qt::Horizontal, this);
    page->addWidget(m_scatter);
    page->addWidget(maps);
    page->setStretchFactor(0, 3);
    page->setStretchFactor(1, 2);
    page->setChildrenCollapsible(false);
    return page;
}

void CompareTab::clearErrorViews() {
    m_scatter->clear();
    for (ErrorMapView* v : m_maps)
        v->clear();
    m_mapLegend->hide();
}

void CompareTab::showErrorView(bool errors) {
    m_pages->setCurrentIndex(errors ? 1 : 0);
}

bool CompareTab::isErrorViewShown() const {
    return m_pages->currentIndex() == 1;
}

CompareTab::~CompareTab() {
    shutdown();
}

void CompareTab::setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint) {
    m_checkpoint = checkpoint;
    m_tensor.clear();
    m_levels->clear();
    m_transfer->clear();
    clearErrorViews();
    m_model->setSchemes(m_entries, nullptr);
    m_controller->setCheckpoint(std::move(checkpoint));
    updateCaption();
}

void CompareTab::setTensor(const QString& name) {
    if (name == m_tensor)
        return;
    m_tensor = name;
    const TensorInfo* info = m_checkpoint ? m_checkpoint->find(name.toStdString()) : nullptr;
    m_model->setSchemes(m_entries, info);
    m_status->hide();
    updateCaption();
    m_controller->setTensor(name);
}

void CompareTab::setPanelScheme(const Scheme& scheme) {
    m_panel = scheme;
    followPanel(m_slots, scheme);
    applySlots();
}

void CompareTab::setActivations(std::shared_ptr<const ActivationSource> activations) {
    m_controller->setActivations(std::move(activations));
}

void CompareTab::setActive(bool active) {
    m_controller->setActive(active);
}

void CompareTab::shutdown() {
    m_controller->shutdown();
}

bool CompareTab::isBusy() const {
    return m_controller->isBusy();
}

std::vector<Scheme> CompareTab::schemes() const {
    return m_entries;
}

QString CompareTab::statusText() const {
    return m_status->isHidden() ? QString() : m_status->text();
}

void CompareTab::setSlotFamily(int slot, const QString& family) {
    if (slot < 0 || slot >= kCompareSlots)
        return;
    CompareSlot& s = m_slots[static_cast<size_t>(slot)];
    if (family.isEmpty()) {
        s = CompareSlot{};
    } else if (auto scheme = linkedScheme(family, m_panel)) {
        s = {family, false, *scheme};
    }
    applySlots();
}

bool CompareTab::setSlotSpec(int slot, const QString& spec) {
    auto parsed = Scheme::parse(spec.toStdString());
    if (slot < 0 || slot >= kCompareSlots || !parsed)
        return false;
    m_slots[static_cast<size_t>(slot)] = {QString::fromStdString(parsed->family), true,
                                          parsed.value()};
    applySlots();
    return true;
}

QColor CompareTab::entryColour(int entry) const {
    QStringList families;
    for (const Scheme& s : m_entries)
        families << QString::fromStdString(s.family);
    return distinctSchemeColors(families)[static_cast<size_t>(entry)];
}

bool CompareTab::entryDashed(int entry) const {
    for (int i = 0; i < entry; ++i)
        if (m_entries[static_cast<size_t>(i)].family ==
            m_entries[static_cast<size_t>(entry)].family)
            return true;
    return false;
}

void CompareTab::applySlots() {
    // The used slots take the entries' colours (distinct where families would share one).
    QStringList used;
    for (const CompareSlot& s : m_slots)
        if (!s.family.isEmpty())
            used << s.family;
    const std::vector<QColor> colours = distinctSchemeColors(used);
    for (int i = 0, k = 0; i < kCompareSlots; ++i) {
        const CompareSlot& s = m_slots[static_cast<size_t>(i)];
        const QColor c = s.family.isEmpty() ? schemeColor(s.family) : colours[size_t(k++)];
        m_editors[static_cast<size_t>(i)]->showSlot(s.family, s.scheme, c);
    }
    const std::vector<Scheme> entries = slotSchemes(m_slots);
    if (entries == m_entries)
        return;
    m_entries = entries;
    const TensorInfo* info = m_checkpoint ? m_checkpoint->find(m_tensor.toStdString()) : nullptr;
    m_model->setSchemes(m_entries, info);
    for (int i = 0; i < CompareLevelsChart::kSlots; ++i) {
        m_levels->clearSlot(i);
        m_transfer->clearSlot(i);
    }
    clearErrorViews();
    updateCaption();
    m_controller->setSchemes(m_entries);
}

void CompareTab::updateCaption() {
    const TensorInfo* info = m_checkpoint ? m_checkpoint->find(m_tensor.toStdString()) : nullptr;
    if (!info) {
        m_caption->setText(tr("<span style='color:#777'>Select a tensor to compare schemes on "
                              "it</span>"));
        return;
    }
    m_caption->setText(
        tr("<b>%1</b>&nbsp;&nbsp;<span style='color:#555'>%2 %3 · %4 schemes at %5 bits · "
           "levels shown are those of each scheme's widest group</span>")
            .arg(QString::fromStdString(info->name).toHtmlEscaped(),
                 QString::fromStdString(info->shapeString()),
                 QString::fromStdString(info->typeName()))
            .arg(m_entries.size())
            .arg(m_panel.bits));
}

void CompareTab::onWeights(const QString& tensor,
                           const std::shared_ptr<const HistogramPlot>& weights) {
    if (tensor != m_tensor || !weights)
        return;
    m_status->hide();
    m_model->clearResults();
    m_table->setColumnHidden(static_cast<int>(CompareColumn::OutErr), true);
    m_levels->setWeights(*weights);
    clearErrorViews();
    m_transfer->setRange(weights->lo, weights->hi);
}

void CompareTab::onResult(const QString& tensor, int entry,
                          const std::shared_ptr<const CompareResult>& r) {
    if (tensor != m_tensor || !r || entry < 0 || entry >= static_cast<int>(m_entries.size()))
        return;
    m_model->setResult(entry, r);
    m_table->setColumnHidden(static_cast<int>(CompareColumn::OutErr), !m_model->hasOutputError());
    const QString spec = QString::fromStdString(r->scheme.toString());
    const QColor colour = entryColour(entry);
    const bool dashed = entryDashed(entry);
    if (r->status == CompareResult::Status::Ok) {
        m_levels->setSlot(entry, spec, r->levels, r->levelLines, r->levelRug, colour, dashed);
        m_transfer->setSlot(entry, spec, r->staircase, colour, dashed);
        m_scatter->setSlot(entry, spec, r->scatter, colour);
        m_maps[static_cast<size_t>(entry)]->setMap(spec, colour, r->errorMap);
    } else {
        m_levels->clearSlot(entry);
        m_transfer->clearSlot(entry);
        m_scatter->clearSlot(entry);
        m_maps[static_cast<size_t>(entry)]->clear();
    }
    double top = 0; // one colour scale for every scheme's map
    for (const ErrorMapView* v : m_maps)
        if (v->hasMap())
            top = std::max(top, v->map().maxTileRmse());
    for (ErrorMapView* v : m_maps)
        v->setScaleMax(top);
    m_mapLegend->setScale(tr("tile RMSE"), QStringLiteral("0"), formatNumber(top, 3), true);
    m_mapLegend->setVisible(top > 0);
}

void CompareTab::onFailed(const QString& message) {
    m_status->setText(message.section(QLatin1Char('\n'), 0, 0));
    m_status->setToolTip(message);
    m_status->show();
}

} // namespace qs
