#pragma once
// The "Metrics" dock: error and cost of the selected tensor under the current scheme, as
// analyzeTensor() measured them (the same numbers `quantscope-cli analyze` prints). GUI thread.

#include "analysis/tensor_analysis.h"

#include <QString>
#include <QWidget>

#include <utility>
#include <vector>

class QFormLayout;
class QLabel;

namespace qs {

class MetricsPanel : public QWidget {
    Q_OBJECT
public:
    explicit MetricsPanel(QWidget* parent = nullptr);

    void setAnalysis(const TensorInfo& tensor, const TensorAnalysis& analysis);
    // Dims the values while a newer analysis is being computed.
    void setStale(bool stale);
    // The values come from a sample of rows: dimmed, with `note` above the level note.
    void setPreview(const QString& note);
    void clear(const QString& reason = {});
    // The scheme does not apply to the tensor: the scheme, "n/a" and why, in neutral colours.
    void setNotApplicable(const Scheme& scheme, const QString& message);

    QString sqnrText() const;
    QString valueText(const QString& metric) const; // "rel RMSE", "MSE", "bits/weight", ...
    QString diagnosticsText() const;                // plain text
    QString noteText() const;

private:
    QLabel* addMetric(const QString& name, const QString& tip);

    QFormLayout* m_form;
    QLabel* m_scheme;
    QLabel* m_sqnr;
    QLabel* m_note;
    QLabel* m_diagnostics; // what the quantizer reported, e.g. saturated blocks
    QLabel* m_outErr;      // the output error, where the scheme ran with activations
    std::vector<std::pair<QString, QLabel*>> m_metrics;
};

} // namespace qs
