#include "panels/scheme_panel.h"

#include "charts/chart_style.h"
#include "panels/scheme_option_rows.h"
#include "quant/registry.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QIntValidator>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStandardItemModel>

#include <algorithm>

namespace qs {
namespace {

constexpr int kGroupSizes[] = {32, 64, 128, 256};
constexpr int kFallbackBits = 4;
enum GranularityItem { TensorItem, ChannelItem, GroupItem };

QString granularityOption(const Scheme& s) {
    switch (s.granularity) {
    case Granularity::Tensor:
        return QStringLiteral("tensor");
    case Granularity::Channel:
        return QStringLiteral("channel");
    case Granularity::Group:
        return QStringLiteral("g%1").arg(s.groupSize);
    case Granularity::Block:
        break;
    }
    return {};
}

} // namespace

SchemePanel::SchemePanel(QWidget* parent)
    : QWidget(parent), m_form(new QFormLayout(this)), m_family(new QComboBox(this)),
      m_description(new QLabel(this)), m_bits(new QSpinBox(this)),
      m_granularity(new QComboBox(this)), m_groupSize(new QComboBox(this)),
      m_symmetry(new QComboBox(this)), m_swatch(new QLabel(this)), m_specEdit(new QLineEdit(this)),
      m_specError(new QLabel(this)) {
    if (auto initial = Scheme::parse("int4:g64"))
        m_scheme = initial.value();

    m_family->setObjectName(QStringLiteral("familyCombo"));
    m_family->setMaxVisibleItems(24);
    buildFamilyCombo();
    m_description->setWordWrap(true);
    m_description->setStyleSheet(QStringLiteral("color: #666;"));

    m_bits->setObjectName(QStringLiteral("bitsSpin"));
    m_granularity->setObjectName(QStringLiteral("granularityCombo"));
    m_groupSize->setObjectName(QStringLiteral("groupSizeCombo"));
    m_groupSize->setEditable(true);
    m_groupSize->setInsertPolicy(QComboBox::NoInsert);
    m_groupSize->setValidator(new QIntValidator(1, 1 << 30, m_groupSize));
    m_groupSize->setToolTip(
        tr("Consecutive weights of a row (the input dimension) that share a scale; "
           "type any size"));
    for (int g : kGroupSizes)
        m_groupSize->addItem(QString::number(g));
    m_symmetry->setObjectName(QStringLiteral("symmetryCombo"));
    m_symmetry->addItems({tr("symmetric"), tr("asymmetric (zero-point)")});

    m_swatch->setFixedSize(12, 12);
    m_swatch->setToolTip(tr("This scheme's colour in the charts"));
    // One spec field: the canonical spec as the CLI and reports write it, and editable (a read-
    // only copy above an "Edit spec" field showed the same text twice).
    auto* specRow = new QHBoxLayout;
    specRow->setSpacing(6);
    specRow->addWidget(m_swatch);
    specRow->addWidget(m_specEdit, 1);

    m_specEdit->setObjectName(QStringLiteral("specEdit"));
    m_specEdit->setPlaceholderText(tr("e.g. int4:g128, int8:channel:sym"));
    m_specEdit->setToolTip(tr("The canonical spec, as the CLI and reports write it; type one "
                              "(FAMILY[BITS][:OPTION]...) and press Enter"));
    m_specError->setObjectName(QStringLiteral("specError"));
    m_specError->setWordWrap(true);
    m_specError->setStyleSheet(QStringLiteral("color: #C0392B;"));
    m_specError->hide();

    m_form->setContentsMargins(8, 6, 8, 8);
    m_form->setVerticalSpacing(6);
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_form->addRow(tr("Family"), m_family);
    m_form->addRow(QString(), m_description);
    m_form->addRow(tr("Bits"), m_bits);
    m_form->addRow(tr("Granularity"), m_granularity);
    m_form->addRow(tr("Group size"), m_groupSize);
    m_form->addRow(tr("Symmetry"), m_symmetry);
    m_options = new SchemeOptionRows(m_form, this);
    m_form->addRow(tr("Spec"), specRow);
    m_form->addRow(QString(), m_specError);

    connect(m_family, &QComboBox::activated, this, [this] { onFamilyChosen(); });
    connect(m_bits, &QSpinBox::valueChanged, this, [this] { onControlsEdited(); });
    connect(m_granularity, &QComboBox::currentIndexChanged, this, [this] { onControlsEdited(); });
    connect(m_groupSize, &QComboBox::activated, this, [this] { onControlsEdited(); });
    connect(m_groupSize->lineEdit(), &QLineEdit::editingFinished, this,
            [this] { onControlsEdited(); });
    connect(m_symmetry, &QComboBox::currentIndexChanged, this, [this] { onControlsEdited(); });
    connect(m_options, &SchemeOptionRows::edited, this, [this] { onControlsEdited(); });
    connect(m_specEdit, &QLineEdit::textEdited, this, &SchemePanel::onSpecEdited);
    connect(m_specEdit, &QLineEdit::returnPressed, this, [this] { applySpec(m_specEdit->text()); });
    syncControls();
}

void SchemePanel::buildFamilyCombo() {
    auto* model = qobject_cast<QStandardItemModel*>(m_family->model());
    const FamilyInfo* previous = nullptr;
    for (const FamilyInfo& f : families()) {
        if (previous && previous->kind != f.kind)
            m_family->insertSeparator(m_family->count());
        previous = &f;
        const QString name =
            QString::fromLatin1(f.name.data(), static_cast<qsizetype>(f.name.size()));
        const QString description =
            QString::fromLatin1(f.description.data(), static_cast<qsizetype>(f.description.size()));
        m_family->addItem(f.implemented() ? name : tr("%1 (coming)").arg(name), name);
        const int row = m_family->count() - 1;
        m_family->setItemData(row, description, Qt::ToolTipRole);
        if (!f.implemented() && model)
            model->item(row)->setEnabled(false);
    }
}

QString SchemePanel::familyAt(int index) const {
    return m_family->itemData(index).toString();
}

QString SchemePanel::specError() const {
    return m_specError->isHidden() ? QString() : m_specError->text();
}

void SchemePanel::setScheme(const Scheme& scheme) {
    commit(scheme);
}

bool SchemePanel::applySpec(const QString& spec) {
    auto parsed = Scheme::parse(spec.trimmed().toStdString());
    if (!parsed) {
        showSpecError(QString::fromStdString(parsed.message()));
        return false;
    }
    commit(parsed.value());
    m_specEdit->setText(QString::fromStdString(m_scheme.toString()));
    return true;
}

void SchemePanel::commit(const Scheme& scheme) {
    showSpecError({});
    const bool changed = !(scheme == m_scheme);
    m_scheme = scheme;
    syncControls();
    if (changed)
        Q_EMIT schemeChanged(m_scheme);
}

void SchemePanel::showSpecError(const QString& message) {
    m_specError->setText(message);
    m_specError->setVisible(!message.isEmpty());
}

void SchemePanel::onSpecEdited(const QString& text) {
    if (text.trimmed().isEmpty()) {
        showSpecError({});
        return;
    }
    auto parsed = Scheme::parse(text.trimmed().toStdString());
    showSpecError(parsed ? QString() : QString::fromStdString(parsed.message()));
}

void SchemePanel::onFamilyChosen() {
    const FamilyInfo* f = findFamily(familyAt(m_family->currentIndex()).toStdString());
    const FamilyInfo* old = findFamily(m_scheme.family);
    if (!f)
        return;
    QString bare = QString::fromLatin1(f->name.data(), static_cast<qsizetype>(f->name.size()));
    if (!f->fixedBits()) {
        const int bits = old && !old->fixedBits() ? m_scheme.bits : kFallbackBits;
        bare += QString::number(std::clamp(bits, f->minBits, f->maxBits));
    }
    // Carry over what both families understand, so int4:g64 -> nf4:g64.
    QString spec = bare;
    if (old && f->hasGranularity() && old->hasGranularity())
        spec += QLatin1Char(':') + granularityOption(m_scheme);
    if (old && f->hasSymmetry && old->hasSymmetry && m_scheme.symmetric != f->defaultSymmetric)
        spec += m_scheme.symmetric ? QStringLiteral(":sym") : QStringLiteral(":asym");
    auto parsed = Scheme::parse(spec.toStdString());
    if (!parsed)
        parsed = Scheme::parse(bare.toStdString());
    if (!parsed) {
        showSpecError(QString::fromStdString(parsed.message()));
        syncControls();
        return;
    }
    Scheme next = parsed.value();
    if (old && f->acceptsClip() && old->acceptsClip()) {
        next.clip = m_scheme.clip;
        next.clipPercentile = m_scheme.clipPercentile;
    }
    if (auto carried = Scheme::parse(next.toString()))
        parsed = std::move(carried);
    commit(parsed.value());
    m_specEdit->setText(QString::fromStdString(m_scheme.toString()));
}

void SchemePanel::onControlsEdited() {
    const FamilyInfo* f = findFamily(m_scheme.family);
    if (!f)
        return;
    Scheme s = m_scheme;
    if (!f->fixedBits())
        s.bits = m_bits->value();
    if (f->hasGranularity()) {
        switch (m_granularity->currentIndex()) {
        case TensorItem:
            s.granularity = Granularity::Tensor;
            s.groupSize = 0;
            break;
        case ChannelItem:
            s.granularity = Granularity::Channel;
            s.groupSize = 0;
            break;
        default: {
            const int g = m_groupSize->currentText().toInt();
            if (g <= 0) {
                showSpecError(tr("group size must be a positive whole number"));
                return;
            }
            s.granularity = Granularity::Group;
            s.groupSize = g;
        }
        }
    }
    if (f->hasSymmetry)
        s.symmetric = m_symmetry->currentIndex() == 0;
    m_options->applyTo(s);
    // Re-parse the printed form: it validates combinations such as range=full without sym.
    auto parsed = Scheme::parse(s.toString());
    if (!parsed) {
        syncControls();
        showSpecError(QString::fromStdString(parsed.message()));
        return;
    }
    commit(parsed.value());
    m_specEdit->setText(QString::fromStdString(m_scheme.toString()));
}

void SchemePanel::syncControls() {
    const FamilyInfo* f = findFamily(m_scheme.family);
    if (!f)
        return;
    const QSignalBlocker b1(m_family), b2(m_bits), b3(m_granularity), b4(m_groupSize),
        b5(m_symmetry);
    m_family->setCurrentIndex(m_family->findData(QString::fromStdString(m_scheme.family)));
    QString description =
        QString::fromLatin1(f->description.data(), static_cast<qsizetype>(f->description.size()));
    if (!f->implemented())
        description += tr(" — not implemented yet");
    m_description->setText(description);

    m_bits->setRange(f->fixedBits() ? m_scheme.bits : f->minBits,
                     f->fixedBits() ? m_scheme.bits : f->maxBits);
    m_bits->setValue(m_scheme.bits);
    m_bits->setEnabled(!f->fixedBits());
    m_bits->setSuffix(f->fixedBits() ? tr("  (fixed)") : QString());

    const bool block = f->blockSize > 0;
    m_form->setRowVisible(m_granularity, f->hasGranularity() || block);
    m_form->setRowVisible(m_groupSize, f->hasGranularity() || block);
    m_granularity->clear();
    if (block) {
        m_granularity->addItem(tr("block (fixed by the format)"));
    } else {
        m_granularity->addItems({tr("tensor"), tr("channel (per row)"), tr("group")});
        m_granularity->setCurrentIndex(m_scheme.granularity == Granularity::Tensor    ? TensorItem
                                       : m_scheme.granularity == Granularity::Channel ? ChannelItem
                                                                                      : GroupItem);
    }
    m_granularity->setEnabled(!block);
    const bool grouped = m_scheme.granularity == Granularity::Group || block;
    if (grouped) {
        const QString size = QString::number(m_scheme.groupSize);
        const int item = m_groupSize->findText(size);
        if (item >= 0)
            m_groupSize->setCurrentIndex(item);
        m_groupSize->setEditText(size);
    }
    m_groupSize->setEnabled(m_scheme.granularity == Granularity::Group && !block);

    m_form->setRowVisible(m_symmetry, f->hasSymmetry);
    m_symmetry->setCurrentIndex(m_scheme.symmetric ? 0 : 1);
    m_options->show(m_scheme);

    const QString canonical = QString::fromStdString(m_scheme.toString());
    if (!m_specEdit->hasFocus())
        m_specEdit->setText(canonical);
    m_swatch->setStyleSheet(QStringLiteral("background: %1; border-radius: 2px;")
                                .arg(schemeColor(QString::fromStdString(m_scheme.family)).name()));
}

} // namespace qs
