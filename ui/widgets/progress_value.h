#pragma once
// QProgressBar::setValue repaints the bar at once, synchronously, whenever its look changes: as a
// sweep started, that held the GUI thread 8-20 ms (a 2-core VM, offscreen), and again at each
// step it drew. This sets the value and leaves the repaint to the event loop (re-enabling
// updates schedules one). GUI thread only.

#include <QProgressBar>

namespace qs {

inline void setProgressValue(QProgressBar* bar, int value) {
    if (bar->value() == value)
        return;
    const bool updates = bar->updatesEnabled();
    bar->setUpdatesEnabled(false);
    bar->setValue(value);
    bar->setUpdatesEnabled(updates);
}

} // namespace qs
