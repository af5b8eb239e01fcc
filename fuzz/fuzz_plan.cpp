// Fuzz target: plan JSON. Property: an accepted plan survives a save/load round trip unchanged.
#include "plan/plan_file.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto p = qs::parsePlan(text);
    if (!p.ok())
        return 0;
    auto again = qs::parsePlan(qs::planToJson(*p));
    if (!again.ok() || again->tensors != p->tensors || again->defaultSpec != p->defaultSpec)
        std::abort();
    return 0;
}
