#pragma once
// Writing outputs safely: everything is written to a temporary file beside the target and renamed
// into place, so a failed or cancelled write never leaves half a file, and an input is never
// overwritten.

#include "util/result.h"

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace qs {

// Calls `write` with a stream on a temporary file beside `path`; when it returns an Ok status
// and the stream is good, renames the file to `path`. Otherwise removes it and returns the error.
Status writeFileAtomically(const std::string& path,
                           const std::function<Status(std::ostream&)>& write);

// The same for a string already in memory.
Status writeTextAtomically(const std::string& path, const std::string& text);

// An error when `output` names the same file as one of `inputs` (or a file inside an input
// directory), so an export can never replace what it reads from.
Status refuseOverwritingInputs(const std::string& output, const std::vector<std::string>& inputs);

} // namespace qs
