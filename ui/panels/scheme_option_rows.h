#pragma once
// The scheme panel's option rows beyond family, bits, granularity and symmetry: clipping (min-max,
// MSE search, percentile), rounding (nearest, stochastic with a seed), range=full, dq, the MX scale
// rule, the family parameter (μ for mulaw, A for alaw) and free-form family extras. A row is shown
// only for families whose grammar accepts its option: FamilyInfo::accepts*() where the registry
// has a rule, otherwise the spec grammar itself is asked. GUI thread only.

#include "quant/scheme.h"

#include <QObject>
#include <QString>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QSpinBox;
class QWidget;

namespace qs {

class SchemeOptionRows : public QObject {
    Q_OBJECT
public:
    // Appends the rows to `form`; their widgets are children of `owner`.
    SchemeOptionRows(QFormLayout* form, QWidget* owner);

    // Shows the rows `scheme`'s family accepts, with its values. Emits nothing.
    void show(const Scheme& scheme);
    // Writes the controls into `scheme` (same family as the last show()). The caller validates the
    // result through the grammar.
    void applyTo(Scheme& scheme) const;

    // Whether the spec grammar accepts `option` for `scheme`'s family and bit width.
    static bool grammarAccepts(const Scheme& scheme, const QString& option);

Q_SIGNALS:
    void edited();

private:
    void setRowVisible(QWidget* field, bool visible);
    void updateEnabled();

    QFormLayout* m_form;
    QWidget* m_clipRow;
    QComboBox* m_clip;
    QDoubleSpinBox* m_percentile;
    QWidget* m_roundRow;
    QComboBox* m_rounding;
    QSpinBox* m_seed;
    QCheckBox* m_fullRange;
    QCheckBox* m_dq;
    QComboBox* m_scaleRule;
    QLabel* m_paramLabel;
    QDoubleSpinBox* m_familyParam;
    QLineEdit* m_extra;
    bool m_symmetric = false;
    bool m_hasFullRange = false;
    bool m_hasFamilyParam = false;
    bool m_hasExtra = false;
};

} // namespace qs
