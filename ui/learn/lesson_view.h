#pragma once
// Learn mode's centre: one lesson at a time, as a guided sequence of steps (text, a preset, and
// something to try; Back/Next), the lesson's controls, the live formulas and its views — the
// charts (weights with levels, transfer staircase, error histogram and one lesson-specific
// curve), the block inspector or the memory calculator. The data is synthetic or the tensor
// selected in the Checkpoint dock (its first rows). Everything is computed by core on a worker
// thread (QtConcurrent), bursts of edits coalesced by a 40 ms timer; rendered() follows each
// update. GUI thread only.

#include "learn/lesson_plots.h"

#include <QFutureWatcher>
#include <QTimer>
#include <QWidget>

#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QPushButton;
class QStackedWidget;

namespace qs {

class BlockInspectorView;
class Checkpoint;
class CurveChart;
class ErrorHistogramChart;
class FormulaPanel;
class LessonControls;
class MemoryCalculator;
class TransferChart;
class WeightHistogramChart;

class LessonView : public QWidget {
    Q_OBJECT
public:
    explicit LessonView(QWidget* parent = nullptr);
    ~LessonView() override;

    // Opens lesson `id` at its first step; false for an unknown id.
    bool setLesson(const QString& id);
    QString lessonId() const;
    int step() const { return m_step; }
    int stepCount() const;
    void setStep(int step);
    // The tensor the "use the selected tensor" box refers to (empty name: none).
    void setTensor(std::shared_ptr<const Checkpoint> checkpoint, const QString& name);

    bool isBusy() const;
    const LessonResult& result() const { return m_result; }
    const LessonData& data() const { return m_data; }
    LessonPage page() const;
    // The scheme the current step shows (the charts', the inspected format's or the memory
    // calculator's), for the Scheme dock.
    std::optional<Scheme> currentScheme() const;

    LessonControls* controls() const { return m_controls; }
    FormulaPanel* formulas() const { return m_formulas; }
    WeightHistogramChart* weightChart() const { return m_weights; }
    TransferChart* transferChart() const { return m_transfer; }
    ErrorHistogramChart* errorChart() const { return m_errors; }
    CurveChart* extraChart() const { return m_extra; }
    BlockInspectorView* inspector() const { return m_inspector; }
    MemoryCalculator* memory() const { return m_memory; }
    QString stepTitle() const;

Q_SIGNALS:
    // The views show the current settings (also after a failed computation).
    void rendered();
    void errorShown(const QString& message);

private:
    void applyStep();
    void schedule();
    void start();
    void onFinished();
    void readTensor();
    void apply(const LessonResult& r);

    const Lesson* m_lesson = nullptr;
    int m_step = 0;
    QComboBox* m_picker;
    QLabel* m_stepLabel;
    QPushButton* m_back;
    QPushButton* m_next;
    QLabel* m_title;
    QLabel* m_text;
    QLabel* m_try;
    LessonControls* m_controls;
    FormulaPanel* m_formulas;
    QStackedWidget* m_pages;
    WeightHistogramChart* m_weights;
    TransferChart* m_transfer;
    ErrorHistogramChart* m_errors;
    CurveChart* m_extra;
    BlockInspectorView* m_inspector;
    MemoryCalculator* m_memory;

    QTimer m_timer;
    QFutureWatcher<std::pair<LessonData, LessonResult>> m_watcher;
    QFutureWatcher<std::optional<LessonData>> m_tensorWatcher;
    bool m_pending = false;
    // Set from start to the finished slot: a watcher stops running before its slot has run.
    bool m_computing = false;
    bool m_reading = false;
    LessonData m_data;
    LessonResult m_result;
    std::shared_ptr<const Checkpoint> m_checkpoint;
    QString m_tensorName;
    std::optional<LessonData> m_tensorData;
};

} // namespace qs
