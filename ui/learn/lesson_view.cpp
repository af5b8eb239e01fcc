#include "learn/lesson_view.h"
#include "workers/work_pool.h"

#include "charts/chart_style.h"
#include "charts/error_histogram_chart.h"
#include "charts/transfer_chart.h"
#include "charts/weight_histogram_chart.h"
#include "io/checkpoint.h"
#include "learn/block_inspector_view.h"
#include "learn/curve_chart.h"
#include "learn/formula_panel.h"
#include "learn/lesson_controls.h"
#include "learn/memory_calculator.h"
#include "number_format.h"

#include <QAbstractAxis>
#include <QChart>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace qs {
namespace {

constexpr int kCoalesceMs = 40;
// The lesson's text and controls, and each of the four charts, at least this wide: with the
// docks Learn mode keeps, the window then fits a 1280-pixel screen.
constexpr int kSideWidth = 360;
constexpr int kChartMinWidth = 200;

QLabel* wrappedLabel(QWidget* parent, const QString& name) {
    auto* l = new QLabel(parent);
    l->setObjectName(name);
    l->setWordWrap(true);
    l->setTextFormat(Qt::RichText);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    return l;
}

} // namespace

LessonView::LessonView(QWidget* parent)
    : QWidget(parent), m_picker(new QComboBox(this)), m_stepLabel(new QLabel(this)),
      m_back(new QPushButton(tr("◀ &Back"), this)), m_next(new QPushButton(tr("&Next ▶"), this)),
      m_controls(new LessonControls), m_formulas(new FormulaPanel),
      m_pages(new QStackedWidget(this)), m_weights(new WeightHistogramChart),
      m_transfer(new TransferChart), m_errors(new ErrorHistogramChart), m_extra(new CurveChart),
      m_inspector(new BlockInspectorView), m_memory(new MemoryCalculator) {
    setObjectName(QStringLiteral("lessonView"));
    m_picker->setObjectName(QStringLiteral("lessonCombo"));
    for (const Lesson& l : lessons())
        m_picker->addItem(lessonText(l.title), QString::fromLatin1(l.id));
    m_picker->setToolTip(tr("Choose a lesson"));
    m_stepLabel->setObjectName(QStringLiteral("stepLabel"));
    m_back->setObjectName(QStringLiteral("backButton"));
    m_next->setObjectName(QStringLiteral("nextButton"));
    m_back->setToolTip(tr("Previous step (Alt+Left)"));
    m_next->setToolTip(tr("Next step (Alt+Right)"));
    m_back->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Left));
    m_next->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Right));
    auto* lessonLabel = new QLabel(tr("&Lesson"), this);
    lessonLabel->setBuddy(m_picker);
    auto* header = new QHBoxLayout;
    header->addWidget(lessonLabel);
    header->addWidget(m_picker);
    header->addStretch(1);
    header->addWidget(m_stepLabel);
    header->addWidget(m_back);
    header->addWidget(m_next);

    auto* side = new QWidget;
    m_title = wrappedLabel(side, QStringLiteral("stepTitle"));
    QFont big = m_title->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_title->setFont(big);
    m_text = wrappedLabel(side, QStringLiteral("stepText"));
    m_try = wrappedLabel(side, QStringLiteral("stepTry"));
    m_try->setStyleSheet(QStringLiteral("QLabel#stepTry { border-left: 4px solid "
                                        "palette(highlight); padding: 6px; "
                                        "background: palette(alternate-base); }"));
    m_try->setToolTip(tr("Something to try in this step"));
    auto* sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(4, 4, 8, 4);
    sideLayout->setSpacing(8);
    sideLayout->addWidget(m_title);
    sideLayout->addWidget(m_text);
    sideLayout->addWidget(m_try);
    sideLayout->addWidget(m_controls);
    sideLayout->addWidget(m_formulas);
    sideLayout->addStretch(1);
    auto* sideScroll = new QScrollArea(this);
    sideScroll->setWidget(side);
    sideScroll->setWidgetResizable(true);
    sideScroll->setFrameShape(QFrame::NoFrame);
    sideScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    sideScroll->setMinimumWidth(kSideWidth);

    auto* charts = new QWidget;
    auto* grid = new QGridLayout(charts);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(6);
    for (QWidget* chart : std::initializer_list<QWidget*>{m_weights, m_transfer, m_errors, m_extra})
        chart->setMinimumWidth(kChartMinWidth);
    grid->addWidget(m_weights, 0, 0);
    grid->addWidget(m_transfer, 0, 1);
    grid->addWidget(m_errors, 1, 0);
    grid->addWidget(m_extra, 1, 1);
    m_pages->addWidget(charts);
    m_pages->addWidget(m_inspector);
    m_pages->addWidget(m_memory);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(sideScroll);
    split->addWidget(m_pages);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(header);
    layout->addWidget(split, 1);

    m_timer.setSingleShot(true);
    m_timer.setInterval(kCoalesceMs);
    connect(&m_timer, &QTimer::timeout, this, &LessonView::start);
    connect(&m_watcher, &QFutureWatcherBase::finished, this, &LessonView::onFinished);
    connect(&m_tensorWatcher, &QFutureWatcherBase::finished, this, [this] {
        m_reading = false;
        m_tensorData = m_tensorWatcher.result();
        if (!m_tensorData)
            Q_EMIT errorShown(tr("cannot read %1").arg(m_tensorName));
        schedule();
    });
    connect(m_controls, &LessonControls::changed, this, &LessonView::schedule);
    connect(m_picker, &QComboBox::activated, this,
            [this] { setLesson(m_picker->currentData().toString()); });
    connect(m_back, &QPushButton::clicked, this, [this] { setStep(m_step - 1); });
    connect(m_next, &QPushButton::clicked, this, [this] { setStep(m_step + 1); });
    connect(m_memory, &MemoryCalculator::changed, this, [this] {
        if (page() == LessonPage::Memory && !isBusy())
            Q_EMIT rendered();
    });
    connect(m_inspector, &BlockInspectorView::walkChanged, this, [this] {
        if (page() == LessonPage::Inspector && !isBusy())
            Q_EMIT rendered();
    });
    setLesson(QString::fromLatin1(lessons().front().id));
}

LessonView::~LessonView() {
    m_watcher.waitForFinished();
    m_tensorWatcher.waitForFinished();
}

bool LessonView::setLesson(const QString& id) {
    const Lesson* lesson = findLesson(id);
    if (!lesson)
        return false;
    m_lesson = lesson;
    {
        const QSignalBlocker block(m_picker);
        m_picker->setCurrentIndex(m_picker->findData(id));
    }
    m_controls->setFamilies(lesson->families);
    m_controls->setVisibleControls(lesson->controls);
    m_step = 0;
    applyStep();
    return true;
}

QString LessonView::lessonId() const {
    return m_lesson ? QString::fromLatin1(m_lesson->id) : QString();
}

int LessonView::stepCount() const {
    return m_lesson ? static_cast<int>(m_lesson->steps.size()) : 0;
}

void LessonView::setStep(int step) {
    if (!m_lesson || step < 0 || step >= stepCount())
        return;
    m_step = step;
    applyStep();
}

QString LessonView::stepTitle() const {
    return m_title->text();
}

std::optional<Scheme> LessonView::currentScheme() const {
    Result<Scheme> s = makeError("no scheme");
    switch (page()) {
    case LessonPage::Charts:
        if (m_result.error.isEmpty())
            return m_result.scheme;
        return std::nullopt;
    case LessonPage::Inspector:
        s = Scheme::parse(blockFormatSpec(m_inspector->format()));
        break;
    case LessonPage::Memory:
        s = Scheme::parse(m_memory->schemeSpec().toStdString());
        break;
    }
    return s ? std::optional<Scheme>(*s) : std::nullopt;
}

LessonPage LessonView::page() const {
    return static_cast<LessonPage>(m_pages->currentIndex());
}

void LessonView::applyStep() {
    const LessonStep& s = m_lesson->steps[static_cast<std::size_t>(m_step)];
    m_title->setText(lessonText(s.title));
    m_text->setText(lessonText(s.text));
    m_try->setText(tr("<b>Try:</b> %1").arg(lessonText(s.tryThis)));
    m_stepLabel->setText(tr("Step %1 of %2").arg(m_step + 1).arg(stepCount()));
    m_back->setEnabled(m_step > 0);
    m_next->setEnabled(m_step + 1 < stepCount());

    const LessonPreset& p = s.preset;
    LessonSettings set = m_controls->settings();
    set.distribution = p.distribution;
    set.outliers = p.outliers;
    set.outlierScale = p.outlierScale;
    set.family = QString::fromLatin1(p.family);
    set.bits = p.bits;
    set.mu = p.mu;
    set.clip = p.clip;
    set.group = p.group;
    m_controls->setSettings(set);
    m_pages->setCurrentIndex(static_cast<int>(p.page));
    m_controls->setVisible(p.page != LessonPage::Memory);
    m_formulas->setVisible(p.page == LessonPage::Charts);
    if (p.page == LessonPage::Inspector) {
        m_inspector->setFormat(p.block);
        m_inspector->setBlock(0);
    }
    if (p.page == LessonPage::Memory)
        m_memory->setPreset(p.memoryItems, QString::fromLatin1(p.memoryScheme), p.context);
    schedule();
}

void LessonView::setTensor(std::shared_ptr<const Checkpoint> checkpoint, const QString& name) {
    if (name == m_tensorName && checkpoint == m_checkpoint)
        return;
    m_checkpoint = std::move(checkpoint);
    m_tensorName = m_checkpoint ? name : QString();
    m_tensorData.reset();
    m_controls->setTensorAvailable(m_tensorName);
    if (m_controls->settings().useTensor)
        schedule();
}

bool LessonView::isBusy() const {
    return m_timer.isActive() || m_computing || m_reading || m_pending;
}

void LessonView::schedule() {
    m_timer.start();
}

void LessonView::readTensor() {
    if (m_reading || !m_checkpoint)
        return;
    m_reading = true;
    auto checkpoint = m_checkpoint;
    const QString name = m_tensorName;
    m_tensorWatcher.setFuture(
        QtConcurrent::run(workPool(), [checkpoint, name]() -> std::optional<LessonData> {
            const TensorInfo* t = checkpoint->find(name.toStdString());
            if (!t)
                return std::nullopt;
            auto values = checkpoint->readFloat(*t);
            if (!values)
                return std::nullopt;
            return tensorLessonData(name, std::move(*values), t->rows(), t->cols());
        }));
}

void LessonView::start() {
    if (m_computing) {
        m_pending = true;
        return;
    }
    m_pending = false;
    const LessonSettings settings = m_controls->settings();
    if (settings.useTensor && !m_tensorData) {
        readTensor();
        return;
    }
    const std::optional<LessonData> tensor = settings.useTensor ? m_tensorData : std::nullopt;
    const ExtraChart extra = m_lesson->extra;
    m_computing = true;
    m_watcher.setFuture(QtConcurrent::run(workPool(), [settings, tensor, extra] {
        LessonData d = tensor ? *tensor : syntheticLessonData(settings);
        LessonResult r = computeLesson(d, settings, extra);
        return std::make_pair(std::move(d), std::move(r));
    }));
}

void LessonView::onFinished() {
    m_computing = false;
    auto [data, result] = m_watcher.result();
    m_data = std::move(data);
    m_result = std::move(result);
    apply(m_result);
    if (m_pending || m_timer.isActive()) {
        m_timer.start();
        return;
    }
    Q_EMIT rendered();
}

void LessonView::apply(const LessonResult& r) {
    m_inspector->setValues(m_data.values);
    if (!r.error.isEmpty()) {
        m_formulas->showError(r.error);
        return;
    }
    m_formulas->setNumbers(r.scheme, r.numbers, m_data.rows, m_data.cols);
    const QColor colour = schemeColor(QString::fromStdString(r.scheme.family));
    m_weights->setPlots(r.plots.weights, r.plots.levels, r.plots.levelLines, colour);
    m_weights->chart()->setTitle(tr("Weights · %1 levels").arg(r.numbers.levelCount));
    m_weights->chart()
        ->axes(Qt::Horizontal)
        .value(0)
        ->setTitleText(tr("weight value (%1)").arg(m_data.label));
    m_transfer->setPlot(r.plots, colour);
    m_transfer->chart()->setTitle(tr("Transfer · %1").arg(r.plots.scheme));
    m_errors->setPlot(r.plots.errors, colour);
    m_errors->chart()->setTitle(tr("Error · SQNR %1").arg(formatDb(r.numbers.error.sqnrDb())));
    m_extra->setCurves(r.extraTitle, r.extraX, r.extraY, r.extra, r.highlight);
}

} // namespace qs
