#include "panels/model_tab.h"

#include "charts/sensitivity_heatmap.h"
#include "methods/activation_source.h"
#include "models/sensitivity_model.h"
#include "number_format.h"
#include "widgets/activation_picker.h"
#include "widgets/flow_layout.h"
#include "widgets/progress_value.h"
#include "widgets/scale_legend.h"
#include "widgets/table_columns.h"
#include "workers/sweep_controller.h"

#include <QComboBox>
#include <QDateTime>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>

namespace qs {

namespace {

// Keeps the rows whose role is ticked; sorts numerically on SensitivityRole::Sort.
class RoleFilterProxy : public QSortFilterProxyModel {
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setShown(TensorRole role, bool shown) {
        if (shown)
            m_hidden.erase(role);
        else
            m_hidden.insert(role);
        invalidateFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override {
        const int role =
            sourceModel()->index(row, 0, parent).data(int(SensitivityRole::TensorRoleId)).toInt();
        return !m_hidden.count(static_cast<TensorRole>(role));
    }

private:
    std::set<TensorRole> m_hidden;
};

constexpr TensorRole kRoles[] = {TensorRole::Attention, TensorRole::Mlp,    TensorRole::Embedding,
                                 TensorRole::Norm,      TensorRole::Output, TensorRole::Other};

QString roleButtonText(TensorRole r) {
    switch (r) {
    case TensorRole::Attention:
        return ModelTab::tr("Attention");
    case TensorRole::Mlp:
        return ModelTab::tr("MLP");
    case TensorRole::Embedding:
        return ModelTab::tr("Embeddings");
    case TensorRole::Norm:
        return ModelTab::tr("Norms");
    case TensorRole::Output:
        return ModelTab::tr("Output");
    case TensorRole::Other:
        break;
    }
    return ModelTab::tr("Other");
}

// The specs of a list typed with commas, semicolons or spaces between them.
QStringList splitSpecs(const QString& text) {
    return text.split(QRegularExpression(QStringLiteral("[,;\\s]+")), Qt::SkipEmptyParts);
}

} // namespace

QString ModelTab::defaultSchemes() {
    return QStringLiteral("int3:g64, int4:g128, nf4:g64, q4_k, q8_0");
}

ModelTab::ModelTab(SweepController* sweeps, QWidget* parent)
    : QWidget(parent), m_sweeps(sweeps), m_model(new SensitivityModel(this)),
      m_proxy(new RoleFilterProxy(this)), m_schemeEdit(new QLineEdit(defaultSchemes())),
      m_sweepButton(new QPushButton(tr("Sweep"))), m_cancelButton(new QToolButton),
      m_progress(new QProgressBar), m_metric(new QComboBox), m_activations(new QComboBox),
      m_legend(new ScaleLegend), m_heatmap(new SensitivityHeatmap),
      m_reader(new ActivationReader(this)), m_table(new QTableView), m_status(new QLabel) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(int(SensitivityRole::Sort));

    m_schemeEdit->setObjectName(QStringLiteral("sweepSchemes"));
    m_schemeEdit->setToolTip(tr("Schemes to sweep, separated by commas (any spec the Scheme "
                                "panel accepts, e.g. int4:g128, nf4:g64, q4_k, mxfp4)"));
    m_schemeEdit->setMinimumWidth(200);
    connect(m_schemeEdit, &QLineEdit::returnPressed, this, &ModelTab::runSweep);
    m_sweepButton->setObjectName(QStringLiteral("sweepButton"));
    m_sweepButton->setToolTip(tr("Quantize every tensor with two or more dimensions under each "
                                 "scheme; schemes already measured on this file are reused"));
    connect(m_sweepButton, &QPushButton::clicked, this, &ModelTab::runSweep);
    m_cancelButton->setText(tr("Cancel"));
    m_cancelButton->setToolTip(tr("Stop the sweep"));
    connect(m_cancelButton, &QToolButton::clicked, m_sweeps, &SweepController::cancel);
    m_progress->setRange(0, 1000);
    m_progress->setMaximumWidth(160);
    m_progress->setTextVisible(false);
    m_metric->addItem(tr("SQNR (dB)"), int(SensitivityMetric::SqnrDb));
    m_metric->addItem(tr("Relative RMSE"), int(SensitivityMetric::RelRmse));
    m_metric->addItem(tr("Output error"), int(SensitivityMetric::OutRelErr));
    m_metric->setToolTip(tr("What the map's colours show (the output error needs activations)"));
    connect(m_metric, &QComboBox::currentIndexChanged, this,
            [this] { setMetric(m_metric->currentData().toInt()); });
    m_activations->setObjectName(QStringLiteral("sweepActivations"));
    m_activations->addItem(tr("none"), QString());
    m_activations->addItem(tr("synthetic"), defaultSyntheticActivations()); // named once chosen
    m_activations->addItem(tr("from a file…"), QString());
    m_activations->setToolTip(
        tr("Layer inputs X for the output error ‖XWᵀ − XŴᵀ‖ / ‖XWᵀ‖: synthetic ones (4 outlier "
           "channels × 20) for every width, or a [tokens, in_features] tensor from a file for "
           "the tensors of its width. Sweeping with them multiplies each tensor by X. A "
           "llama.cpp importance matrix (llama-imatrix's imatrix.gguf or .dat) from a file "
           "stands in for X: the output error is then the one its mean squares imply, and "
           "q4_k:imatrix quantizes with it as llama-quantize --imatrix does."));
    connect(m_activations, &QComboBox::activated, this, [this](int index) {
        QString source = m_activations->itemData(index).toString(), tensor;
        if (index == 2) {
            const auto file = pickActivationFile(this);
            if (!file) {
                m_activations->setCurrentIndex(m_activationsIndex);
                return;
            }
            source = file->path;
            tensor = file->tensor;
        }
        setActivations(source, tensor); // on failure the choice goes back to the one in use
    });

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Schemes:")));
    top->addWidget(m_schemeEdit, 1);
    top->addWidget(m_sweepButton);
    top->addWidget(m_progress);
    top->addWidget(m_cancelButton);

    // What the map shows, which roles, and its colour scale: a row that wraps when narrow.
    auto* filters = new FlowLayout;
    filters->addWidget(new QLabel(tr("Show:")));
    filters->addWidget(m_metric);
    filters->addWidget(new QLabel(tr("Activations:")));
    filters->addWidget(m_activations);
    filters->addSpacing(12);
    // The roles' label and buttons wrap as one.
    auto* roles = new QWidget;
    auto* rolesLayout = new QHBoxLayout(roles);
    rolesLayout->setContentsMargins(0, 0, 0, 0);
    rolesLayout->addWidget(new QLabel(tr("Roles:")));
    for (TensorRole r : kRoles) {
        auto* b = new QToolButton;
        b->setText(roleButtonText(r));
        b->setCheckable(true);
        b->setChecked(true);
        b->setToolTip(tr("Show or hide %1 tensors (recognised from their names)")
                          .arg(roleButtonText(r).toLower()));
        connect(b, &QToolButton::toggled, this, [this, r](bool on) { setRoleShown(r, on); });
        m_roleButtons[r] = b;
        rolesLayout->addWidget(b);
    }
    filters->addWidget(roles);
    filters->addSpacing(12);
    filters->addWidget(m_legend);

    m_heatmap->setModel(m_proxy);
    m_heatmap->setExportHeader(m_legend);
    m_heatmap->setObjectName(QStringLiteral("sensitivityMap"));
    connect(m_heatmap, &SensitivityHeatmap::cellActivated, this, &ModelTab::openRequested);
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_heatmap);
    scroll->setWidgetResizable(false);
    scroll->setFrameShape(QFrame::NoFrame);

    m_table->setModel(m_proxy);
    shortenNames(m_table, int(SensitivityColumn::Tensor));
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(-1, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(SensitivityHeatmap::kRowHeight + 4);
    // Sized once per sweep: resizing to contents on every arriving row is quadratic.
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->setToolTip(tr("Click a header to sort; the map follows. Double-click a row to open "
                           "the tensor."));
    // The inputs' spread shows once a sweep has activations or an importance matrix to give it.
    m_table->setColumnHidden(int(SensitivityColumn::InputSpread), true);
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& idx) {
        Q_EMIT openRequested(idx.data(int(SensitivityRole::TensorName)).toString(),
                             idx.data(int(SensitivityRole::Spec)).toString());
    });

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(scroll);
    split->addWidget(m_table);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 0);
    m_splitter = split;
    connect(split, &QSplitter::splitterMoved, this, [this] { m_userSized = true; });

    m_status->setObjectName(QStringLiteral("sweepStatus"));
    m_status->setWordWrap(true); // a long status (an error) must not widen the tab
    m_status->setStyleSheet(QStringLiteral("color: #666;"));
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(filters);
    layout->addWidget(split, 1);
    layout->addWidget(m_status);

    connect(m_sweeps, &SweepController::started, this, &ModelTab::onStarted);
    connect(m_sweeps, &SweepController::tensorMeasured, this, &ModelTab::onTensor);
    connect(m_sweeps, &SweepController::finished, this, &ModelTab::onFinished);
    connect(m_sweeps, &SweepController::failed, this, &ModelTab::onFailed);
    connect(m_sweeps, &SweepController::cancelled, this, [this] {
        setRunning(false);
        m_status->setText(tr("Sweep cancelled: %1 tensors measured").arg(m_model->rowCount()));
    });
    connect(m_sweeps, &SweepController::progressChanged, this,
            [this](double f) { setProgressValue(m_progress, static_cast<int>(f * 1000)); });
    setRunning(false);
    updateScale();
    m_status->setText(tr("Sweep the checkpoint to see which tensors are sensitive."));
}

void ModelTab::checkpointChanged() {
    m_model->clear();
    setRunning(false);
    updateScale();
    m_status->setText(tr("Sweep the checkpoint to see which tensors are sensitive."));
}

Result<std::vector<Scheme>> ModelTab::schemes() const {
    std::vector<Scheme> out;
    const QStringList parts = splitSpecs(m_schemeEdit->text());
    for (const QString& part : parts) {
        auto s = Scheme::parse(part.toStdString());
        if (!s)
            return makeError(part.toStdString() + ": " + s.message());
        if (std::find(out.begin(), out.end(), *s) == out.end())
            out.push_back(*s);
    }
    if (out.empty())
        return makeError("list at least one scheme to sweep");
    return out;
}

void ModelTab::setSchemesText(const QString& text) {
    m_schemeEdit->setText(text);
}

void ModelTab::addSchemes(const QStringList& specs) {
    QStringList list = splitSpecs(m_schemeEdit->text());
    const auto have = schemes();
    for (const QString& spec : specs) {
        const auto s = Scheme::parse(spec.toStdString());
        if (s && have && std::find(have->begin(), have->end(), *s) != have->end())
            continue;
        if (!list.contains(spec))
            list << spec;
    }
    m_schemeEdit->setText(list.join(QStringLiteral(", ")));
}

bool ModelTab::runSweep() {
    auto s = schemes();
    if (!s) {
        m_status->setStyleSheet(QStringLiteral("color: #C0392B;"));
        m_status->setText(QString::fromStdString(s.message()));
        return false;
    }
    if (!m_sweeps->checkpoint()) {
        m_status->setText(tr("Open a checkpoint first"));
        return false;
    }
    m_sweeps->sweep(*s);
    return true;
}

void ModelTab::setMetric(int metric) {
    m_model->setMetric(static_cast<SensitivityMetric>(metric));
    const int idx = m_metric->findData(metric);
    if (idx >= 0 && idx != m_metric->currentIndex())
        m_metric->setCurrentIndex(idx);
    updateScale();
}

bool ModelTab::setActivations(const QString& source, const QString& tensor) {
    m_reader->drop(); // a file still being read is for an older choice
    auto fail = [this](const QString& why) {
        m_status->setStyleSheet(QStringLiteral("color: #C0392B;"));
        m_status->setText(why);
        m_activations->setCurrentIndex(m_activationsIndex);
        return false;
    };
    if (source.isEmpty()) {
        m_activationsChoice = {};
        applyActivations(nullptr, 0);
        return true;
    }
    if (source.startsWith(QLatin1String(kSyntheticCalibrationPrefix.data()))) {
        auto spec = parseSyntheticCalibration(source.toStdString());
        if (!spec)
            return fail(QString::fromStdString(spec.message()));
        m_activations->setItemData(1, source);
        m_activations->setItemText(1, tr("synthetic, %1 tokens").arg(spec->tokens));
        m_activationsChoice = {source, {}};
        applyActivations(std::make_shared<const ActivationSource>(
                             ActivationSource::synthetic(*spec, source.toStdString())),
                         1);
        return true;
    }
    // A file is read on the work pool (a large one takes a while), and applied once read.
    const bool reading = m_reader->read(
        {source, tensor}, [this, source, tensor, fail](std::shared_ptr<const ActivationSource> read,
                                                       const QString& error) {
            if (!read) {
                fail(error);
                Q_EMIT activationsChanged(false);
                return;
            }
            m_activationsChoice = {source, tensor};
            const QString file = QFileInfo(source).fileName();
            m_activations->setItemText(
                2,
                read->imatrix()
                    ? tr("%1 (importance matrix)").arg(file)
                    : tr("%1 [%2, %3]").arg(file).arg(read->tokens()).arg(read->loadedFeatures()));
            applyActivations(std::move(read), 2);
        });
    if (!reading)
        return fail(tr("%1: no such file").arg(source));
    m_status->setStyleSheet(QStringLiteral("color: #666;"));
    m_status->setText(tr("Reading activations from %1…").arg(QFileInfo(source).fileName()));
    return true;
}

bool ModelTab::readingActivations() const {
    return m_reader->reading();
}

void ModelTab::applyActivations(std::shared_ptr<const ActivationSource> activations, int index) {
    m_activationsIndex = index;
    m_activations->setCurrentIndex(index);
    m_status->setStyleSheet(QStringLiteral("color: #666;"));
    // A sweep under way (a project's, started before its file of activations was read) is
    // cancelled by the change: run again too.
    const bool swept = m_model->measuredTensors() > 0 || m_sweeps->isBusy();
    const bool any = activations != nullptr;
    m_model->setFromImportanceMatrix(any && activations->imatrix());
    m_sweeps->setActivations(std::move(activations));
    // What the activations are for; without them, back to the SQNR.
    if (any)
        setMetric(int(SensitivityMetric::OutRelErr));
    else if (m_model->metric() == SensitivityMetric::OutRelErr)
        setMetric(int(SensitivityMetric::SqnrDb));
    if (swept)
        runSweep(); // every scheme again, with (or without) the output error
    Q_EMIT activationsChanged(true);
}

void ModelTab::setRoleShown(TensorRole role, bool shown) {
    static_cast<RoleFilterProxy*>(m_proxy)->setShown(role, shown);
    if (QToolButton* b = m_roleButtons[role]; b && b->isChecked() != shown)
        b->setChecked(shown);
}

QString ModelTab::statusText() const {
    return m_status->text();
}

void ModelTab::setRunning(bool running) {
    m_progress->setVisible(running);
    m_cancelButton->setVisible(running);
    if (running)
        setProgressValue(m_progress, 0);
}

void ModelTab::fitSplit() {
    if (!m_splitter)
        return;
    // The map's scroll area needs room for a vertical scroll bar beside the map.
    const int bar = style()->pixelMetric(QStyle::PM_ScrollBarExtent) + 4;
    const int width = m_splitter->width(), height = m_splitter->height();
    m_heatmap->showWholeNames();
    const int hint = m_heatmap->sizeHint().width() + bar;
    if (width >= hint + m_splitter->handleWidth() + kMinTableWidth) {
        m_splitter->setOrientation(Qt::Horizontal);
        m_splitter->setSizes({hint, width - hint});
        return;
    }
    // Below: the map keeps most of the height (its rows arrive during the sweep), and the names
    // give way so that the scheme columns (and the bars, where they can) show without scrolling.
    m_heatmap->fitLabelsTo(width - bar);
    m_splitter->setOrientation(Qt::Vertical);
    m_splitter->setSizes({height * 3 / 5, height - height * 3 / 5});
}

void ModelTab::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    if (!m_userSized)
        fitSplit();
}

void ModelTab::onStarted(const std::vector<Scheme>& schemes) {
    m_startedMs = QDateTime::currentMSecsSinceEpoch();
    m_status->setStyleSheet(QStringLiteral("color: #666;"));
    m_model->setSchemes(schemes);
    if (!m_userSized) // more or fewer scheme columns
        fitSplit();
    setRunning(true);
    m_status->setText(tr("Sweeping %n scheme(s)…", nullptr, static_cast<int>(schemes.size())));
}

void ModelTab::onTensor(const TensorMeasurement& t) {
    m_model->addMeasurement(t);
    if (std::isfinite(t.inputSpread))
        m_table->setColumnHidden(int(SensitivityColumn::InputSpread), false);
    updateScale();
    m_status->setText(tr("Sweeping: %1 tensors measured…").arg(m_model->rowCount()));
}

void ModelTab::onFinished(const std::shared_ptr<const PlanMeasurements>& m) {
    m_model->setMeasurements(*m);
    m_table->setColumnHidden(int(SensitivityColumn::InputSpread), !m_model->hasInputSpread());
    // In an event of its own: measuring every cell takes milliseconds, and the sweep's end is
    // split so that no one event holds the GUI thread long.
    QTimer::singleShot(0, m_table, [table = m_table] {
        fitColumnsToView(table, int(SensitivityColumn::Tensor), kMinNameColumnWidth);
    });
    setRunning(false);
    updateScale();
    const qint64 ms = QDateTime::currentMSecsSinceEpoch() - m_startedMs;
    m_status->setText(tr("%1 tensors × %2 schemes · %3 weights · %4 ms (schemes measured before "
                         "on this file are reused)")
                          .arg(m->tensors.size())
                          .arg(m->candidates.size())
                          .arg(formatCountShort(static_cast<std::int64_t>(m->elements)))
                          .arg(ms));
}

void ModelTab::onFailed(const QString& message) {
    setRunning(false);
    m_status->setStyleSheet(QStringLiteral("color: #C0392B;"));
    m_status->setText(message.section(QLatin1Char('\n'), 0, 0));
}

void ModelTab::updateScale() {
    const auto [lo, hi] = m_model->valueRange();
    const SensitivityMetric metric = m_model->metric();
    const bool sqnr = metric == SensitivityMetric::SqnrDb;
    m_heatmap->setScale(lo, hi, sqnr);
    const auto label = [&](double v) { return sqnr ? formatDb(v) : formatNumber(v, 3); };
    m_legend->setScale(sqnr                                   ? tr("SQNR")
                       : metric == SensitivityMetric::RelRmse ? tr("Relative RMSE")
                                                              : tr("Output error"),
                       label(lo), label(hi), sqnr);
}

} // namespace qs
