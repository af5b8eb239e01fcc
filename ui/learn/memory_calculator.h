#pragma once
// The memory lesson's calculator: a model (Llama-style presets), a scheme for the weights, the
// served context and batch, and the hidden costs as check boxes to add one by one; each counted
// item shows its formula with the numbers filled in, and the stacked bar shows the total against
// common GPU sizes. The arithmetic is core's memory_lesson. GUI thread only.

#include "teach/memory_lesson.h"

#include <QWidget>

#include <map>

class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;

namespace qs {

class MemoryChart;

class MemoryCalculator : public QWidget {
    Q_OBJECT
public:
    explicit MemoryCalculator(QWidget* parent = nullptr);

    // Counts the first `items` of kMemoryItems, with `scheme` for the weights.
    void setPreset(int items, const QString& scheme, int context);
    void setScheme(const QString& spec);
    void setItemIncluded(MemoryItem item, bool on);

    const std::vector<MemoryLine>& lines() const { return m_lines; }
    double total() const { return totalBytes(m_lines); }
    QString formulaText() const;
    QString schemeSpec() const;
    MemoryChart* chart() const { return m_chart; }

Q_SIGNALS:
    void changed();

private:
    void recompute();
    QString itemFormula(const MemoryInputs& in, MemoryItem item) const;

    QComboBox* m_model;
    QComboBox* m_scheme;
    QSpinBox* m_context;
    QSpinBox* m_batch;
    QComboBox* m_kvType;
    std::map<MemoryItem, QCheckBox*> m_items;
    QLabel* m_formulas;
    MemoryChart* m_chart;
    std::vector<MemoryLine> m_lines;
};

} // namespace qs
