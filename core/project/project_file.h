#pragma once
// A Quantscope project: the whole working state of the window as a small JSON document, so a
// session can be saved and picked up again (File → Save Project / Open Project).
//
// {"quantscope_project": 1, "paths": [checkpoint...], "tensor": NAME, "scheme": SPEC,
//  "compare_schemes": [SPEC...], "plan": PATH,
//  "sweep": {"schemes": [SPEC...], "activations": "synthetic:T:O:S" | PATH,
//            "activations_tensor": NAME},
//  "view": {"tab": "tensor", "log_histogram": false, "window_state": BASE64,
//           "window_geometry": BASE64}}
//
// Every field but "quantscope_project" is optional. Specs are validated with Scheme::parse and
// stored canonical; the window's layout blobs are opaque base64 the UI produces. Unknown keys are
// ignored (a newer Quantscope may add some). Pure values and functions; any thread.

#include "util/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace qs {

struct Project {
    std::vector<std::string> paths; // opened checkpoints; the first is the one shown
    std::string tensor;             // the selected tensor ("" for none)
    std::string scheme;             // canonical spec of the Scheme panel ("" for the default)
    std::vector<std::string> compareSchemes; // the Compare tab's slots, in order
    std::string planPath;                    // the plan file last used ("" for none)
    std::vector<std::string> sweepSchemes;   // the Model tab's schemes (empty: its default)
    // The Model tab's activations: "" none, a synthetic:... spec, or a file (and its tensor).
    std::string activations, activationsTensor;
    std::string activeTab;      // "tensor", "compare", ...
    bool logHistogram = false;  // the weight histogram's log-y toggle
    std::string windowState;    // base64 (QMainWindow::saveState)
    std::string windowGeometry; // base64 (QWidget::saveGeometry)

    bool operator==(const Project&) const = default;
};

inline constexpr int kProjectVersion = 1;
inline constexpr std::size_t kMaxProjectBytes = 1u << 20; // a project is a few KB

// Parses and validates; the error says which field is wrong and why.
Result<Project> parseProject(std::string_view json);
// Reads `path` (at most kMaxProjectBytes); relative checkpoint and plan paths are resolved
// against the project file's folder.
Result<Project> loadProject(const std::string& path);
std::string projectToJson(const Project& project); // pretty-printed, ends with a newline
Status saveProject(const std::string& path, const Project& project); // atomically

} // namespace qs
