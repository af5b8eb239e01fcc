#include "util/buffer_recycler.h"

#include <algorithm>
#include <mutex>
#include <utility>

namespace qs {
namespace {

struct Pool {
    std::mutex mutex;
    std::vector<std::vector<float>> kept;
    std::size_t bytes = 0;
};

Pool& pool() {
    static Pool* p = new Pool; // leaked on purpose: analyses may run during static destruction
    return *p;
}

std::size_t bytesOf(const std::vector<float>& v) {
    return v.capacity() * sizeof(float);
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
    Pool& p = pool();
    {
        const std::lock_guard lock(p.mutex);
        drop.swap(p.kept);
        p.bytes = 0;
    }
}

std::size_t recycledBytes() {
    Pool& p = pool();
    const std::lock_guard lock(p.mutex);
    return p.bytes;
}

} // namespace qs
