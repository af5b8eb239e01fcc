#pragma once
// The "Tensor" tab: a caption and a 2×2 grid of charts for the selected tensor under the current
// scheme — weights with levels, error, SQNR against bit width, transfer function. Takes point
// lists built on a worker thread. GUI thread only.

#include "charts/plot_data.h"
#include "io/checkpoint.h"
#include "quant/scheme.h"

#include <QWidget>

#include <memory>
#include <optional>
#include <utility>

class QLabel;
class QStackedWidget;

namespace qs {

class ErrorHistogramChart;
class SqnrSweepChart;
class TransferChart;
class WeightHistogramChart;

class TensorTab : public QWidget {
    Q_OBJECT
public:
    explicit TensorTab(QWidget* parent = nullptr);

    // The caption above the charts: the tensor, its shape and how the scheme lays scales over it.
    void setSubject(const TensorInfo* tensor, const Scheme& scheme);
    QString caption() const;
    void setAnalysis(const AnalysisPlots& plots, const QString& family);
    void setSweep(const SweepPlot& sweep);
    void clear();
    // Replaces the charts by a calm note, e.g. why the scheme does not apply to this tensor;
    // with `alternative` (a spec), a link to show that scheme instead (alternativeRequested).
    void showMessage(const QString& title, const QString& detail, const QString& alternative = {});
    QString message() const;
    // The badge beside the caption while the charts show a preview ("" when exact).
    QString previewText() const;

    WeightHistogramChart* weightChart() const { return m_weights; }
    ErrorHistogramChart* errorChart() const { return m_errors; }
    SqnrSweepChart* sweepChart() const { return m_sweep; }
    TransferChart* transferChart() const { return m_transfer; }

Q_SIGNALS:
    void alternativeRequested(const QString& spec);

protected:
    void showEvent(QShowEvent* event) override;

private:
    // Charts are drawn where the tab can be seen (the current tab, shown or not yet shown):
    // behind another tab the latest plots wait here for the tab to show (updating four charts
    // takes the GUI thread 15-35 ms, which a Model-tab sweep has no use for).
    bool drawsNow() const;
    void drawPending();
    std::optional<std::pair<AnalysisPlots, QString>> m_pendingAnalysis;
    std::optional<SweepPlot> m_pendingSweep;

    QLabel* m_caption;
    QLabel* m_preview;
    QStackedWidget* m_pages;
    QLabel* m_message;
    WeightHistogramChart* m_weights;
    ErrorHistogramChart* m_errors;
    SqnrSweepChart* m_sweep;
    TransferChart* m_transfer;
};

} // namespace qs
