#include "widgets/compare_slot_editor.h"

#include "quant/registry.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>

#include <algorithm>

namespace qs {

CompareSlotEditor::CompareSlotEditor(int slot, QWidget* parent)
    : QWidget(parent), m_swatch(new QLabel(this)), m_family(new QComboBox(this)),
      m_spec(new QLineEdit(this)) {
    setObjectName(QStringLiteral("compareSlot%1").arg(slot));
    m_swatch->setFixedSize(12, 12);
    m_family->setObjectName(QStringLiteral("compareFamily%1").arg(slot));
    m_family->setToolTip(tr("Family of this slot, at the Scheme panel's bit width"));
    m_family->addItem(tr("(none)"), QString());
    for (const FamilyInfo& f : families()) {
        if (!f.implemented())
            continue;
        const QString name =
            QString::fromLatin1(f.name.data(), static_cast<qsizetype>(f.name.size()));
        m_family->addItem(name, name);
        m_family->setItemData(
            m_family->count() - 1,
            QString::fromLatin1(f.description.data(), static_cast<qsizetype>(f.description.size())),
            Qt::ToolTipRole);
    }
    m_family->setMaxVisibleItems(24);
    // As wide as a short family name ("mulaw"), not the longest: the spec beside it gets the rest
    // (three slots share 540 pixels in a 1280-pixel window).
    m_family->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_family->setMinimumContentsLength(6);
    m_spec->setObjectName(QStringLiteral("compareSpec%1").arg(slot));
    m_spec->setPlaceholderText(tr("spec, e.g. int4:g128"));
    m_spec->setToolTip(tr("Type any spec and press Enter; its bit width then follows the "
                          "Scheme panel"));

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    layout->addWidget(m_swatch);
    layout->addWidget(m_family);
    layout->addWidget(m_spec, 1);

    connect(m_family, &QComboBox::activated, this,
            [this] { Q_EMIT familyChosen(m_family->currentData().toString()); });
    connect(m_spec, &QLineEdit::textEdited, this, &CompareSlotEditor::validate);
    connect(m_spec, &QLineEdit::returnPressed, this, &CompareSlotEditor::apply);
}

void CompareSlotEditor::showSlot(const QString& family, const Scheme& scheme,
                                 const QColor& colour) {
    const QSignalBlocker block(m_family);
    m_family->setCurrentIndex(std::max(0, m_family->findData(family)));
    m_spec->setText(family.isEmpty() ? QString() : QString::fromStdString(scheme.toString()));
    m_spec->setCursorPosition(0); // the family and bits, not the tail, when the field is narrow
    // Wide enough for the whole spec (up to a point): the slots' row wraps instead.
    const QString shown = m_spec->text().isEmpty() ? m_spec->placeholderText() : m_spec->text();
    m_spec->setMinimumWidth(
        std::clamp(m_spec->fontMetrics().horizontalAdvance(shown) + 18, 90, 240));
    m_spec->setStyleSheet(QString());
    m_error.clear();
    m_swatch->setStyleSheet(
        family.isEmpty()
            ? QStringLiteral("border: 1px solid #BBB; border-radius: 2px;")
            : QStringLiteral("background: %1; border-radius: 2px;").arg(colour.name()));
}

QString CompareSlotEditor::specText() const {
    return m_spec->text();
}

void CompareSlotEditor::validate(const QString& text) {
    const QString t = text.trimmed();
    auto parsed = Scheme::parse(t.toStdString());
    m_error = t.isEmpty() || parsed ? QString() : QString::fromStdString(parsed.message());
    m_spec->setStyleSheet(m_error.isEmpty() ? QString()
                                            : QStringLiteral("QLineEdit { color: #C0392B; }"));
    m_spec->setToolTip(m_error.isEmpty() ? tr("Type any spec and press Enter") : m_error);
}

void CompareSlotEditor::apply() {
    const QString t = m_spec->text().trimmed();
    if (t.isEmpty()) {
        Q_EMIT familyChosen(QString());
        return;
    }
    auto parsed = Scheme::parse(t.toStdString());
    validate(t);
    if (parsed)
        Q_EMIT specEntered(parsed.value());
}

} // namespace qs
