#include "panels/methods_tab.h"
#include "workers/work_pool.h"

#include "analysis/tensor_analysis.h"
#include "charts/methods_chart.h"
#include "charts/profile_chart.h"
#include "methods/activation_source.h"
#include "metrics/output_error.h"
#include "number_format.h"
#include "widgets/activation_picker.h"
#include "widgets/flow_layout.h"
#include "widgets/progress_value.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QResizeEvent>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <utility>

namespace qs {

namespace {

struct MethodDef {
    const char* name;  // methodNames()
    const char* label; // check box
    const char* tip;
    bool byDefault;
};

constexpr MethodDef kMethods[] = {
    {"rtn", QT_TRANSLATE_NOOP("qs::MethodsTab", "RTN (int)"),
     QT_TRANSLATE_NOOP("qs::MethodsTab", "Round to nearest, asymmetric int: the baseline"), true},
    {"hqq", "HQQ",
     QT_TRANSLATE_NOOP("qs::MethodsTab", "Half-quadratic zero-point optimisation "
                                         "(calibration-free)"),
     true},
    {"sinq", "SINQ",
     QT_TRANSLATE_NOOP("qs::MethodsTab", "Sinkhorn dual-axis scaling "
                                         "(calibration-free)"),
     true},
    {"gptq", "GPTQ",
     QT_TRANSLATE_NOOP("qs::MethodsTab", "Hessian-based error feedback (uses the "
                                         "activations)"),
     true},
    {"awq", "AWQ", QT_TRANSLATE_NOOP("qs::MethodsTab", "Activation-aware scales and clipping"),
     true},
    {"autoround", "AutoRound",
     QT_TRANSLATE_NOOP("qs::MethodsTab", "Signed-gradient tuning of rounding and ranges on the "
                                         "layer output (200 steps: the slowest)"),
     true},
    {"smoothquant", "SmoothQuant",
     QT_TRANSLATE_NOOP("qs::MethodsTab", "Migrates activation outliers into the weights (W8A8-"
                                         "style, per output channel)"),
     false},
};

QString specFor(const QString& method, int bits, int group) {
    const QString g = group > 0 ? QStringLiteral(":g%1").arg(group) : QStringLiteral(":channel");
    if (method == QLatin1String("rtn"))
        return QStringLiteral("int%1%2").arg(bits).arg(g);
    if (method == QLatin1String("smoothquant"))
        return QStringLiteral("smoothquant%1").arg(bits);
    return QStringLiteral("%1%2%3").arg(method).arg(bits).arg(g);
}

// A method's name for the charts' categories ("RTN", "GPTQ", ...): the specs share bits and
// group size (the controls say them), and a narrow chart cut them to "autor...". The table keeps
// the specs.
QString chartName(const QString& spec) {
    const auto s = Scheme::parse(spec.toStdString());
    const QString family = s ? QString::fromStdString(s->family) : spec;
    for (const MethodDef& m : kMethods) {
        const QLatin1String name(m.name);
        if (family == name || (name == QLatin1String("rtn") && family == QLatin1String("int")))
            return MethodsTab::tr(m.label).section(QLatin1Char(' '), 0, 0); // "RTN (int)": RTN
    }
    return spec;
}

} // namespace

QStringList MethodsTab::methodNames() {
    QStringList out;
    for (const MethodDef& m : kMethods)
        out << QString::fromLatin1(m.name);
    return out;
}

MethodsTab::MethodsTab(QWidget* parent)
    : QWidget(parent), m_caption(new QLabel), m_bits(new QSpinBox), m_group(new QComboBox),
      m_source(new QComboBox), m_tokens(new QSpinBox), m_outliers(new QSpinBox),
      m_outlierScale(new QDoubleSpinBox), m_load(new QPushButton(tr("Activations…"))),
      m_run(new QPushButton(tr("Run"))), m_cancelButton(new QToolButton),
      m_progress(new QProgressBar), m_table(new QTableWidget),
      m_errors(new MethodsChart(tr("Weight and output error"), tr("relative error"))),
      m_times(new MethodsChart(tr("Time taken"), tr("milliseconds"))),
      m_sinqRows(new ProfileChart(tr("SINQ: row spread, tile 1"), tr("row"), tr("std"), true)),
      m_sinqCols(
          new ProfileChart(tr("SINQ: column spread, tile 1"), tr("column"), tr("std"), true)),
      m_awq(new ProfileChart(tr("AWQ: input-channel scale"), tr("input channel"), tr("relative"),
                             true)),
      m_insightText(new QLabel), m_pages(new QTabWidget), m_status(new QLabel) {
    m_reader = new ActivationReader(this);
    m_caption->setTextFormat(Qt::RichText);
    m_caption->setWordWrap(true);
    auto* methods = new FlowLayout; // the option rows wrap when the tab is narrow
    methods->addWidget(new QLabel(tr("Methods:")));
    for (const MethodDef& m : kMethods) {
        auto* box = new QCheckBox(tr(m.label));
        box->setChecked(m.byDefault);
        box->setToolTip(tr(m.tip));
        box->setObjectName(QString::fromLatin1(m.name));
        m_methods.push_back(box);
        methods->addWidget(box);
    }
    methods->addSpacing(12);
    m_bits->setRange(2, 8);
    m_bits->setValue(4);
    m_bits->setPrefix(tr("bits "));
    for (int g : {32, 64, 128})
        m_group->addItem(QStringLiteral("g%1").arg(g), g);
    m_group->addItem(tr("per channel"), 0);
    m_group->setCurrentIndex(1);
    methods->addWidget(m_bits);
    methods->addWidget(m_group);

    auto* acts = new FlowLayout;
    acts->addWidget(new QLabel(tr("Activations:")));
    m_source->addItem(tr("synthetic"));
    m_source->setToolTip(tr("Gaussian tokens with correlated channels, a few of them scaled up "
                            "(the outlier channels real LLM inputs show), or a [tokens, "
                            "in_features] tensor loaded with Activations…"));
    m_tokens->setRange(16, 65536);
    m_tokens->setValue(512);
    m_tokens->setSuffix(tr(" tokens"));
    m_outliers->setRange(0, 4096);
    m_outliers->setValue(4);
    m_outliers->setSuffix(tr(" outlier channels"));
    m_outlierScale->setRange(1, 1000);
    m_outlierScale->setValue(20);
    m_outlierScale->setPrefix(tr("× "));
    m_load->setToolTip(tr("Load [tokens, in_features] activations from .npy or any supported "
                          "file"));
    connect(m_load, &QPushButton::clicked, this, [this] {
        if (const auto file = pickActivationFile(this))
            loadActivations(file->path, file->tensor);
    });
    connect(m_source, &QComboBox::currentIndexChanged, this, [this](int i) {
        const bool synthetic = i == 0;
        for (QWidget* w : {static_cast<QWidget*>(m_tokens), static_cast<QWidget*>(m_outliers),
                           static_cast<QWidget*>(m_outlierScale)})
            w->setEnabled(synthetic);
    });
    acts->addWidget(m_source);
    acts->addWidget(m_tokens);
    acts->addWidget(m_outliers);
    acts->addWidget(m_outlierScale);
    acts->addWidget(m_load);
    acts->addSpacing(12);
    m_run->setObjectName(QStringLiteral("methodsRun"));
    connect(m_run, &QPushButton::clicked, this, &MethodsTab::run);
    m_cancelButton->setText(tr("Cancel"));
    connect(m_cancelButton, &QToolButton::clicked, this, &MethodsTab::cancel);
    m_progress->setRange(0, 1000);
    m_progress->setMaximumWidth(160);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_cancelButton->hide();
    acts->addWidget(m_run);
    acts->addWidget(m_progress);
    acts->addWidget(m_cancelButton);

    const QStringList headers = {
        tr("Scheme"), tr("Weight rel RMSE"), tr("SQNR"), tr("Output rel err"),
        tr("Time"),   tr("Bits/weight"),     tr("Note")};
    m_table->setColumnCount(static_cast<int>(headers.size()));
    m_table->setHorizontalHeaderLabels(headers);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(22);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setStretchLastSection(true);
    auto* charts = new QSplitter(Qt::Horizontal);
    charts->addWidget(m_errors);
    charts->addWidget(m_times);
    charts->setStretchFactor(0, 3);
    charts->setStretchFactor(1, 2);
    auto* inside = new QWidget;
    auto* insideLayout = new QGridLayout(inside);
    insideLayout->setContentsMargins(0, 0, 0, 0);
    insideLayout->addWidget(m_sinqRows, 0, 0);
    insideLayout->addWidget(m_sinqCols, 0, 1);
    insideLayout->addWidget(m_awq, 1, 0);
    m_insightText->setWordWrap(true);
    m_insightText->setTextFormat(Qt::RichText);
    m_insightText->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    insideLayout->addWidget(m_insightText, 1, 1);
    m_pages->setDocumentMode(true);
    m_pages->setTabPosition(QTabWidget::South);
    m_pages->addTab(charts, tr("Errors"));
    m_pages->addTab(inside, tr("Inside SINQ and AWQ"));
    auto* body = new QSplitter(Qt::Vertical);
    body->addWidget(m_pages);
    body->addWidget(m_table);
    body->setStretchFactor(0, 3);
    body->setStretchFactor(1, 2);
    m_body = body;
    connect(body, &QSplitter::splitterMoved, this, [this] { m_bodyMoved = true; });
    body->installEventFilter(this);

    m_status->setWordWrap(true);
    m_status->setStyleSheet(QStringLiteral("color: #666;"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_caption);
    layout->addLayout(methods);
    layout->addLayout(acts);
    layout->addWidget(body, 1);
    layout->addWidget(m_status);
    m_caption->setText(tr("Select a tensor: each method runs on that one linear layer [out, in] "
                          "with the activations below."));
}

MethodsTab::~MethodsTab() {
    shutdown();
}

bool MethodsTab::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_body && event->type() == QEvent::Resize && !m_bodyMoved)
        // After the splitter has shared out its new height its own way.
        QMetaObject::invokeMethod(this, &MethodsTab::fitBody, Qt::QueuedConnection);
    return QWidget::eventFilter(watched, event);
}

void MethodsTab::fitBody() {
    if (m_bodyMoved)
        return;
    // Room for a row per method under the header (at most two fifths of the height): the
    // figures are what the charts draw, exactly.
    const int rows = static_cast<int>(m_methods.size());
    const int table = m_table->horizontalHeader()->sizeHint().height() +
                      rows * m_table->verticalHeader()->defaultSectionSize() +
                      2 * m_table->frameWidth() + 2;
    const int height = m_body->height();
    const int below = std::min(table, height * 2 / 5);
    m_body->setSizes({height - below, below});
}

void MethodsTab::setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint) {
    cancel();
    m_checkpoint = std::move(checkpoint);
    m_tensor.clear();
    m_results.clear();
    showResults();
}

void MethodsTab::setTensor(const QString& name) {
    m_tensor = name;
    const TensorInfo* t = m_checkpoint ? m_checkpoint->find(name.toStdString()) : nullptr;
    if (!t)
        return;
    m_caption->setText(tr("<b>%1</b> %2 — each method runs on this one linear layer [out, in] "
                          "with %3")
                           .arg(name.toHtmlEscaped(), QString::fromStdString(t->shapeString()),
                                activationsText().toHtmlEscaped()));
}

QString MethodsTab::activationsText() const {
    if (m_loaded)
        return tr("%1 activations [%2, %3]")
            .arg(m_loadedSource)
            .arg(m_loaded->tokens())
            .arg(m_loaded->loadedFeatures());
    return tr("synthetic activations (%1 tokens, %2 outlier channels × %3)")
        .arg(m_tokens->value())
        .arg(m_outliers->value())
        .arg(m_outlierScale->value());
}

std::vector<Scheme> MethodsTab::schemes() const {
    std::vector<Scheme> out;
    const QStringList names = methodNames();
    for (size_t i = 0; i < m_methods.size(); ++i)
        if (m_methods[i]->isChecked())
            if (auto s = Scheme::parse(
                    specFor(names[int(i)], m_bits->value(), m_group->currentData().toInt())
                        .toStdString()))
                out.push_back(*s);
    return out;
}

void MethodsTab::setMethodChecked(const QString& method, bool on) {
    const int i = static_cast<int>(methodNames().indexOf(method));
    if (i >= 0)
        m_methods[size_t(i)]->setChecked(on);
}

void MethodsTab::setBits(int bits) {
    m_bits->setValue(bits);
}

void MethodsTab::setGroupSize(int group) {
    const int i = m_group->findData(group);
    if (i >= 0)
        m_group->setCurrentIndex(i);
}

void MethodsTab::setSynthetic(const SyntheticCalibration& spec) {
    m_loaded.reset();
    if (m_source->count() > 1)
        m_source->removeItem(1);
    m_source->setCurrentIndex(0);
    m_tokens->setValue(static_cast<int>(spec.tokens));
    m_outliers->setValue(static_cast<int>(spec.outliers));
    m_outlierScale->setValue(spec.outlierScale);
    m_syntheticSeed = spec.seed;
}

bool MethodsTab::loadActivations(const QString& path, const QString& tensor) {
    auto fail = [this](const QString& why) {
        m_status->setStyleSheet(QStringLiteral("color: #C0392B;"));
        m_status->setText(why);
        return false;
    };
    // Read on the work pool; a later file asked for wins over one still being read.
    const bool reading = m_reader->read(
        {path, tensor},
        [this, path, fail](std::shared_ptr<const ActivationSource> read, const QString& error) {
            if (!read || read->imatrix()) {
                fail(read ? tr("%1 is an importance matrix: the methods here need the "
                               "activations themselves [tokens, in_features] (the Model tab "
                               "takes importance matrices)")
                                .arg(QFileInfo(path).fileName())
                          : error);
                Q_EMIT activationsLoaded(false);
                return;
            }
            m_loaded = std::move(read);
            m_loadedSource = QFileInfo(path).fileName();
            if (m_source->count() < 2)
                m_source->addItem(QString());
            m_source->setItemText(1, tr("from %1").arg(m_loadedSource));
            m_source->setCurrentIndex(1);
            m_status->setStyleSheet(QStringLiteral("color: #666;"));
            m_status->setText(tr("Loaded %1").arg(activationsText()));
            setTensor(m_tensor);
            Q_EMIT activationsLoaded(true);
        });
    if (!reading)
        return fail(tr("%1: no such file").arg(path));
    m_status->setStyleSheet(QStringLiteral("color: #666;"));
    m_status->setText(tr("Reading activations from %1…").arg(QFileInfo(path).fileName()));
    return true;
}

bool MethodsTab::run() {
    const TensorInfo* info = m_checkpoint ? m_checkpoint->find(m_tensor.toStdString()) : nullptr;
    auto fail = [&](const QString& why) {
        m_status->setStyleSheet(QStringLiteral("color: #C0392B;"));
        m_status->setText(why);
        return false;
    };
    if (!info)
        return fail(tr("Select a tensor first"));
    if (info->shape.size() < 2)
        return fail(tr("%1 is not a matrix: the methods work on linear layers").arg(m_tensor));
    if (m_source->currentIndex() == 1 && m_loaded && m_loaded->loadedFeatures() != info->cols())
        return fail(tr("the loaded activations have %1 features; %2 takes %3 inputs")
                        .arg(m_loaded->loadedFeatures())
                        .arg(m_tensor)
                        .arg(info->cols()));
    const std::vector<Scheme> schemes = this->schemes();
    if (schemes.empty())
        return fail(tr("Tick at least one method"));
    cancel();
    if (m_watcher) { // a run being cancelled: wait for it, its results are no longer wanted
        m_watcher->disconnect(this);
        m_watcher->waitForFinished();
        m_watcher->deleteLater();
        m_watcher = nullptr;
    }
    m_results.clear();
    m_insights.reset();
    showResults();
    showInsightCharts();
    m_ranTensor = m_tensor;
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<const ActivationSource> loaded =
        m_source->currentIndex() == 1 ? m_loaded : nullptr;
    SyntheticCalibration synthetic;
    synthetic.tokens = m_tokens->value();
    synthetic.outliers = m_outliers->value();
    synthetic.outlierScale = m_outlierScale->value();
    synthetic.seed = m_syntheticSeed;
    auto checkpoint = m_checkpoint;
    const TensorInfo tensor = *info;
    auto cancelFlag = m_cancel;
    const int bits = m_bits->value(), group = m_group->currentData().toInt();
    m_watcher = new QFutureWatcher<MethodsUpdate>(this);
    connect(m_watcher, &QFutureWatcherBase::resultReadyAt, this, &MethodsTab::onResult);
    connect(m_watcher, &QFutureWatcherBase::progressValueChanged, m_progress,
            [bar = m_progress](int v) { setProgressValue(bar, v); });
    connect(m_watcher, &QFutureWatcherBase::finished, this, &MethodsTab::onDone);
    setProgressValue(m_progress, 0);
    m_progress->show();
    m_cancelButton->show();
    m_run->setEnabled(false);
    m_status->setStyleSheet(QStringLiteral("color: #666;"));
    m_status->setText(
        tr("Running %n method(s) on %1…", nullptr, int(schemes.size())).arg(m_tensor));
    m_watcher->setFuture(QtConcurrent::run(workPool(), [=](QPromise<MethodsUpdate>& promise) {
        promise.setProgressRange(0, 1000);
        auto weights = checkpoint->readFloat(tensor);
        if (!weights) {
            promise.addResult(MethodsUpdate{
                MethodResult{QString(), QString::fromStdString(weights.message())}, nullptr});
            return;
        }
        const MatrixView w = matrixView(tensor, *weights);
        std::vector<float> generated;
        MatrixView x;
        if (loaded) {
            x = *loaded->forFeatures(w.cols); // its width checked above
        } else {
            generated = syntheticActivations(synthetic, w.cols);
            x = MatrixView{generated.data(), synthetic.tokens, w.cols};
        }
        AnalysisOptions options;
        options.activations = &x;
        if (auto ref = outputReference(x, w)) // the same for every method: computed once
            options.outputReference = *ref;
        for (size_t i = 0; i < schemes.size(); ++i) {
            if (cancelFlag->load())
                return;
            MethodResult r;
            r.spec = QString::fromStdString(schemes[i].toString());
            QElapsedTimer clock;
            clock.start();
            const double base = double(i) / double(schemes.size());
            auto a = analyzeTensor(w, schemes[i], options, [&](double f) {
                promise.setProgressValue(
                    static_cast<int>(1000 * (base + f / double(schemes.size()))));
                return !cancelFlag->load();
            });
            r.millis = static_cast<double>(clock.nsecsElapsed()) / 1e6;
            if (!a) {
                if (a.error().kind == ErrorKind::Cancelled)
                    return;
                r.error = QString::fromStdString(a.message());
            } else {
                r.relRmse = a->error.relRmse();
                r.sqnrDb = a->error.sqnrDb();
                r.outRelErr = a->outputError ? a->outputError->relative() : -1;
                r.bitsPerWeight = a->cost.bitsPerWeight();
            }
            promise.addResult(MethodsUpdate{std::move(r), nullptr});
        }
        if (!cancelFlag->load())
            promise.addResult(MethodsUpdate{std::nullopt, computeInsights(w, x, bits, group)});
        promise.setProgressValue(1000);
    }));
    return true;
}

void MethodsTab::onResult(int index) {
    if (!m_watcher)
        return;
    const MethodsUpdate u = m_watcher->resultAt(index);
    if (u.insights) {
        m_insights = u.insights;
        showInsightCharts();
        return;
    }
    MethodResult r = *u.result;
    if (r.spec.isEmpty()) { // the tensor could not be read
        m_status->setStyleSheet(QStringLiteral("color: #C0392B;"));
        m_status->setText(r.error);
        return;
    }
    m_results.push_back(std::move(r));
    showResults();
}

void MethodsTab::onDone() {
    m_watcher->deleteLater();
    m_watcher = nullptr;
    m_progress->hide();
    m_cancelButton->hide();
    m_run->setEnabled(true);
    if (m_cancel && m_cancel->load())
        m_status->setText(tr("Cancelled after %n method(s)", nullptr, int(m_results.size())));
    else if (!m_results.empty())
        m_status->setText(tr("%n method(s) on %1 with %2", nullptr, int(m_results.size()))
                              .arg(m_tensor, activationsText()));
    Q_EMIT finished();
}

void MethodsTab::cancel() {
    if (m_cancel)
        m_cancel->store(true);
}

void MethodsTab::shutdown() {
    cancel();
    if (m_watcher)
        m_watcher->waitForFinished();
}

void MethodsTab::showResults() {
    m_table->setRowCount(static_cast<int>(m_results.size()));
    QStringList names;
    std::vector<double> weightErr, outErr, times;
    for (int i = 0; i < static_cast<int>(m_results.size()); ++i) {
        const MethodResult& r = m_results[size_t(i)];
        const bool ok = r.error.isEmpty();
        const QStringList cells = {
            r.spec,
            ok ? formatPercent(r.relRmse) : QStringLiteral("—"),
            ok ? formatDb(r.sqnrDb) : QStringLiteral("—"),
            ok && r.outRelErr >= 0 ? formatPercent(r.outRelErr) : QStringLiteral("—"),
            QStringLiteral("%1 ms").arg(r.millis, 0, 'f', r.millis < 10 ? 2 : 0),
            ok ? QString::number(r.bitsPerWeight, 'f', 3) : QStringLiteral("—"),
            r.error.section(QLatin1Char('\n'), 0, 0)};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c > 0 && c < 6)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(i, c, item);
        }
        names << chartName(r.spec);
        weightErr.push_back(ok ? r.relRmse : std::nan(""));
        outErr.push_back(ok && r.outRelErr >= 0 ? r.outRelErr : std::nan(""));
        times.push_back(r.millis);
    }
    m_table->resizeColumnsToContents();
    m_errors->setBars(names, {{tr("weight rel RMSE"), QColor(0x2E86AB), weightErr},
                              {tr("output rel error"), QColor(0xE07A5F), outErr}});
    m_times->setBars(names, {{tr("time (ms)"), QColor(0x6C4AB6), times}});
}

void MethodsTab::showInsights(bool on) {
    m_pages->setCurrentIndex(on ? 1 : 0);
}

void MethodsTab::showInsightCharts() {
    const MethodInsights* in = m_insights.get();
    if (!in) {
        for (ProfileChart* c : {m_sinqRows, m_sinqCols, m_awq})
            c->setSeries({});
        m_insightText->clear();
        return;
    }
    const QColor before(0x99, 0x99, 0x99), after(0x16, 0xA0, 0x85);
    m_sinqRows->setSeries({{tr("before"), before, in->rowStdBefore},
                           {tr("after normalisation"), after, in->rowStdAfter}});
    m_sinqCols->setSeries({{tr("before"), before, in->colStdBefore},
                           {tr("after normalisation"), after, in->colStdAfter}});
    QString text = tr("<b>SINQ</b> scales the rows and columns of each tile (here the first, %1 "
                      "columns wide) so their spreads even out before the groups are quantized: "
                      "the matrix imbalance (largest row/column std over the smallest) falls "
                      "from <b>%2</b> to <b>%3</b>.")
                       .arg(in->tileCols)
                       .arg(in->imbalanceBefore, 0, 'f', 2)
                       .arg(in->imbalanceAfter, 0, 'f', 2);
    if (!in->awqScale.empty()) {
        m_awq->setSeries({{tr("AWQ scale"), QColor(0xE0, 0x7A, 0x5F), in->awqScale},
                          {tr("mean |x|"), QColor(0x2E, 0x86, 0xAB), in->awqMeanAbs}});
        text += tr("<br><br><b>AWQ</b> multiplies each input channel of W by s = mean|x|<sup>α"
                   "</sup> (α = %1 chosen from a grid of 20) before quantizing, and divides "
                   "it out again: channels that carry large activations get finer steps. "
                   "Both curves are drawn over their geometric means.")
                    .arg(in->awqRatio, 0, 'f', 2);
    } else {
        m_awq->setSeries({});
    }
    m_insightText->setText(text);
}

QString MethodsTab::statusText() const {
    return m_status->text();
}

} // namespace qs
