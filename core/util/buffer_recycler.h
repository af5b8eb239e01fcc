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
#include <memory>
#include <new>
#include <type_traits>
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

// Scratch memory of at least n bytes for one analysis (64-byte aligned, contents unspecified):
// the fused paths' tables of group parameters or error bounds, 2.5 MiB for int4:g128 on 4096 x
// 4096. Freed, a block of that size went back to the system (glibc trims its heap), and the next
// analysis faulted it in again and had the kernel zero it: in this VM, with transparent huge
// pages, 7 % of that analysis's CPU time. One block is kept between takers (kScratchMinBytes to
// kScratchKeptBytes) and given to the next whose n it holds, unless n is a quarter of it or less
// (it is then freed); dropRecycledBuffers() frees it. Thread-safe: a taker while the block is
// out gets a new one.
inline constexpr std::size_t kScratchMinBytes = std::size_t{64} << 10;
inline constexpr std::size_t kScratchKeptBytes = std::size_t{32} << 20;

class ScratchBytes {
public:
    explicit ScratchBytes(std::size_t n);
    ~ScratchBytes();
    ScratchBytes(const ScratchBytes&) = delete;
    ScratchBytes& operator=(const ScratchBytes&) = delete;
    std::byte* data() const { return data_; }
    std::size_t capacity() const { return capacity_; }
    // The block as count objects of a trivial T (count * sizeof(T) <= capacity()): their
    // lifetimes begin, nothing is written.
    template <class T> T* as(std::size_t count) const {
        static_assert(std::is_trivially_default_constructible_v<T> &&
                      std::is_trivially_destructible_v<T> && alignof(T) <= 64);
        std::uninitialized_default_construct_n(reinterpret_cast<T*>(data_), count);
        return std::launder(reinterpret_cast<T*>(data_));
    }

private:
    std::byte* data_ = nullptr;
    std::size_t capacity_ = 0;
};
// Bytes of the scratch block kept now (for tests).
std::size_t keptScratchBytes();

} // namespace qs
