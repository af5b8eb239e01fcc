#pragma once
// Walks over an unpickled object graph (internal to the unpickler): cycle detection, breaking a
// graph apart so shared_ptr can free it, and collecting the tensors of a state dict
// (collectTensors, declared in pickle.h). Iterative or budgeted, as hostile pickles nest deeply.

#include "io/pickle.h"

#include <cstddef>
#include <vector>

namespace qs::pickle {

// True when a container reachable from `roots` holds itself, directly or not.
bool hasCycle(const std::vector<Ref>& roots);

// How deeply containers nest below `root` (1 for a leaf), counting along the longest chain of
// an acyclic graph; stops counting once it passes `cap` (and returns cap + 1).
std::size_t nestingDepth(const Ref& root, std::size_t cap);

// Empties every container in `objects`, so that any cycles among them no longer keep them alive.
void emptyContainers(const std::vector<Ref>& objects);

} // namespace qs::pickle
