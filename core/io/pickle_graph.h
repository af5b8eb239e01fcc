#pragma once
// Walks over an unpickled object graph (internal to the unpickler): cycle detection, breaking a
// graph apart so shared_ptr can free it, and collecting the tensors of a state dict
// (collectTensors, declared in pickle.h). Iterative or budgeted, as hostile pickles nest deeply.

#include "io/pickle.h"

#include <vector>

namespace qs::pickle {

// True when a container reachable from `roots` holds itself, directly or not.
bool hasCycle(const std::vector<Ref>& roots);

// Empties every container in `objects`, so that any cycles among them no longer keep them alive.
void emptyContainers(const std::vector<Ref>& objects);

} // namespace qs::pickle
