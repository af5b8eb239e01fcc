#pragma once
// glibc's allocator, kept from hoarding freed buffers across threads. By default glibc serves an
// allocation of 128 KiB or more with a fresh mmap (returned to the system on free) but raises that
// threshold, up to 32 MiB, each time such a mapping is freed; from then on buffers below it come
// from the allocating thread's own heap arena, and freed memory there mostly stays with the
// process. With a worker per core each arena keeps its own few such buffers: a sweep of a
// 2.3 GiB checkpoint peaked at 470 MiB on 16 threads against 270 MiB on 2. A fixed threshold
// (which also turns the raising off) keeps every buffer of 8 MiB or more mapped only while in use.

namespace qs {

inline constexpr int kMmapThresholdBytes = 8 << 20;

// Fixes glibc's mmap threshold at kMmapThresholdBytes, unless GLIBC_TUNABLES already sets
// glibc.malloc.mmap_threshold or QS_MALLOC_DEFAULTS is set; a no-op on other C libraries.
void keepLargeBuffersMapped();

} // namespace qs
