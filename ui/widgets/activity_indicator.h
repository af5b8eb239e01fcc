#pragma once
// Status-bar progress bar and Cancel button, shown only while work runs (and only once it has
// run for a moment, so quick updates do not flicker). GUI thread only.

#include <QTimer>
#include <QWidget>

class QProgressBar;
class QToolButton;

namespace qs {

class ActivityIndicator : public QWidget {
    Q_OBJECT
public:
    static constexpr int kShowDelayMs = 200;

    explicit ActivityIndicator(QWidget* parent = nullptr);

    void setBusy(bool busy);
    bool isBusy() const { return m_busy; }
    // Fraction in [0, 1]; negative for work of unknown length.
    void setProgress(double fraction);

Q_SIGNALS:
    void cancelRequested();

private:
    QProgressBar* m_bar;
    QToolButton* m_cancel;
    QTimer m_showDelay;
    bool m_busy = false;
};

} // namespace qs
