#pragma once
// The "Memory" tab: what it takes to serve or fine-tune the open model (or any config.json), with
// the weights as stored, under the Scheme panel's scheme or under the Plan tab's plan. Mode
// (inference, full training, LoRA, QLoRA), context, batch, KV-cache dtype, LoRA rank and gradient
// checkpointing; a stacked bar of the parts, the total, and a table of common GPUs saying what
// fits and how many are needed. The arithmetic is core's memory model (the `memory` command's),
// run off the GUI thread. GUI thread only.

#include "plan/memory_model.h"

#include <QWidget>

#include <memory>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;
class QTableWidget;

namespace qs {

class MemoryBreakdownChart;

class MemoryTab : public QWidget {
    Q_OBJECT
public:
    enum class WeightsAs { Stored, Scheme, Plan };

    explicit MemoryTab(QWidget* parent = nullptr);

    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    // Describes the model from config.json text instead (false and the reason shown on error).
    bool setConfig(const QString& path);
    void setPanelScheme(const Scheme& scheme);
    void setPlan(std::optional<Plan> plan);
    void setWeightsAs(WeightsAs as);
    void setMode(MemoryMode mode);
    void setContext(int tokens);
    void setBatch(int sequences);
    void setKvDtype(KvDtype dtype);

    const std::optional<MemoryEstimate>& estimate() const { return m_estimate; }
    MemoryBreakdownChart* chart() const { return m_chart; }
    QTableWidget* gpuTable() const { return m_gpus; }
    QString totalText() const;
    int context() const; // tokens per sequence
    QString notesText() const;
    bool isBusy() const { return m_running; }

Q_SIGNALS:
    void updated(); // a new estimate is shown (or an error)

private:
    // A model with a shorter max_position_embeddings than the context takes its own (the
    // default 4096 on a 512-token model priced a context it cannot run).
    void fitContextToModel();
    static constexpr int kDefaultContext = 4096;
    bool m_contextChosen = false; // the user (or setContext) set the context
    void chooseConfig();
    void schedule();
    void compute();
    void show(const Result<MemoryEstimate>& e, const Result<MemoryEstimate>& stored);
    void updateWeightsChoices();
    MemoryOptions options() const;

    std::shared_ptr<const ModelDescription> m_model;
    QString m_modelName;
    std::optional<Scheme> m_scheme;
    std::shared_ptr<const Plan> m_plan;
    std::optional<MemoryEstimate> m_estimate;
    WeightsAs m_as = WeightsAs::Scheme; // what the user chose (the choice may not exist yet)
    quint64 m_generation = 0;
    bool m_running = false;
    bool m_pending = false;

    QLabel* m_source;
    QComboBox* m_weights;
    QComboBox* m_mode;
    QSpinBox* m_context;
    QSpinBox* m_batch;
    QComboBox* m_kv;
    QSpinBox* m_rank;
    QCheckBox* m_checkpointing;
    QLabel* m_total;
    QLabel* m_notes;
    MemoryBreakdownChart* m_chart;
    QTableWidget* m_gpus;
};

} // namespace qs
