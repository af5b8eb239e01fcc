#include "panels/memory_tab.h"
#include "workers/work_pool.h"

#include "charts/memory_breakdown_chart.h"
#include "number_format.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace qs {

namespace {

struct Estimates {
    std::optional<Result<MemoryEstimate>> setup, stored;
};

QColor roleColour(TensorRole r) {
    switch (r) {
    case TensorRole::Attention:
        return QColor(0x2E86AB);
    case TensorRole::Mlp:
        return QColor(0x1B998B);
    case TensorRole::Embedding:
        return QColor(0xF18F01);
    case TensorRole::Norm:
        return QColor(0x999999);
    case TensorRole::Output:
        return QColor(0x6C4AB6);
    case TensorRole::Other:
        break;
    }
    return QColor(0x8D6E63);
}

} // namespace

MemoryTab::MemoryTab(QWidget* parent)
    : QWidget(parent), m_source(new QLabel), m_weights(new QComboBox), m_mode(new QComboBox),
      m_context(new QSpinBox), m_batch(new QSpinBox), m_kv(new QComboBox), m_rank(new QSpinBox),
      m_checkpointing(new QCheckBox(tr("Gradient checkpointing"))), m_total(new QLabel),
      m_notes(new QLabel), m_chart(new MemoryBreakdownChart), m_gpus(new QTableWidget) {
    auto* configButton = new QPushButton(tr("Use a config.json…"));
    configButton->setToolTip(tr("Plan for any Hugging Face model from its config.json, without "
                                "its weights"));
    connect(configButton, &QPushButton::clicked, this, &MemoryTab::chooseConfig);
    m_source->setWordWrap(true);
    m_weights->setToolTip(tr("Weights as stored, under the Scheme panel's scheme (scales and "
                             "zero-points included), or under the Plan tab's plan"));
    for (MemoryMode m :
         {MemoryMode::Inference, MemoryMode::Train, MemoryMode::Lora, MemoryMode::Qlora})
        m_mode->addItem(QString::fromUtf8(memoryModeName(m).data()), int(m));
    m_mode->setItemText(0, tr("Inference"));
    m_mode->setItemText(1, tr("Full training (Adam)"));
    m_mode->setItemText(2, tr("LoRA"));
    m_mode->setItemText(3, tr("QLoRA (NF4 base)"));
    m_context->setRange(1, 10'000'000);
    m_context->setValue(kDefaultContext);
    m_context->setSingleStep(1024);
    m_context->setSuffix(tr(" tokens"));
    m_batch->setRange(1, 4096);
    m_batch->setValue(1);
    m_batch->setSuffix(tr(" seq"));
    m_batch->setToolTip(tr("Sequences served at once"));
    for (KvDtype k : {KvDtype::F16, KvDtype::BF16, KvDtype::FP8, KvDtype::Q8_0, KvDtype::Q4_0})
        m_kv->addItem(QString::fromUtf8(kvDtypeName(k).data()), int(k));
    m_rank->setRange(1, 4096);
    m_rank->setValue(16);
    m_rank->setToolTip(tr("LoRA rank r: adapters of r x (in + out) per adapted matrix"));
    connect(m_weights, &QComboBox::activated, this,
            [this] { m_as = static_cast<WeightsAs>(m_weights->currentData().toInt()); });
    for (QComboBox* box : {m_weights, m_mode, m_kv})
        connect(box, &QComboBox::currentIndexChanged, this, &MemoryTab::schedule);
    for (QSpinBox* spin : {m_context, m_batch, m_rank})
        connect(spin, &QSpinBox::valueChanged, this, &MemoryTab::schedule);
    connect(m_context, &QSpinBox::valueChanged, this, [this] { m_contextChosen = true; });
    connect(m_checkpointing, &QCheckBox::toggled, this, &MemoryTab::schedule);

    auto* form = new QFormLayout;
    form->addRow(tr("Model"), m_source);
    form->addRow(QString(), configButton);
    form->addRow(tr("Weights"), m_weights);
    form->addRow(tr("Mode"), m_mode);
    form->addRow(tr("Context"), m_context);
    form->addRow(tr("Batch"), m_batch);
    form->addRow(tr("KV cache"), m_kv);
    form->addRow(tr("LoRA rank"), m_rank);
    form->addRow(QString(), m_checkpointing);
    auto* controls = new QWidget;
    auto* controlsLayout = new QVBoxLayout(controls);
    controlsLayout->addLayout(form);
    m_total->setObjectName(QStringLiteral("memoryTotal"));
    m_total->setWordWrap(true);
    m_total->setTextFormat(Qt::RichText);
    controlsLayout->addWidget(m_total);
    m_notes->setWordWrap(true);
    m_notes->setStyleSheet(QStringLiteral("color: #666;"));
    controlsLayout->addWidget(m_notes);
    controlsLayout->addStretch(1);
    controls->setMinimumWidth(300);
    controls->setMaximumWidth(380);

    m_gpus->setColumnCount(3);
    m_gpus->setHorizontalHeaderLabels({tr("GPU"), tr("Usable"), tr("Fits")});
    m_gpus->verticalHeader()->hide();
    m_gpus->verticalHeader()->setDefaultSectionSize(22);
    m_gpus->setEditTriggers(QAbstractItemView::NoEditTriggers);
    // The figures whole; the names take what is left, elided in the middle ("Apple M…128 GB"):
    // fitted to its contents the table was wider than its 255 pixels at 1280 x 800.
    m_gpus->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_gpus->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_gpus->horizontalHeader()->setMinimumSectionSize(40);
    m_gpus->setTextElideMode(Qt::ElideMiddle);
    m_gpus->setWordWrap(false);
    m_gpus->setToolTip(tr("Usable: what the driver reports less what it reserves (an \"80 GB\" "
                          "H100 offers 79.2 GiB); Apple silicon lets the GPU use about 75% of its "
                          "unified memory. No runtime overhead (CUDA context, fragmentation) is "
                          "counted."));

    auto* right = new QVBoxLayout;
    right->addWidget(m_chart, 3);
    right->addWidget(m_gpus, 2);
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(controls);
    layout->addLayout(right, 1);
    updateWeightsChoices();
    m_source->setText(tr("Open a checkpoint or choose a config.json"));
}

void MemoryTab::setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint) {
    if (!checkpoint) {
        m_model.reset();
        return;
    }
    m_model = std::make_shared<const ModelDescription>(describeCheckpoint(*checkpoint));
    m_modelName = QFileInfo(QString::fromStdString(checkpoint->path())).fileName();
    m_source->setText(tr("%1 (%2 parameters, counted from the checkpoint%3)")
                          .arg(m_modelName,
                               formatCountShort(static_cast<std::int64_t>(m_model->params)),
                               m_model->arch ? tr("; architecture from its config") : QString()));
    fitContextToModel();
    schedule();
}

void MemoryTab::fitContextToModel() {
    if (m_contextChosen)
        return; // the user's context stands; the notes say when it is past the model's
    const std::int64_t most = m_model && m_model->arch ? m_model->arch->maxContext : 0;
    const QSignalBlocker quiet(m_context); // the caller schedules the estimate
    m_context->setValue(static_cast<int>(most > 0 ? std::min<std::int64_t>(most, kDefaultContext)
                                                  : kDefaultContext));
}

bool MemoryTab::setConfig(const QString& path) {
    QFile f(path);
    if (f.size() > (16 << 20) || !f.open(QIODevice::ReadOnly)) {
        m_total->setText(
            tr("<span style='color:#C0392B'>cannot read %1</span>").arg(path.toHtmlEscaped()));
        return false;
    }
    auto d = describeConfig(f.readAll().toStdString());
    if (!d) {
        m_total->setText(QStringLiteral("<span style='color:#C0392B'>%1: %2</span>")
                             .arg(QFileInfo(path).fileName().toHtmlEscaped(),
                                  QString::fromStdString(d.message()).toHtmlEscaped()));
        return false;
    }
    m_model = std::make_shared<const ModelDescription>(std::move(d).value());
    m_modelName = QFileInfo(path).fileName();
    m_source->setText(tr("%1 (%2 parameters, from config.json)")
                          .arg(path, formatCountShort(static_cast<std::int64_t>(m_model->params))));
    fitContextToModel();
    schedule();
    return true;
}

void MemoryTab::chooseConfig() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Model config"), QString(),
                                                      tr("config.json (*.json)"));
    if (!path.isEmpty())
        setConfig(path);
}

void MemoryTab::setPanelScheme(const Scheme& scheme) {
    m_scheme = scheme;
    updateWeightsChoices();
    schedule();
}

void MemoryTab::setPlan(std::optional<Plan> plan) {
    m_plan = plan ? std::make_shared<const Plan>(std::move(*plan)) : nullptr;
    updateWeightsChoices();
    if (m_weights->currentData().toInt() == int(WeightsAs::Plan))
        schedule();
}

void MemoryTab::updateWeightsChoices() {
    const int current = int(m_as);
    const QSignalBlocker block(m_weights);
    m_weights->clear();
    m_weights->addItem(tr("as stored"), int(WeightsAs::Stored));
    if (m_scheme)
        m_weights->addItem(tr("scheme %1").arg(QString::fromStdString(m_scheme->toString())),
                           int(WeightsAs::Scheme));
    if (m_plan)
        m_weights->addItem(tr("the Plan tab's plan (%1 bpw)").arg(m_plan->bitsPerWeight, 0, 'f', 2),
                           int(WeightsAs::Plan));
    const int idx = m_weights->findData(current);
    m_weights->setCurrentIndex(idx >= 0 ? idx : 0);
}

void MemoryTab::setWeightsAs(WeightsAs as) {
    m_as = as;
    const int idx = m_weights->findData(int(as));
    if (idx >= 0)
        m_weights->setCurrentIndex(idx);
}

void MemoryTab::setMode(MemoryMode mode) {
    m_mode->setCurrentIndex(m_mode->findData(int(mode)));
}

int MemoryTab::context() const {
    return m_context->value();
}

QString MemoryTab::notesText() const {
    return m_notes->text();
}

void MemoryTab::setContext(int tokens) {
    m_context->setValue(tokens);
}

void MemoryTab::setBatch(int sequences) {
    m_batch->setValue(sequences);
}

void MemoryTab::setKvDtype(KvDtype dtype) {
    m_kv->setCurrentIndex(m_kv->findData(int(dtype)));
}

MemoryOptions MemoryTab::options() const {
    MemoryOptions o;
    o.mode = static_cast<MemoryMode>(m_mode->currentData().toInt());
    o.context = m_context->value();
    o.batch = m_batch->value();
    o.kvDtype = static_cast<KvDtype>(m_kv->currentData().toInt());
    o.loraRank = m_rank->value();
    o.gradientCheckpointing = m_checkpointing->isChecked();
    const auto as = static_cast<WeightsAs>(m_weights->currentData().toInt());
    if (as == WeightsAs::Scheme && m_scheme)
        o.scheme = m_scheme;
    if (as == WeightsAs::Plan && m_plan)
        o.plan = m_plan.get();
    return o;
}

void MemoryTab::schedule() {
    const bool lora = m_mode->currentData().toInt() == int(MemoryMode::Lora) ||
                      m_mode->currentData().toInt() == int(MemoryMode::Qlora);
    m_rank->setEnabled(lora);
    m_kv->setEnabled(m_mode->currentData().toInt() == int(MemoryMode::Inference));
    m_checkpointing->setEnabled(m_mode->currentData().toInt() != int(MemoryMode::Inference));
    if (!m_model)
        return;
    if (m_running) {
        m_pending = true;
        return;
    }
    compute();
}

void MemoryTab::compute() {
    m_running = true;
    m_pending = false;
    const quint64 generation = ++m_generation;
    auto model = m_model;
    auto plan = m_plan; // kept alive while the worker prices it
    MemoryOptions o = options();
    MemoryOptions stored = o;
    stored.scheme.reset();
    stored.plan = nullptr;
    auto* watcher = new QFutureWatcher<Estimates>(this);
    watcher->setObjectName(QStringLiteral("memoryEstimateWatcher")); // named in event logs
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        m_running = false;
        const Estimates r = watcher->result();
        if (generation == m_generation && !m_pending)
            show(*r.setup, *r.stored);
        if (m_pending)
            compute();
    });
    watcher->setFuture(QtConcurrent::run(workPool(), [model, plan, o, stored] {
        Estimates e;
        e.setup = estimateMemory(*model, o);
        e.stored = estimateMemory(*model, stored);
        return e;
    }));
}

void MemoryTab::show(const Result<MemoryEstimate>& r, const Result<MemoryEstimate>& stored) {
    if (!r || !stored) {
        m_estimate.reset();
        m_total->setText(
            QStringLiteral("<span style='color:#C0392B'>%1</span>")
                .arg(QString::fromStdString(r ? stored.message() : r.message()).toHtmlEscaped()));
        Q_EMIT updated();
        return;
    }
    m_estimate = *r;
    const MemoryEstimate& e = *r;
    const MemoryEstimate& s = *stored;
    std::vector<MemorySegment> parts;
    for (const RoleBytes& rb : e.weightsByRole) {
        MemorySegment seg{tr("%1 weights").arg(QString::fromUtf8(tensorRoleName(rb.role).data())),
                          roleColour(rb.role), double(rb.bytes), 0};
        for (const RoleBytes& sb : s.weightsByRole)
            if (sb.role == rb.role)
                seg.referenceBytes = double(sb.bytes);
        parts.push_back(seg);
    }
    parts.push_back(
        {tr("KV cache"), QColor(0x3BA55C), double(e.kvCacheBytes), double(s.kvCacheBytes)});
    parts.push_back({tr("activations"), QColor(0xE9C46A), double(e.activationBytes),
                     double(s.activationBytes)});
    parts.push_back(
        {tr("gradients"), QColor(0x7B3FA0), double(e.gradientBytes), double(s.gradientBytes)});
    parts.push_back({tr("optimizer states"), QColor(0xD1495B), double(e.optimizerBytes),
                     double(s.optimizerBytes)});
    parts.push_back(
        {tr("LoRA adapters"), QColor(0xF28482), double(e.adapterBytes), double(s.adapterBytes)});
    // The chart's bar is named shortly (its axis has about 100 pixels in a 1280-pixel window).
    const QString barName = m_as == WeightsAs::Scheme && m_scheme
                                ? QString::fromStdString(m_scheme->toString())
                            : m_as == WeightsAs::Plan && m_plan
                                ? tr("plan, %1 bpw").arg(m_plan->bitsPerWeight, 0, 'f', 2)
                                : tr("as stored");
    m_chart->setSegments(parts, barName);

    m_total->setText(tr("<b>Total %1</b> (%2 bytes)<br>weights %3 at %4 bits per parameter · "
                        "KV cache %5 (%6 bytes per token) · activations %7")
                         .arg(formatBytes(e.totalBytes),
                              formatCount(static_cast<std::int64_t>(e.totalBytes)),
                              formatBytes(e.weightsBytes))
                         .arg(e.bitsPerWeight, 0, 'f', 3)
                         .arg(formatBytes(e.kvCacheBytes),
                              formatCount(static_cast<std::int64_t>(e.kvBytesPerToken)),
                              formatBytes(e.activationBytes)));
    QStringList notes;
    for (const auto& n : e.notes)
        notes << QString::fromStdString(n);
    if (const std::int64_t most = m_model && m_model->arch ? m_model->arch->maxContext : 0;
        most > 0 && m_context->value() > most)
        notes << tr("The context is past the model's max_position_embeddings of %1 tokens.")
                     .arg(most);
    m_notes->setText(notes.join(QLatin1Char('\n')));

    m_gpus->setRowCount(static_cast<int>(e.fits.size()));
    for (int i = 0; i < static_cast<int>(e.fits.size()); ++i) {
        const GpuFit& f = e.fits[size_t(i)];
        auto* name = new QTableWidgetItem(
            QString::fromUtf8(f.gpu->name.data(), static_cast<int>(f.gpu->name.size())));
        name->setToolTip(name->text());
        auto* mem = new QTableWidgetItem(formatBytes(f.gpu->usableBytes));
        mem->setToolTip(f.gpu->unifiedMemory
                            ? tr("%1 of unified memory, about 75% of it for the GPU")
                                  .arg(formatBytes(f.gpu->memoryBytes))
                            : tr("%1 as the driver reports it, less what it reserves")
                                  .arg(formatBytes(f.gpu->memoryBytes)));
        // Fits: "yes" on one, or how many share it split evenly; "no" for a Mac (not pooled).
        auto* fits = new QTableWidgetItem(f.fits         ? tr("yes")
                                          : f.count == 0 ? tr("no")
                                                         : tr("split on %1").arg(f.count));
        fits->setForeground(f.fits ? QColor(0x2E7D32) : QColor(0xC0392B));
        fits->setToolTip(f.fits ? tr("Fits on one")
                         : f.count == 0
                             ? tr("Does not fit; unified memory is not pooled "
                                  "across machines")
                             : tr("Does not fit on one; split evenly across %1").arg(f.count));
        mem->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_gpus->setItem(i, 0, name);
        m_gpus->setItem(i, 1, mem);
        m_gpus->setItem(i, 2, fits);
    }
    Q_EMIT updated();
}

QString MemoryTab::totalText() const {
    return m_total->text();
}

} // namespace qs
