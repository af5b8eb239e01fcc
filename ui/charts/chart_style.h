#pragma once
// The look shared by every chart: one colour per scheme family (the same in every chart of the
// window), a neutral colour for the data itself, fonts, margins and axis styling.

#include <QColor>
#include <QString>
#include <QStringList>

#include <vector>

class QAbstractAxis;
class QChart;
class QValueAxis;

namespace qs {

// The colour of a scheme family, stable across runs (indexed by its row in the registry).
QColor schemeColor(const QString& family);
// Colours for families shown side by side, in order: each its schemeColor, unless an earlier,
// different family already shows that colour (q4_k and gptq share one): then the first palette
// colour none of them uses. A family repeated keeps its colour (the caller dashes the repeat).
std::vector<QColor> distinctSchemeColors(const QStringList& families);
QColor dataFillColor(); // the original weights
QColor dataLineColor();
QColor referenceColor(); // guides such as y = x

void styleChart(QChart* chart, const QString& title);
void styleAxis(QAbstractAxis* axis, const QString& title);
// Covers [lo, hi] with round ticks (1, 2, 2.5 or 5 times a power of ten, about `ticks` of them)
// anchored at zero, so zero is labelled "0" and never "-1.1e-16"; labels get just enough digits.
void setNiceRange(QValueAxis* axis, double lo, double hi, int ticks = 6);
// Before series are attached afresh: attaching one sets each value axis's range to the data's
// under the axis's current ticks, and a fine interval left from other data then lays out
// thousands of tick labels for a moment (0.3 s: a curve chart going from int4's SQNR range to
// fp8's). Two fixed ticks until setNiceRange sets the real ones.
void quietAxesForNewSeries(QChart* chart);

} // namespace qs
