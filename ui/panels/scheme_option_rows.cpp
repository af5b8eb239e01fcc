#include "panels/scheme_option_rows.h"

#include "quant/registry.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>

namespace qs {
namespace {

constexpr double kDefaultPercentile = 99.9;
constexpr double kMinPercentile = 50.0;
constexpr int kMaxSeed = 1 << 30;
const QString kSeedKey = QStringLiteral("seed");

enum ClipItem { MinMaxItem, MseItem, PercentileItem };

QWidget* pair(QWidget* owner, QWidget* a, QWidget* b) {
    auto* row = new QWidget(owner);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    layout->addWidget(a, 1);
    layout->addWidget(b);
    return row;
}

// The spec's extras other than those with their own control, as "k=v:k2".
QString extrasText(const Scheme& s) {
    QStringList parts;
    for (const auto& [k, v] : s.extra) {
        const QString key = QString::fromStdString(k);
        if (key != kSeedKey)
            parts << (v.empty() ? key : key + QLatin1Char('=') + QString::fromStdString(v));
    }
    return parts.join(QLatin1Char(':'));
}

} // namespace

SchemeOptionRows::SchemeOptionRows(QFormLayout* form, QWidget* owner)
    : QObject(owner), m_form(form), m_clip(new QComboBox(owner)),
      m_percentile(new QDoubleSpinBox(owner)), m_rounding(new QComboBox(owner)),
      m_seed(new QSpinBox(owner)), m_fullRange(new QCheckBox(tr("full range"), owner)),
      m_dq(new QCheckBox(tr("double-quantize the scales"), owner)),
      m_scaleRule(new QComboBox(owner)), m_paramLabel(new QLabel(owner)),
      m_familyParam(new QDoubleSpinBox(owner)), m_extra(new QLineEdit(owner)) {
    m_clip->setObjectName(QStringLiteral("clipCombo"));
    m_clip->addItems({tr("min–max"), tr("MSE search"), tr("percentile")});
    m_clip->setToolTip(tr("Range each scale covers: the full min–max, the clip that minimises the "
                          "squared error (searched), or a percentile of |w|"));
    m_percentile->setObjectName(QStringLiteral("clipPercentileSpin"));
    m_percentile->setRange(kMinPercentile, 100.0);
    m_percentile->setDecimals(2);
    m_percentile->setSingleStep(0.1);
    m_percentile->setSuffix(QStringLiteral(" %"));
    m_percentile->setValue(kDefaultPercentile);
    m_clipRow = pair(owner, m_clip, m_percentile);

    m_rounding->setObjectName(QStringLiteral("roundingCombo"));
    m_rounding->addItems({tr("nearest"), tr("stochastic")});
    m_seed->setObjectName(QStringLiteral("seedSpin"));
    m_seed->setRange(-1, kMaxSeed);
    m_seed->setSpecialValueText(tr("default seed"));
    m_seed->setPrefix(tr("seed "));
    m_seed->setValue(-1);
    m_roundRow = pair(owner, m_rounding, m_seed);

    m_fullRange->setObjectName(QStringLiteral("fullRangeCheck"));
    m_fullRange->setToolTip(tr("range=full: symmetric codes use all of [−2^(b−1), 2^(b−1)−1] "
                               "(compressed-tensors); needs symmetric"));
    m_dq->setObjectName(QStringLiteral("dqCheck"));
    m_dq->setToolTip(tr("dq: the absmax scales stored as 8-bit codes in blocks of 256 "
                        "(bitsandbytes double quantization)"));
    m_scaleRule->setObjectName(QStringLiteral("scaleRuleCombo"));
    m_scaleRule->addItems({tr("floor (OCP)"), tr("ceil"), tr("round to even"), tr("rceil")});
    m_scaleRule->setToolTip(tr("How the shared E8M0 block scale is rounded from the block max"));
    m_familyParam->setObjectName(QStringLiteral("familyParamSpin"));
    m_familyParam->setRange(1.0, 1e6);
    m_familyParam->setDecimals(1);
    m_extra->setObjectName(QStringLiteral("extraEdit"));
    m_extra->setPlaceholderText(tr("key=value:…"));
    m_extra->setToolTip(tr("Family options not listed above, as in the spec (e.g. iters=50)"));

    m_form->addRow(tr("Clip"), m_clipRow);
    m_form->addRow(tr("Rounding"), m_roundRow);
    m_form->addRow(tr("Range"), m_fullRange);
    m_form->addRow(tr("Scales"), m_dq);
    m_form->addRow(tr("Scale rule"), m_scaleRule);
    m_form->addRow(m_paramLabel, m_familyParam);
    m_form->addRow(tr("Extra"), m_extra);

    const auto changed = [this] {
        updateEnabled();
        Q_EMIT edited();
    };
    connect(m_clip, &QComboBox::currentIndexChanged, this, changed);
    for (QAbstractSpinBox* spin :
         {static_cast<QAbstractSpinBox*>(m_percentile), static_cast<QAbstractSpinBox*>(m_seed),
          static_cast<QAbstractSpinBox*>(m_familyParam)})
        spin->setKeyboardTracking(false); // typed numbers apply on Enter, not per keystroke
    connect(m_percentile, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_rounding, &QComboBox::currentIndexChanged, this, changed);
    connect(m_seed, &QSpinBox::valueChanged, this, changed);
    connect(m_fullRange, &QCheckBox::toggled, this, changed);
    connect(m_dq, &QCheckBox::toggled, this, changed);
    connect(m_scaleRule, &QComboBox::currentIndexChanged, this, changed);
    connect(m_familyParam, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_extra, &QLineEdit::editingFinished, this, changed);
}

bool SchemeOptionRows::grammarAccepts(const Scheme& scheme, const QString& option) {
    const FamilyInfo* f = findFamily(scheme.family);
    if (!f)
        return false;
    std::string spec(f->name);
    if (!f->fixedBits())
        spec += std::to_string(scheme.bits);
    return Scheme::parse(spec + ":" + option.toStdString()).ok();
}

void SchemeOptionRows::setRowVisible(QWidget* field, bool visible) {
    m_form->setRowVisible(field, visible);
}

void SchemeOptionRows::show(const Scheme& s) {
    const FamilyInfo* f = findFamily(s.family);
    if (!f)
        return;
    const QSignalBlocker b1(m_clip), b2(m_percentile), b3(m_rounding), b4(m_seed), b5(m_fullRange),
        b6(m_dq), b7(m_scaleRule), b8(m_familyParam), b9(m_extra);
    m_symmetric = s.symmetric;

    setRowVisible(m_clipRow, f->acceptsClip());
    m_clip->setCurrentIndex(s.clip == Clip::Mse          ? MseItem
                            : s.clip == Clip::Percentile ? PercentileItem
                                                         : MinMaxItem);
    if (s.clip == Clip::Percentile)
        m_percentile->setValue(s.clipPercentile);

    setRowVisible(m_roundRow, f->acceptsRound());
    m_rounding->setCurrentIndex(s.rounding == Rounding::Stochastic ? 1 : 0);
    const auto seed = s.extra.find("seed");
    m_seed->setValue(seed == s.extra.end() ? -1 : QString::fromStdString(seed->second).toInt());

    m_hasFullRange = grammarAccepts(s, QStringLiteral("sym:range=full"));
    setRowVisible(m_fullRange, m_hasFullRange);
    m_fullRange->setChecked(s.fullRange);
    setRowVisible(m_dq, f->acceptsDq());
    m_dq->setChecked(s.doubleQuant);
    setRowVisible(m_scaleRule, f->acceptsScaleRule());
    m_scaleRule->setCurrentIndex(static_cast<int>(s.scaleRule));

    const bool mu = grammarAccepts(s, QStringLiteral("mu255"));
    const bool a = !mu && grammarAccepts(s, QStringLiteral("a87.6"));
    m_hasFamilyParam = mu || a;
    setRowVisible(m_familyParam, m_hasFamilyParam);
    m_paramLabel->setText(mu ? tr("μ") : tr("A"));
    m_familyParam->setMinimum(mu ? 0.1 : 1.0);
    m_familyParam->setToolTip(mu ? tr("μ-law compression parameter (255 in telephony)")
                                 : tr("A-law compression parameter (87.6 in telephony)"));
    m_familyParam->setValue(s.familyParam);

    m_hasExtra = !f->extraOptions().empty() || !extrasText(s).isEmpty();
    setRowVisible(m_extra, m_hasExtra);
    m_extra->setText(extrasText(s));
    QStringList options;
    for (std::string_view o : f->extraOptions())
        options << QString::fromUtf8(o.data(), static_cast<qsizetype>(o.size()));
    m_extra->setPlaceholderText(options.isEmpty() ? tr("key=value:…")
                                                  : tr("options: %1").arg(options.join(", ")));
    m_extra->setToolTip(
        f->kind == FamilyKind::GgmlBlock
            ? tr("imatrix: quantize as llama-quantize --imatrix does, with an importance matrix "
                 "from the Model tab's Activations (synthetic, a file's, or a llama.cpp "
                 "imatrix file)")
            : tr("Family options not listed above, as in the spec (e.g. iters=50)"));
    updateEnabled();
}

void SchemeOptionRows::updateEnabled() {
    m_percentile->setEnabled(m_clip->currentIndex() == PercentileItem);
    m_seed->setVisible(m_rounding->currentIndex() == 1);
    m_fullRange->setEnabled(m_symmetric || m_fullRange->isChecked());
}

void SchemeOptionRows::applyTo(Scheme& s) const {
    const FamilyInfo* f = findFamily(s.family);
    if (!f)
        return;
    if (f->acceptsClip()) {
        s.clip = m_clip->currentIndex() == MseItem          ? Clip::Mse
                 : m_clip->currentIndex() == PercentileItem ? Clip::Percentile
                                                            : Clip::MinMax;
        s.clipPercentile = s.clip == Clip::Percentile ? m_percentile->value() : 100.0;
        if (s.clip == Clip::Percentile && s.clipPercentile >= 100.0)
            s.clip = Clip::MinMax;
    }
    s.extra.erase("seed");
    if (f->acceptsRound()) {
        s.rounding = m_rounding->currentIndex() == 1 ? Rounding::Stochastic : Rounding::Nearest;
        if (s.rounding == Rounding::Stochastic && m_seed->value() >= 0)
            s.extra["seed"] = std::to_string(m_seed->value());
    }
    if (m_hasFullRange)
        s.fullRange = m_fullRange->isChecked() && s.symmetric;
    if (f->acceptsDq())
        s.doubleQuant = m_dq->isChecked();
    if (f->acceptsScaleRule())
        s.scaleRule = static_cast<MxScaleRule>(m_scaleRule->currentIndex());
    if (m_hasFamilyParam)
        s.familyParam = m_familyParam->value();
    if (m_hasExtra) {
        for (auto it = s.extra.begin(); it != s.extra.end();)
            it = it->first == "seed" ? std::next(it) : s.extra.erase(it);
        const QStringList parts = m_extra->text().split(QLatin1Char(':'), Qt::SkipEmptyParts);
        for (const QString& part : parts) {
            const QString p = part.trimmed();
            const qsizetype eq = p.indexOf(QLatin1Char('='));
            s.extra[(eq < 0 ? p : p.left(eq)).toStdString()] =
                eq < 0 ? std::string() : p.mid(eq + 1).toStdString();
        }
    }
}

} // namespace qs
