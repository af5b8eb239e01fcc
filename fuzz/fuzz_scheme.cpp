// Fuzz target: the scheme spec parser. Property: whatever parses prints to a canonical spec
// that parses back to the same scheme (DESIGN.md: parse(print(x)) == x).
#include "quant/scheme.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view spec(reinterpret_cast<const char*>(data), size);
    auto s = qs::Scheme::parse(spec);
    if (!s.ok())
        return 0;
    auto again = qs::Scheme::parse(s->toString());
    if (!again.ok() || !(*again == *s))
        std::abort();
    return 0;
}
