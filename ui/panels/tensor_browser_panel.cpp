#include "panels/tensor_browser_panel.h"

#include "models/tensor_tree_model.h"
#include "panels/metadata_pane.h"
#include "widgets/table_columns.h"
#include "workers/tree_metrics_controller.h"

#include <QEvent>
#include <QFontMetrics>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStyle>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace qs {
namespace {
// Larger checkpoints open collapsed so the tree stays navigable.
constexpr int kExpandAllBelow = 400;
} // namespace

TensorBrowserPanel::TensorBrowserPanel(QWidget* parent)
    : QWidget(parent), m_model(new TensorTreeModel(this)), m_proxy(new QSortFilterProxyModel(this)),
      m_filter(new QLineEdit(this)), m_tree(new QTreeView(this)),
      m_metadata(new MetadataPane(this)), m_metrics(new TreeMetricsController(this)),
      m_emptyHint(new QLabel(m_tree->viewport())) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setRecursiveFilteringEnabled(true);
    m_proxy->setAutoAcceptChildRows(true);
    m_proxy->setFilterRole(static_cast<int>(TensorTreeRole::FilterText));
    m_proxy->setSortRole(static_cast<int>(TensorTreeRole::SortKey));
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);

    m_filter->setObjectName(QStringLiteral("tensorFilter"));
    m_filter->setPlaceholderText(tr("Filter tensors (text or regex)…"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, this, &TensorBrowserPanel::applyFilter);

    m_tree->setObjectName(QStringLiteral("tensorTree"));
    m_tree->setModel(m_proxy);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSortingEnabled(true);
    m_tree->sortByColumn(0, Qt::AscendingOrder);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->setIndentation(14);
    m_tree->setTextElideMode(Qt::ElideMiddle);
    // A name too long for its column loses ".weight" before it is elided (all are weights).
    shortenNames(m_tree, 0, 1);
    QHeaderView* header = m_tree->header();
    header->setStretchLastSection(false);
    // The name stretches; the other columns are sized once per checkpoint (fitColumns), not
    // ResizeToContents: that mode measures every row's text again for each metric that arrives
    // (the header resizes before the view can place the changed cell), 36-116 ms of the GUI
    // thread at a time during a sweep of a 1B checkpoint.
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionResizeMode(static_cast<int>(TensorColumn::Name), QHeaderView::Stretch);
    // The sketch in DESIGN.md: name, shape, dtype, bpw, SQNR; parameters show in the tooltip
    // and the metadata pane.
    m_tree->setColumnHidden(static_cast<int>(TensorColumn::Parameters), true);
    m_tree->viewport()->installEventFilter(this); // narrow: some columns step aside
    // Started without a file (or in Learn mode), the tree says how to open one.
    m_emptyHint->setObjectName(QStringLiteral("emptyTreeHint"));
    m_emptyHint->setText(tr("No checkpoint open.\n\nFile ▸ Open… (Ctrl+O), or drop a file or a "
                            "model folder here: safetensors, GGUF, PyTorch, HDF5/Keras, NumPy, "
                            "ONNX."));
    m_emptyHint->setAlignment(Qt::AlignCenter);
    m_emptyHint->setWordWrap(true);
    m_emptyHint->setStyleSheet(QStringLiteral("color: #888; padding: 12px;"));
    m_emptyHint->setAttribute(Qt::WA_TransparentForMouseEvents);
    connect(m_metrics, &TreeMetricsController::metricsReset, m_model,
            &TensorTreeModel::clearMetrics);
    connect(m_metrics, &TreeMetricsController::metricReady, m_model, &TensorTreeModel::setMetric);
    connect(m_metrics, &TreeMetricsController::idle, this, &TensorBrowserPanel::idle);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& current) { onCurrentChanged(current); });

    auto* treeBox = new QWidget(this);
    auto* treeLayout = new QVBoxLayout(treeBox);
    treeLayout->setContentsMargins(0, 0, 0, 0);
    treeLayout->setSpacing(4);
    treeLayout->addWidget(m_filter);
    treeLayout->addWidget(m_tree);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(treeBox);
    splitter->addWidget(m_metadata);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 0);
    splitter->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 6);
    layout->addWidget(splitter);
}

void TensorBrowserPanel::setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint) {
    m_emptyHint->setVisible(!checkpoint);
    m_metadata->setCheckpoint(checkpoint.get());
    m_model->setCheckpoint(checkpoint);
    m_metrics->setCheckpoint(std::move(checkpoint));
    if (m_model->tensorCount() < kExpandAllBelow)
        m_tree->expandAll();
    fitColumns();
    // The opened file's tensors take the keyboard (arrow keys walk them); the filter box would
    // otherwise keep its cursor blinking, a repaint of the dock twice a second through a sweep.
    if (!m_filter->hasFocus() || m_filter->text().isEmpty())
        m_tree->setFocus(Qt::OtherFocusReason);
}

void TensorBrowserPanel::fitColumns() {
    // What the cells can show: every distinct shape and dtype of the checkpoint (groups show a
    // dtype too), and the widest texts of the metric columns (tensor_metric.h).
    QSet<QString> shapes, dtypes = {TensorTreeModel::tr("mixed")};
    if (const Checkpoint* c = m_model->checkpoint())
        for (const TensorInfo& t : c->tensors()) {
            shapes.insert(QString::fromStdString(t.shapeString()));
            dtypes.insert(QString::fromStdString(t.typeName()));
        }
    const QStringList bpw = {QStringLiteral("32.00"), QStringLiteral("error")};
    const QStringList sqnr = {QStringLiteral("-199.9"), QStringLiteral("exact"),
                              QStringLiteral("error")};
    const QFontMetrics fm(m_tree->font());
    // The item delegate's text margin on each side (QCommonStyle's view item layout), and one
    // more pixel each for rounding.
    const int margin =
        2 * (m_tree->style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, m_tree) + 2);
    QHeaderView* header = m_tree->header();
    auto fit = [&](TensorColumn column, const auto& texts) {
        const int c = static_cast<int>(column);
        int width = header->sectionSizeHint(c);
        for (const QString& t : texts)
            width = std::max(width, fm.horizontalAdvance(t) + margin);
        header->resizeSection(c, width); // kept while hidden
        m_widths[static_cast<std::size_t>(c)] = width;
    };
    fit(TensorColumn::Shape, shapes);
    fit(TensorColumn::DType, dtypes);
    fit(TensorColumn::Bpw, bpw);
    fit(TensorColumn::Sqnr, sqnr);
    showColumnsThatFit();
}

void TensorBrowserPanel::showColumnsThatFit() {
    auto width = [&](TensorColumn c) { return m_widths[static_cast<std::size_t>(c)]; };
    if (width(TensorColumn::Sqnr) == 0)
        return; // no checkpoint fitted yet
    int used = width(TensorColumn::Shape) + width(TensorColumn::DType) + width(TensorColumn::Bpw) +
               width(TensorColumn::Sqnr);
    const int available = m_tree->viewport()->width();
    for (TensorColumn c : {TensorColumn::DType, TensorColumn::Bpw, TensorColumn::Shape}) {
        const int column = static_cast<int>(c);
        const bool hide = available - used < kNameMinWidth;
        if (hide)
            used -= width(c);
        if (m_tree->isColumnHidden(column) != hide) // the header keeps a hidden one's width
            m_tree->setColumnHidden(column, hide);
    }
}

bool TensorBrowserPanel::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_tree->viewport() && event->type() == QEvent::Resize) {
        showColumnsThatFit();
        m_emptyHint->setGeometry(m_tree->viewport()->rect());
    }
    return QWidget::eventFilter(watched, event);
}

bool TensorBrowserPanel::selectTensor(const QString& name) {
    const QModelIndex source = m_model->indexOfTensor(name);
    if (!source.isValid())
        return false;
    QModelIndex proxied = m_proxy->mapFromSource(source);
    if (!proxied.isValid()) {
        m_filter->clear();
        proxied = m_proxy->mapFromSource(source);
    }
    m_tree->expand(proxied.parent());
    m_tree->setCurrentIndex(proxied);
    m_tree->scrollTo(proxied);
    return true;
}

QString TensorBrowserPanel::currentTensor() const {
    return m_tree->currentIndex().data(static_cast<int>(TensorTreeRole::TensorName)).toString();
}

void TensorBrowserPanel::setFilterText(const QString& text) {
    m_filter->setText(text);
}

void TensorBrowserPanel::setScheme(const Scheme& scheme) {
    m_metrics->setScheme(scheme);
}

void TensorBrowserPanel::setActivations(std::shared_ptr<const ActivationSource> activations) {
    m_metrics->setActivations(std::move(activations));
}

void TensorBrowserPanel::storeMetric(const QString& tensor, const Scheme& scheme,
                                     const TensorMetric& metric) {
    m_metrics->store(tensor, scheme, metric);
}

void TensorBrowserPanel::shutdown() {
    m_metrics->shutdown();
}

bool TensorBrowserPanel::isBusy() const {
    return m_metrics->isBusy();
}

void TensorBrowserPanel::applyFilter(const QString& text) {
    // A valid regular expression filters as one (the CLI's --tensor takes regexes too); anything
    // else is matched literally.
    QRegularExpression re(text, QRegularExpression::CaseInsensitiveOption);
    if (!re.isValid())
        re = QRegularExpression(QRegularExpression::escape(text),
                                QRegularExpression::CaseInsensitiveOption);
    m_proxy->setFilterRegularExpression(re);
    if (!text.isEmpty())
        m_tree->expandAll();
}

void TensorBrowserPanel::onCurrentChanged(const QModelIndex& current) {
    const QString name = current.data(static_cast<int>(TensorTreeRole::TensorName)).toString();
    if (name.isEmpty())
        return;
    m_metadata->setTensor(m_model->tensorAt(m_proxy->mapToSource(current)));
    m_metrics->setFocus(name); // the detail view analyses it: the tree measures it last
    Q_EMIT tensorSelected(name);
}

} // namespace qs
