#pragma once
// Status-bar selector of the compute backend (Auto / CPU / CUDA) beside the name of the device
// that computes: "CUDA · NVIDIA H100 80GB HBM3" or "CPU · AMD EPYC 7B13 (2 threads)". Where CUDA
// was asked for and cannot run, the CPU computes and the tooltip and a status note say why.
// The choice is remembered. The GPU is looked for off the GUI thread (a CUDA context takes a
// moment to create). GUI thread only.

#include "analysis/compute_backend.h"

#include <QWidget>

class QComboBox;
class QLabel;

namespace qs {

class BackendSelector : public QWidget {
    Q_OBJECT
public:
    explicit BackendSelector(QWidget* parent = nullptr);

    // Selects `choice` (and shows it in the combo box) without asking the user. The device is
    // looked for off the GUI thread; the label says so meanwhile.
    void apply(Backend choice);
    // The remembered choice (Auto on first start).
    static Backend remembered();

Q_SIGNALS:
    // The backend changed; `note` says why the CPU computes where CUDA was asked for (or empty).
    void backendChanged(const QString& note);

private:
    Backend current() const;
    // Selects `choice` once the device engine has been tried (off this thread); `announce`:
    // emit backendChanged.
    void select(Backend choice, bool announce);
    void show(const BackendStatus& status, Backend requested);

    QComboBox* m_combo;
    QLabel* m_device;
    int m_generation = 0; // the latest select(); an older one finishing late is dropped
};

} // namespace qs
