#include "util/huge_pages.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#if defined(__linux__) && defined(__GLIBC__)
#include <unistd.h>
#endif

namespace qs {

void runWithHugePages(char** argv) {
#if defined(__linux__) && defined(__GLIBC__)
    if (std::getenv("QS_NO_HUGEPAGES") != nullptr)
        return;
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.hugetlb") != nullptr)
        return; // already set (by us before the exec, or by the user)
    // "always [madvise] never": only under madvise does the tunable change anything.
    std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string mode;
    if (!std::getline(thp, mode) || mode.find("[madvise]") == std::string::npos)
        return;
    std::string value = "glibc.malloc.hugetlb=1";
    if (tunables != nullptr && *tunables != '\0')
        value = std::string(tunables) + ":" + value;
    if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    // Still here: the exec failed. Carry on without; make a child process not try again.
#else
    (void)argv;
#endif
}

} // namespace qs
