#pragma once
// The main window's Learn menu: one entry per lesson (from the catalogue) and a way back to the
// Explore view. The window decides what opening a lesson means. GUI thread only.

#include <functional>

class QMenu;
class QString;

namespace qs {

void populateLearnMenu(QMenu* menu, const std::function<void(const QString& id)>& openLesson,
                       const std::function<void()>& leave);

} // namespace qs
