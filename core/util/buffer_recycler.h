#pragma once
// Large float buffers handed back for the next analysis to reuse. A reconstruction is a fresh
// mmap of tens of MiB (util/malloc_tuning.h keeps such buffers mapped only while in use), so
// each analysis faulted its pages in again and the kernel zeroed every one of them: in a sweep
// of a 1B checkpoint under four schemes, 5 % of the CPU time was the kernel clearing pages for
// the plain path's reconstructions (and, in a VM, each fault traps to the hypervisor). A buffer
// handed back here is kept (at most kRecycledBuffers of them, kRecycledBytes in all; only
// buffers of kRecycleMinBytes or more) and given to the next request its size fits; a request
// that none fits frees them all, so that buffers of a size no longer asked for are not held
// beside the new ones (a sweep's peak memory stays what it was). Thread-safe.

#include <cstddef>
#include <vector>

namespace qs {

inline constexpr std::size_t kRecycleMinBytes = std::size_t{4} << 20;
inline constexpr std::size_t kRecycledBytes = std::size_t{128} << 20;
inline constexpr std::size_t kRecycledBuffers = 2;

// n floats whose values are unspecified (a kept buffer of n to 2n floats, else a new one, zeroed):
// for callers that write every element.
std::vector<float> takeFloatBuffer(std::size_t n);
// Keeps v for takeFloatBuffer when it is large enough and there is room; else frees it.
void recycleFloatBuffer(std::vector<float>&& v);
// Frees every kept buffer (at the end of a sweep, so that an idle process holds none).
void dropRecycledBuffers();
// dropRecycledBuffers() when it goes out of scope.
struct DropRecycledBuffersAtEnd {
    DropRecycledBuffersAtEnd() = default;
    DropRecycledBuffersAtEnd(const DropRecycledBuffersAtEnd&) = delete;
    DropRecycledBuffersAtEnd& operator=(const DropRecycledBuffersAtEnd&) = delete;
    ~DropRecycledBuffersAtEnd() { dropRecycledBuffers(); }
};
// Bytes kept now (for tests).
std::size_t recycledBytes();

} // namespace qs
