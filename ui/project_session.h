#pragma once
// The bridge between a MainWindow and a project file (core/project/project_file.h): what the
// window's state is, as a Project, and how to put a Project back into a window. GUI thread only.

#include "project/project_file.h"

#include <QString>

namespace qs {

class MainWindow;

// The window's working state: the open checkpoint, the selected tensor, the Scheme panel's and
// the Compare tab's schemes, the plan last used, the Model tab's schemes and activations, the
// active tab, the log-y toggle and the layout.
Project captureProject(const MainWindow& window);

// Opens the project's first checkpoint in the background (then selects its tensor) and sets the
// schemes, plan, tab, toggle and layout. Returns "" or a note on what could not be restored.
QString restoreProject(MainWindow& window, const Project& project);

} // namespace qs
