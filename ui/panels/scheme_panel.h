#pragma once
// The "Scheme" dock: family (from the registry; families not implemented yet are listed but
// disabled), bit width, granularity, group size and symmetry where the family has them, every
// further option its grammar accepts (SchemeOptionRows), the canonical spec, and a line to type
// any spec. Emits schemeChanged with every valid change;
// a spec that does not parse shows its error and changes nothing. GUI thread only.

#include "quant/scheme.h"

#include <QWidget>

class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace qs {

class SchemeOptionRows;

class SchemePanel : public QWidget {
    Q_OBJECT
public:
    explicit SchemePanel(QWidget* parent = nullptr);

    const Scheme& scheme() const { return m_scheme; }
    // Shows `scheme`; emits schemeChanged if it differs from the current one.
    void setScheme(const Scheme& scheme);
    // Parses and applies `spec` as if typed; false (and the error shown) if it does not parse.
    bool applySpec(const QString& spec);
    QString specError() const;

Q_SIGNALS:
    void schemeChanged(const qs::Scheme& scheme);

private:
    void buildFamilyCombo();
    void syncControls();
    void onFamilyChosen();
    void onControlsEdited();
    void onSpecEdited(const QString& text);
    void commit(const Scheme& scheme);
    void showSpecError(const QString& message);
    QString familyAt(int index) const;

    Scheme m_scheme;
    QFormLayout* m_form;
    QComboBox* m_family;
    QLabel* m_description;
    QSpinBox* m_bits;
    QComboBox* m_granularity;
    QComboBox* m_groupSize;
    QComboBox* m_symmetry;
    SchemeOptionRows* m_options = nullptr;
    QLabel* m_swatch;
    QLineEdit* m_specEdit;
    QLabel* m_specError;
};

} // namespace qs
