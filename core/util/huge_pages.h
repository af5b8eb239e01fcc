#pragma once
// Transparent huge pages for glibc's large allocations. A tensor's floats, a reconstruction or a
// chunk of rows is a fresh mmap of tens of MiB, first touched 4 KiB at a time: a page fault per
// page, which on a virtual machine costs microseconds each (a q4_k analysis of 4096 x 4096 spent
// more than half its time in them). glibc backs such allocations with 2 MiB pages when its
// glibc.malloc.hugetlb tunable is 1 (glibc 2.35 and later; earlier ones ignore it), and reads
// tunables only at startup: so a process that is about to do heavy work runs itself again with it
// set. Nothing happens when the kernel gives huge pages to every mapping anyway or to none, when
// GLIBC_TUNABLES already names the tunable, or when QS_NO_HUGEPAGES is set; if the exec fails the
// process simply goes on.

namespace qs {

// Returns only when it does not re-execute (argv as main received it).
void runWithHugePages(char** argv);

} // namespace qs
