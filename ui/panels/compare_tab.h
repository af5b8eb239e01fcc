#pragma once
// The "Compare" tab: the selected tensor under up to three schemes at equal bits — by default
// linear (int), μ-law and NormalFloat at the Scheme panel's bit width and granularity. Each
// slot is editable (family or spec). Shows the level placement over the weight histogram, the
// transfer functions and a table of metrics and quantizer reports, all in the schemes' colours.
// An "Error" page shows, for the same schemes, signed error against value and where in the
// matrix the error sits (per tile, row and column). Owns its CompareController; computes only
// while the tab is shown. GUI thread only.

#include "io/checkpoint.h"
#include "panels/compare_slots.h"
#include "workers/compare_job.h"

#include <QWidget>

#include <array>
#include <memory>
#include <vector>

class QLabel;
class QTableView;
class QTabWidget;

namespace qs {

class CompareController;
class CompareLevelsChart;
class CompareScatterChart;
class ErrorMapView;
class ScaleLegend;
class CompareSlotEditor;
class CompareTableModel;
class CompareTransferChart;

class CompareTab : public QWidget {
    Q_OBJECT
public:
    explicit CompareTab(QWidget* parent = nullptr);
    ~CompareTab() override;

    void setCheckpoint(std::shared_ptr<const Checkpoint> checkpoint);
    void setTensor(const QString& name);
    // The Scheme panel's scheme: linked slots follow its bits and granularity.
    void setPanelScheme(const Scheme& scheme);
    // The Model tab's activations (or importance matrix): q4_k:imatrix and gptq run with them,
    // and the table gains the output error.
    void setActivations(std::shared_ptr<const ActivationSource> activations);
    void setActive(bool active);
    void shutdown();
    bool isBusy() const;

    // The schemes compared, in slot order (unused slots left out).
    std::vector<Scheme> schemes() const;
    void setSlotFamily(int slot, const QString& family);
    bool setSlotSpec(int slot, const QString& spec);

    CompareLevelsChart* levelsChart() const { return m_levels; }
    CompareTransferChart* transferChart() const { return m_transfer; }
    CompareTableModel* tableModel() const { return m_model; }
    CompareScatterChart* scatterChart() const { return m_scatter; }
    ErrorMapView* errorMap(int slot) const { return m_maps[static_cast<size_t>(slot)]; }
    ScaleLegend* errorMapLegend() const { return m_mapLegend; }
    // The page shown: levels and transfer functions (false) or the error views (true).
    void showErrorView(bool errors);
    bool isErrorViewShown() const;
    CompareSlotEditor* slotEditor(int slot) const { return m_editors[static_cast<size_t>(slot)]; }
    QString statusText() const;

Q_SIGNALS:
    void idle();

private:
    void applySlots();
    void updateCaption();
    void onWeights(const QString& tensor, const std::shared_ptr<const HistogramPlot>& weights);
    void onResult(const QString& tensor, int entry, const std::shared_ptr<const CompareResult>& r);
    void onFailed(const QString& message);
    QColor entryColour(int entry) const;
    bool entryDashed(int entry) const;
    QWidget* buildErrorPage();
    void clearErrorViews();

    CompareController* m_controller;
    std::shared_ptr<const Checkpoint> m_checkpoint;
    QString m_tensor;
    Scheme m_panel;
    std::vector<CompareSlot> m_slots;
    std::vector<Scheme> m_entries; // what the charts and table show
    QLabel* m_caption;
    std::array<CompareSlotEditor*, kCompareSlots> m_editors{};
    CompareLevelsChart* m_levels;
    CompareTransferChart* m_transfer;
    CompareScatterChart* m_scatter;
    std::array<ErrorMapView*, kCompareSlots> m_maps{};
    ScaleLegend* m_mapLegend = nullptr; // the maps' one colour scale
    QTabWidget* m_pages;
    CompareTableModel* m_model;
    QTableView* m_table;
    QLabel* m_status;
};

} // namespace qs
