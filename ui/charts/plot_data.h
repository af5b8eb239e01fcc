#pragma once
// Point lists for the Tensor tab's charts, built from core results on a worker thread so the GUI
// thread only hands them to QXYSeries::replace(). Plain values: copy freely between threads.

#include "analysis/tensor_analysis.h"

#include <QList>
#include <QPointF>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <utility>
#include <vector>

namespace qs {

// A histogram drawn as a closed step outline over [lo, hi]. `linear` rests on 0; `log` clamps
// empty bins to kLogFloor so a logarithmic axis can show it.
struct HistogramPlot {
    static constexpr double kLogFloor = 0.5;
    double lo = 0, hi = 0;
    double maxCount = 0;
    std::vector<std::uint64_t> counts;
    QList<QPointF> linear;
    QList<QPointF> log;

    bool isEmpty() const { return counts.empty(); }
    double binWidth() const;
    // Index of the bin holding x, or -1 outside [lo, hi].
    int binAt(double x) const;
    // "<prefix>[x0, x1): N weights" for a hover read-out of bin `bin`.
    QString binText(int bin, const QString& prefix = {}) const;
};

struct AnalysisPlots {
    QString scheme; // canonical spec
    HistogramPlot weights;
    HistogramPlot errors;
    std::vector<float> levels; // sorted
    QList<QPointF> levelLines; // x = level, y zig-zags 0 -> 1 -> 0 on a hidden [0, 1] axis
    QList<QPointF> staircase;  // x over [weights.lo, weights.hi] -> nearest level
    QList<QPointF> identity;   // y = x over the same range
    // A preview from previewRows evenly spaced rows of totalRows (0: the exact analysis).
    std::int64_t previewRows = 0, totalRows = 0;
    bool isPreview() const { return previewRows > 0; }
};

struct SweepPlot {
    QString family;
    QList<QPointF> sqnr; // (bits, dB); bit widths with an exact result are left out
    // (bits, dB): the output's SNR where the sweep had activations or an importance matrix
    QList<QPointF> outputSnr;
    QList<QPointF> bitsPerWeight; // (bits, honest bits per weight)
    // One per bitsPerWeight point: the family measured there, which on a fixed-width family's
    // ladder is a sibling (q2_k ... q8_0 around q4_k); `ladder` then, and the chart names them.
    QStringList names;
    bool ladder = false;
    int currentBits = 0;
};

HistogramPlot buildHistogramPlot(const Histogram& h);
// Vertical lines at each level from y0 to y1 (one zig-zag series: y0 -> y1 -> y0 per level).
QList<QPointF> buildLevelLines(const std::vector<float>& levels, double y0 = 0.0, double y1 = 1.0);
// [lo, hi] (the weights' range) widened to take in the levels that lie within the mirrored range
// [-a, a], a = max(|lo|, |hi|): a symmetric format's top level sits at the absmax, beyond the
// other end of a skewed tensor (nf4 on q_proj: +1.594 past a max of 1.23), and an axis ending at
// the data hid it. Levels further out (an unscaled format's grid) are left out of the view.
std::pair<double, double> spanWithLevels(double lo, double hi, const std::vector<float>& levels);
// The Compare chart's lane of slot `slot` on its hidden [0, 1] axis: a strip near the top where
// that scheme's levels are drawn as a solid rug above the histogram.
inline constexpr double kCompareLaneTop = 0.985;
inline constexpr double kCompareLaneHeight = 0.055;
inline constexpr double kCompareLaneGap = 0.015;
inline double compareLaneLow(int slot) {
    return kCompareLaneTop - kCompareLaneHeight - slot * (kCompareLaneHeight + kCompareLaneGap);
}
inline double compareLaneHigh(int slot) {
    return compareLaneLow(slot) + kCompareLaneHeight;
}
// Nearest-level transfer function over [lo, hi] as a staircase (ties between levels go up).
QList<QPointF> buildStaircase(const std::vector<float>& levels, double lo, double hi);
AnalysisPlots buildAnalysisPlots(const TensorAnalysis& a);
SweepPlot buildSweepPlot(const std::vector<BitSweepPoint>& points, const Scheme& scheme);

} // namespace qs
