#include "learn/formula_panel.h"

#include "number_format.h"
#include "quant/float_quant.h"
#include "quant/registry.h"

#include <QTextDocument>

#include <cmath>

namespace qs {
namespace {

QString num(double v) {
    return formatNumber(v, 4);
}

// One formula line: the formula in italics-free serif, then " = value".
QString line(const QString& formula, const QString& value = {}) {
    return QStringLiteral("<tr><td style='padding-right:6px'>%1</td><td><b>%2</b></td></tr>")
        .arg(formula, value);
}

QString section(const QString& title) {
    return QStringLiteral("<tr><td colspan='2' style='padding-top:6px'><u>%1</u></td></tr>")
        .arg(title);
}

} // namespace

FormulaPanel::FormulaPanel(QWidget* parent) : QLabel(parent) {
    setObjectName(QStringLiteral("formulaPanel"));
    setTextFormat(Qt::RichText);
    setWordWrap(true);
    setAlignment(Qt::AlignTop | Qt::AlignLeft);
    setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    setFocusPolicy(Qt::StrongFocus);
    setToolTip(tr("The formulas of the current scheme with their values for the current data; "
                  "they follow every slider"));
    setFrameShape(QFrame::StyledPanel);
    setContentsMargins(6, 4, 6, 4);
    setBackgroundRole(QPalette::Base);
    setAutoFillBackground(true);
}

void FormulaPanel::setNumbers(const Scheme& s, const SchemeNumbers& n, std::int64_t rows,
                              std::int64_t cols) {
    const FamilyInfo* f = findFamily(s.family);
    QString html = QStringLiteral("<table cellspacing='0' cellpadding='1'>");
    html += line(tr("scheme"), QString::fromStdString(s.toString()).toHtmlEscaped());
    if (f && !f->fixedBits())
        html += line(tr("levels L = 2<sup>b</sup> = 2<sup>%1</sup>").arg(s.bits),
                     QString::number(n.levelCount));
    else
        html += line(tr("levels L"), QString::number(n.levelCount));
    html += line(tr("scales stored (%1 × %2 weights)").arg(rows).arg(cols),
                 tr("%1 (one per %2 weights)").arg(n.groupCount).arg(n.groupSize));
    html += line(tr("bits per weight (codes + scales)"), num(n.cost.bitsPerWeight()));
    html += line(tr("SQNR = 10·log<sub>10</sub>(Σx² / Σ(x − x<sub>q</sub>)²)"),
                 formatDb(n.error.sqnrDb()));
    html += line(tr("largest error |x − x<sub>q</sub>|"), num(n.error.maxAbsErr));
    html += familyLines(s, n);
    html += QStringLiteral("</table>");
    setText(html);
}

QString FormulaPanel::familyLines(const Scheme& s, const SchemeNumbers& n) const {
    const WorkedExample& e = n.example;
    QString h = section(tr("The group holding the largest weight"));
    h += line(tr("its range [min, max]"),
              QStringLiteral("[%1, %2]").arg(num(n.groupMin), num(n.groupMax)));
    const bool clipped = s.clip == Clip::Percentile;
    if (s.family == "int") {
        const int L = 1 << s.bits;
        if (s.symmetric) {
            h += line(tr("Δ = absmax / (2<sup>b−1</sup> − 1) = %1 / %2")
                          .arg(num(n.scale * ((L >> 1) - 1)))
                          .arg((L >> 1) - 1),
                      num(n.scale));
        } else {
            h += line(tr("Δ = (max − min) / (L − 1)%1").arg(clipped ? tr(", clipped") : QString()),
                      num(n.scale));
            h += line(tr("zero-point z = round(−min / Δ)"), num(n.zeroPoint));
        }
        h += section(tr("One weight, step by step"));
        h += line(tr("x"), num(e.x));
        h += line(tr("x / Δ + z"), num(e.t));
        h += line(tr("code q = clamp(round(x / Δ + z), 0, L − 1)"), QString::number(e.code));
        h += line(tr("x<sub>q</sub> = Δ · (q − z)"), num(e.reconstruction));
    } else if (s.family == "mulaw") {
        const double mu = s.familyParam;
        h += line(tr("scale = absmax%1").arg(clipped ? tr(" (clipped)") : QString()), num(n.scale));
        h += line(tr("μ"), num(mu));
        h += line(tr("compress F(t) = sgn(t)·ln(1 + μ|t|) / ln(1 + μ)"));
        h += line(tr("expand F<sup>−1</sup>(y) = sgn(y)·((1 + μ)<sup>|y|</sup> − 1) / μ"));
        h += line(tr("smallest / largest step"),
                  QStringLiteral("%1 / %2").arg(num(n.smallestStep), num(n.largestStep)));
        h += section(tr("One weight, step by step"));
        h += line(tr("x"), num(e.x));
        h += line(tr("t = x / absmax"), num(e.t));
        h += line(tr("y = F(t)"), num(e.y));
        h += line(tr("code q = ⌊(y + 1)/2 · (L − 1) + ½⌋"), QString::number(e.code));
        h += line(tr("y<sub>q</sub> = 2q/(L − 1) − 1"), num(e.yq));
        h += line(tr("x<sub>q</sub> = F<sup>−1</sup>(y<sub>q</sub>) · absmax"),
                  num(e.reconstruction));
    } else {
        const bool codebook = s.family == "nf";
        const bool mx = s.family.rfind("mx", 0) == 0;
        const bool nv = s.family == "nvfp4";
        if (codebook)
            h += line(tr("scale = absmax (fp32 per block)"), num(n.scale));
        else if (mx)
            h += line(tr("shared scale X = 2<sup>⌊log<sub>2</sub> absmax⌋ − 2</sup> (E8M0)"),
                      num(n.scale));
        else if (nv)
            h += line(tr("scale = fp32 tensor scale × E4M3 block scale"), num(n.scale));
        else
            h += line(tr("scale (maps absmax onto the largest level)"), num(n.scale));
        h += line(tr("smallest / largest step"),
                  QStringLiteral("%1 / %2").arg(num(n.smallestStep), num(n.largestStep)));
        h += section(tr("One weight, step by step"));
        h += line(tr("x"), num(e.x));
        h += line(tr("t = x / scale"), num(e.t));
        const bool element = mx || nv || s.family.rfind("fp", 0) == 0;
        if (element) {
            // The element's own bit pattern (E2M1's 2.0 is 0100), not its index among the
            // sorted levels (11), which the lesson never introduced.
            const ElementFormat fmt = elementFormatOf(s.family);
            const ElementFormatInfo& info = formatInfo(fmt);
            const std::uint8_t code = encodeElement(fmt, static_cast<float>(e.yq));
            h += line(tr("nearest %1 value, its bits")
                          .arg(QString::fromLatin1(info.name.data(),
                                                   static_cast<qsizetype>(info.name.size()))
                                   .toUpper()),
                      QStringLiteral("%1, %2").arg(num(e.yq)).arg(
                          QString::number(code, 2).rightJustified(info.bits, QLatin1Char('0'))));
        } else {
            h += line(codebook ? tr("nearest table value NF[q], code q")
                               : tr("nearest level, code q"),
                      QStringLiteral("%1, q = %2").arg(num(e.yq)).arg(e.code));
        }
        h += line(tr("x<sub>q</sub> = value · scale"), num(e.reconstruction));
    }
    h += line(tr("error x − x<sub>q</sub>"), num(e.x - e.reconstruction));
    return h;
}

void FormulaPanel::showError(const QString& message) {
    setText(QStringLiteral("<span style='color:#C0392B'>%1</span>").arg(message.toHtmlEscaped()));
}

QString FormulaPanel::plainText() const {
    QTextDocument doc;
    doc.setHtml(text());
    return doc.toPlainText();
}

} // namespace qs
