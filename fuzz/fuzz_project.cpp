// Fuzz target: project JSON. Property: an accepted project survives a save/parse round trip
// unchanged.
#include "project/project_file.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto p = qs::parseProject(text);
    if (!p.ok())
        return 0;
    auto again = qs::parseProject(qs::projectToJson(*p));
    if (!again.ok() || !(*again == *p))
        std::abort();
    return 0;
}
