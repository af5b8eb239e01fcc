#pragma once
// One scheme slot of the Compare tab: its colour, a family combo (the implemented families from
// the registry, or none) and a spec line checked as it is typed and applied on Enter.
// GUI thread only.

#include "quant/scheme.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;

namespace qs {

class CompareSlotEditor : public QWidget {
    Q_OBJECT
public:
    explicit CompareSlotEditor(int slot, QWidget* parent = nullptr);

    // Shows a used slot (`family` non-empty) with its scheme and colour, or an unused one.
    void showSlot(const QString& family, const Scheme& scheme, const QColor& colour);
    QString specText() const;
    QString specError() const { return m_error; }
    QComboBox* familyCombo() const { return m_family; }
    QLineEdit* specEdit() const { return m_spec; }

Q_SIGNALS:
    void familyChosen(const QString& family); // empty: slot unused
    void specEntered(const qs::Scheme& scheme);

private:
    void validate(const QString& text);
    void apply();

    QLabel* m_swatch;
    QComboBox* m_family;
    QLineEdit* m_spec;
    QString m_error;
};

} // namespace qs
