#include "util/malloc_tuning.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace qs {

void keepLargeBuffersMapped() {
#if defined(__GLIBC__)
    if (std::getenv("QS_MALLOC_DEFAULTS") != nullptr)
        return;
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.mmap_threshold") != nullptr)
        return; // the user's setting stands
    mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
#endif
}

} // namespace qs
