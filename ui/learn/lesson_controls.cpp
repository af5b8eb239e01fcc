#include "learn/lesson_controls.h"

#include "quant/registry.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>

#include <cmath>
#include <iterator>

namespace qs {
namespace {

constexpr int kGroups[] = {0, -1, 256, 128, 64, 32, 16};
// μ on a slider over round values (255 is G.711's).
constexpr int kMuValues[] = {1, 2, 5, 10, 20, 50, 100, 255, 500, 1000};
constexpr int kMuSteps = static_cast<int>(std::size(kMuValues)) - 1;
// Clip percentile on a slider: position p gives 99 + p/100, i.e. 99.00 ... 100.00.
constexpr int kClipSteps = 100;

int muToSlider(int mu) {
    int best = 0;
    for (int i = 1; i <= kMuSteps; ++i)
        if (std::abs(kMuValues[i] - mu) < std::abs(kMuValues[best] - mu))
            best = i;
    return best;
}
int sliderToMu(int pos) {
    return kMuValues[std::clamp(pos, 0, kMuSteps)];
}

QString groupOption(int group) {
    if (group == 0)
        return QStringLiteral("tensor");
    if (group < 0)
        return QStringLiteral("channel");
    return QStringLiteral("g%1").arg(group);
}

QString distributionLabel(Distribution d) {
    switch (d) {
    case Distribution::Gaussian:
        return LessonControls::tr("Gaussian (normal)");
    case Distribution::Laplace:
        return LessonControls::tr("Laplace (heavier tails)");
    case Distribution::StudentT:
        return LessonControls::tr("Student-t, 5 dof (heavy tails)");
    case Distribution::Uniform:
        return LessonControls::tr("Uniform");
    case Distribution::Bimodal:
        return LessonControls::tr("Bimodal (two bumps)");
    }
    return {};
}

} // namespace

Result<Scheme> lessonScheme(const LessonSettings& s) {
    const std::string family = s.family.toStdString();
    const FamilyInfo* f = findFamily(family);
    if (!f)
        return makeError("unknown family " + family);
    QString spec = s.family;
    if (!f->fixedBits())
        spec += QString::number(std::clamp(s.bits, f->minBits, f->maxBits));
    if (f->hasGranularity())
        spec += QLatin1Char(':') + groupOption(s.group);
    if (family == "mulaw")
        spec += QStringLiteral(":mu%1").arg(std::max(1, s.mu));
    if (f->acceptsClip() && s.clip < 100.0)
        spec += QStringLiteral(":clip=p%1").arg(s.clip, 0, 'f', 2);
    return Scheme::parse(spec.toStdString());
}

LessonControls::LessonControls(QWidget* parent)
    : QWidget(parent), m_form(new QFormLayout(this)), m_distribution(new QComboBox(this)),
      m_seed(new QSpinBox(this)), m_outliers(new QSpinBox(this)),
      m_outlierScale(new QDoubleSpinBox(this)), m_useTensor(new QCheckBox(this)),
      m_family(new QComboBox(this)), m_group(new QComboBox(this)) {
    m_form->setContentsMargins(0, 0, 0, 0);
    m_form->setVerticalSpacing(5);
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    m_distribution->setObjectName(QStringLiteral("distributionCombo"));
    for (Distribution d : kDistributions)
        m_distribution->addItem(distributionLabel(d), static_cast<int>(d));
    m_distribution->setToolTip(tr("The shape of the synthetic weights (all have the same "
                                  "standard deviation, 0.02)"));
    m_seed->setObjectName(QStringLiteral("seedSpin"));
    m_seed->setRange(1, 9999);
    m_seed->setToolTip(tr("Random seed: the same seed always gives the same weights"));
    auto* dataField = new QWidget(this);
    auto* dataRow = new QHBoxLayout(dataField);
    dataRow->setContentsMargins(0, 0, 0, 0);
    dataRow->addWidget(m_distribution, 1);
    dataRow->addWidget(m_seed);
    m_form->addRow(tr("&Data"), dataField);

    m_outliers->setObjectName(QStringLiteral("outlierCountSpin"));
    m_outliers->setRange(0, 64);
    m_outliers->setToolTip(tr("How many weights are replaced by outliers"));
    m_outlierScale->setObjectName(QStringLiteral("outlierScaleSpin"));
    m_outlierScale->setRange(2, 200);
    m_outlierScale->setDecimals(0);
    m_outlierScale->setSuffix(QStringLiteral(" σ"));
    m_outlierScale->setToolTip(tr("Outlier size in standard deviations of the weights"));
    auto* outlierField = new QWidget(this);
    auto* outlierRow = new QHBoxLayout(outlierField);
    outlierRow->setContentsMargins(0, 0, 0, 0);
    outlierRow->addWidget(m_outliers);
    outlierRow->addWidget(new QLabel(tr("of size"), outlierField));
    outlierRow->addWidget(m_outlierScale, 1);
    m_form->addRow(tr("&Outliers"), outlierField);

    m_useTensor->setObjectName(QStringLiteral("useTensorCheck"));
    m_useTensor->setText(tr("Use the selected tensor"));
    m_useTensor->setEnabled(false);
    m_useTensor->setToolTip(tr("Open a checkpoint and select a tensor to use real weights"));
    m_form->addRow(QString(), m_useTensor);

    m_family->setObjectName(QStringLiteral("familyCombo"));
    m_family->setToolTip(tr("The quantization family: how the levels are placed"));
    m_form->addRow(tr("&Family"), m_family);
    m_bits = addSlider(QStringLiteral("bitsSlider"), tr("&Bits"), 2, 8,
                       tr("Bits per code b: L = 2^b levels"), &m_bitsValue);
    m_mu = addSlider(QStringLiteral("muSlider"), tr("&μ"), 0, kMuSteps,
                     tr("μ-law's compression: 1 is almost linear, 255 is telephony's G.711"),
                     &m_muValue);
    m_clip =
        addSlider(QStringLiteral("clipSlider"), tr("&Clip"), 0, kClipSteps,
                  tr("Clip the range at this percentile of |x| (100 = no clipping)"), &m_clipValue);
    m_group->setObjectName(QStringLiteral("groupCombo"));
    for (int g : kGroups)
        m_group->addItem(g == 0  ? tr("tensor (one scale)")
                         : g < 0 ? tr("channel (one per row)")
                                 : QString::number(g),
                         g);
    m_group->setToolTip(tr("How many consecutive weights share one scale"));
    m_form->addRow(tr("&Group size"), m_group);

    connect(m_distribution, &QComboBox::currentIndexChanged, this, &LessonControls::changed);
    connect(m_seed, &QSpinBox::valueChanged, this, &LessonControls::changed);
    connect(m_outliers, &QSpinBox::valueChanged, this, &LessonControls::changed);
    connect(m_outlierScale, &QDoubleSpinBox::valueChanged, this, &LessonControls::changed);
    connect(m_useTensor, &QCheckBox::toggled, this, [this] {
        updateEnabled();
        Q_EMIT changed();
    });
    connect(m_family, &QComboBox::currentIndexChanged, this, [this] {
        updateEnabled();
        Q_EMIT changed();
    });
    for (QSlider* s : {m_bits, m_mu, m_clip})
        connect(s, &QSlider::valueChanged, this, [this] {
            updateValueLabels();
            Q_EMIT changed();
        });
    connect(m_group, &QComboBox::currentIndexChanged, this, &LessonControls::changed);
    setSettings(LessonSettings{});
}

QSlider* LessonControls::addSlider(const QString& name, const QString& label, int lo, int hi,
                                   const QString& tip, QLabel** valueLabel) {
    auto* field = new QWidget(this);
    auto* slider = new QSlider(Qt::Horizontal, field);
    slider->setObjectName(name);
    slider->setRange(lo, hi);
    slider->setPageStep(std::max(1, (hi - lo) / 10));
    slider->setToolTip(tip);
    slider->setFocusPolicy(Qt::StrongFocus);
    *valueLabel = new QLabel(field);
    (*valueLabel)->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("100.00")));
    (*valueLabel)->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    auto* row = new QHBoxLayout(field);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(slider, 1);
    row->addWidget(*valueLabel);
    m_form->addRow(label, field);
    return slider;
}

LessonSettings LessonControls::settings() const {
    LessonSettings s;
    s.distribution = static_cast<Distribution>(m_distribution->currentData().toInt());
    s.seed = m_seed->value();
    s.outliers = m_outliers->value();
    s.outlierScale = m_outlierScale->value();
    s.useTensor = m_useTensor->isEnabled() && m_useTensor->isChecked();
    s.family = m_family->currentData().toString();
    if (s.family.isEmpty())
        s.family = QStringLiteral("int");
    s.bits = m_bits->value();
    s.mu = sliderToMu(m_mu->value());
    s.clip = 99.0 + m_clip->value() / 100.0;
    s.group = m_group->currentData().toInt();
    return s;
}

void LessonControls::setSettings(const LessonSettings& s) {
    {
        const QSignalBlocker b1(m_distribution), b2(m_seed), b3(m_outliers), b4(m_outlierScale),
            b5(m_family), b6(m_bits), b7(m_mu), b8(m_clip), b9(m_group), b10(m_useTensor);
        m_distribution->setCurrentIndex(m_distribution->findData(static_cast<int>(s.distribution)));
        m_seed->setValue(s.seed);
        m_outliers->setValue(s.outliers);
        m_outlierScale->setValue(s.outlierScale);
        m_useTensor->setChecked(s.useTensor);
        const int f = m_family->findData(s.family);
        m_family->setCurrentIndex(std::max(0, f));
        m_bits->setValue(s.bits);
        m_mu->setValue(muToSlider(s.mu));
        m_clip->setValue(static_cast<int>(std::lround((s.clip - 99.0) * 100.0)));
        m_group->setCurrentIndex(std::max(0, m_group->findData(s.group)));
    }
    updateValueLabels();
    updateEnabled();
}

void LessonControls::setVisibleControls(unsigned controls) {
    m_controls = controls;
    // Composite rows are shown through the widget that holds them.
    auto show = [this](QWidget* w, unsigned bit) {
        m_form->setRowVisible(w == m_family || w == m_group || w == m_useTensor ? w
                                                                                : w->parentWidget(),
                              (m_controls & bit) != 0);
    };
    show(m_distribution, kDataControls);
    show(m_useTensor, kDataControls);
    show(m_outliers, kOutlierControls);
    show(m_family, kFamilyControl);
    show(m_bits, kBitsControl);
    show(m_mu, kMuControl);
    show(m_clip, kClipControl);
    show(m_group, kGroupControl);
    updateEnabled();
}

void LessonControls::setFamilies(std::span<const char* const> families) {
    const QSignalBlocker block(m_family);
    m_family->clear();
    for (const char* f : families) {
        const FamilyInfo* info = findFamily(f);
        m_family->addItem(QString::fromLatin1(f), QString::fromLatin1(f));
        if (info)
            m_family->setItemData(
                m_family->count() - 1,
                QString::fromUtf8(info->description.data(),
                                  static_cast<qsizetype>(info->description.size())),
                Qt::ToolTipRole);
    }
    updateEnabled();
}

void LessonControls::setTensorAvailable(const QString& name) {
    m_useTensor->setEnabled(!name.isEmpty());
    m_useTensor->setText(name.isEmpty() ? tr("Use the selected tensor")
                                        : tr("Use %1").arg(name.section(QLatin1Char('.'), -3)));
    m_useTensor->setToolTip(name.isEmpty()
                                ? tr("Open a checkpoint and select a tensor to use real weights")
                                : tr("Quantize (the first rows of) %1 instead of synthetic "
                                     "weights")
                                      .arg(name));
    updateEnabled();
}

void LessonControls::updateValueLabels() {
    const LessonSettings s = settings();
    m_bitsValue->setText(QString::number(s.bits));
    m_muValue->setText(QString::number(s.mu));
    m_clipValue->setText(s.clip >= 100.0 ? tr("off") : QString::number(s.clip, 'f', 2));
}

void LessonControls::updateEnabled() {
    const LessonSettings s = settings();
    const FamilyInfo* f = findFamily(s.family.toStdString());
    const bool synthetic = !s.useTensor;
    m_distribution->setEnabled(synthetic);
    m_seed->setEnabled(synthetic);
    m_outliers->setEnabled(synthetic);
    m_outlierScale->setEnabled(synthetic);
    m_bits->setEnabled(f && !f->fixedBits());
    m_group->setEnabled(f && f->hasGranularity());
    m_mu->setEnabled(s.family == QLatin1String("mulaw"));
    m_clip->setEnabled(f && f->acceptsClip());
}

} // namespace qs
