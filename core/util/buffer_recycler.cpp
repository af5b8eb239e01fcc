#include "util/buffer_recycler.h"

#include <algorithm>
#include <mutex>
#include <new>
#include <utility>

namespace qs {
namespace {

constexpr std::align_val_t kScratchAlign{64};

struct Pool {
    std::mutex mutex;
    std::vector<std::vector<float>> kept;
    std::size_t bytes = 0;
    std::byte* scratch = nullptr; // ScratchBytes' kept block
    std::size_t scratchBytes = 0;
};

Pool& pool() {
    static Pool* p = new Pool; // leaked on purpose: analyses may run during static destruction
    return *p;
}

std::size_t bytesOf(const std::vector<float>& v) {
    return v.capacity() * sizeof(float);
}

void freeScratch(std::byte* block) {
    if (block != nullptr)
        ::operator delete(block, kScratchAlign);
}

} // namespace

std::vector<float> takeFloatBuffer(std::size_t n) {
    if (n * sizeof(float) >= kRecycleMinBytes) {
        Pool& p = pool();
        std::vector<float> v;
        std::vector<std::vector<float>> misfits; // freed outside the lock
        {
            const std::lock_guard lock(p.mutex);
            // The smallest kept buffer that holds n without being twice as large.
            auto best = p.kept.end();
            for (auto it = p.kept.begin(); it != p.kept.end(); ++it)
                if (it->size() >= n && it->size() / 2 <= n &&
                    (best == p.kept.end() || it->size() < best->size()))
                    best = it;
            if (best != p.kept.end()) {
                v = std::move(*best);
                p.bytes -= bytesOf(v);
                p.kept.erase(best);
            } else { // the sizes have changed (another tensor): none is kept for later
                misfits.swap(p.kept);
                p.bytes = 0;
            }
        }
        if (!v.empty()) {
            v.resize(n); // shrinking: nothing is written
            return v;
        }
    }
    return std::vector<float>(n);
}

void recycleFloatBuffer(std::vector<float>&& v) {
    std::vector<float> drop = std::move(v); // freed outside the lock unless kept
    if (bytesOf(drop) < kRecycleMinBytes)
        return;
    Pool& p = pool();
    const std::lock_guard lock(p.mutex);
    if (p.kept.size() >= kRecycledBuffers || p.bytes + bytesOf(drop) > kRecycledBytes)
        return;
    p.bytes += bytesOf(drop);
    p.kept.push_back(std::move(drop));
}

void dropRecycledBuffers() {
    std::vector<std::vector<float>> drop;
    std::byte* scratch = nullptr;
    Pool& p = pool();
    {
        const std::lock_guard lock(p.mutex);
        drop.swap(p.kept);
        p.bytes = 0;
        std::swap(scratch, p.scratch);
        p.scratchBytes = 0;
    }
    freeScratch(scratch);
}

std::size_t recycledBytes() {
    Pool& p = pool();
    const std::lock_guard lock(p.mutex);
    return p.bytes;
}

ScratchBytes::ScratchBytes(std::size_t n) {
    if (n >= kScratchMinBytes && n <= kScratchKeptBytes) {
        Pool& p = pool();
        std::byte* misfit = nullptr; // freed outside the lock
        {
            const std::lock_guard lock(p.mutex);
            if (p.scratch != nullptr && p.scratchBytes >= n && p.scratchBytes / 4 < n) {
                data_ = p.scratch;
                capacity_ = p.scratchBytes;
            } else {
                misfit = p.scratch;
            }
            p.scratch = nullptr;
            p.scratchBytes = 0;
        }
        freeScratch(misfit);
    }
    if (data_ == nullptr) {
        capacity_ = std::max<std::size_t>(n, 1);
        data_ = static_cast<std::byte*>(::operator new(capacity_, kScratchAlign));
    }
}

ScratchBytes::~ScratchBytes() {
    std::byte* drop = data_;
    if (capacity_ >= kScratchMinBytes && capacity_ <= kScratchKeptBytes) {
        Pool& p = pool();
        const std::lock_guard lock(p.mutex);
        if (p.scratch == nullptr) { // else another taker's block is kept: this one is freed
            p.scratch = data_;
            p.scratchBytes = capacity_;
            drop = nullptr;
        }
    }
    freeScratch(drop);
}

std::size_t keptScratchBytes() {
    Pool& p = pool();
    const std::lock_guard lock(p.mutex);
    return p.scratchBytes;
}

} // namespace qs
