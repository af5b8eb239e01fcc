#pragma once
// Everything a lesson's Charts page draws, computed from the data and the settings by core
// (computeSchemeNumbers, sweepBits, snrVersusAmplitude, quantize) into plain values: the formula
// numbers, histogram/level/staircase point lists, and the lesson's extra curves. No widgets here;
// callable from any thread.

#include "analysis/tensor_analysis.h"
#include "charts/plot_data.h"
#include "learn/curve_chart.h"
#include "learn/lesson_catalogue.h"
#include "learn/lesson_controls.h"
#include "teach/scheme_numbers.h"

#include <QString>

namespace qs {

struct LessonData {
    std::vector<float> values;
    std::int64_t rows = 0, cols = 0;
    QString label; // "synthetic gaussian" or the tensor's name
    MatrixView view() const { return MatrixView{values.data(), rows, cols}; }
};

struct LessonResult {
    QString error; // empty on success
    Scheme scheme;
    SchemeNumbers numbers;
    TensorAnalysis analysis; // for the Metrics dock
    AnalysisPlots plots;
    QString extraTitle, extraX, extraY;
    QList<CurveSeries> extra;
    QList<QPointF> highlight;
};

inline constexpr std::int64_t kLessonRows = 64;
inline constexpr std::int64_t kLessonCols = 256;
inline constexpr double kLessonStd = 0.02;
// Real tensors are sampled to at most this many values (whole rows from the top).
inline constexpr std::int64_t kLessonMaxValues = 1 << 16;

LessonData syntheticLessonData(const LessonSettings& s);
// The first rows of a real tensor, at most kLessonMaxValues values.
LessonData tensorLessonData(const QString& name, std::vector<float> values, std::int64_t rows,
                            std::int64_t cols);

LessonResult computeLesson(const LessonData& data, const LessonSettings& settings,
                           ExtraChart extra);

} // namespace qs
