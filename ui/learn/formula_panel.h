#pragma once
// The live formulas of a lesson: the quantities of the current scheme (L = 2^b, Δ, scale,
// zero-point, μ, the compress and expand functions) written out with their values for the
// current data, plus one weight followed through them. Rewritten whenever the numbers change.
// GUI thread only.

#include "quant/scheme.h"
#include "teach/scheme_numbers.h"

#include <QLabel>

namespace qs {

class FormulaPanel : public QLabel {
    Q_OBJECT
public:
    explicit FormulaPanel(QWidget* parent = nullptr);

    void setNumbers(const Scheme& scheme, const SchemeNumbers& numbers, std::int64_t rows,
                    std::int64_t cols);
    void showError(const QString& message);

    // The body as plain text (formulas and values), for tests and accessibility.
    QString plainText() const;

private:
    QString familyLines(const Scheme& s, const SchemeNumbers& n) const;
};

} // namespace qs
