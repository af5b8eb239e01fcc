#pragma once
// The fused analysis paths' parallel walk (fused_analysis.cpp, fused_plan.cpp): the matrix in
// fixed blocks of whole rows (about 2^16 elements, at least one row), so partial sums added in
// block order do not depend on the thread schedule. Internal to core/analysis.

#include "quant/registry.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>

namespace qs::fused {

inline std::int64_t rowsPerBlock(MatrixView w) {
    return std::max<std::int64_t>(1, (std::int64_t{1} << 16) / std::max<std::int64_t>(1, w.cols));
}

inline std::int64_t blockCount(MatrixView w) {
    return (w.rows + rowsPerBlock(w) - 1) / rowsPerBlock(w);
}

// body(block, r0, r1) over every block, in parallel; returns false to stop. Progress runs from
// `from` to `to`; false when stopped (by the body or the progress callback).
template <class Body>
bool forEachBlock(MatrixView w, double from, double to, const ProgressFn& progress, Body body) {
    const std::int64_t step = rowsPerBlock(w), blocks = blockCount(w);
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> done{0};
    tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, blocks, 1),
                      [&](const tbb::blocked_range<std::int64_t>& br) {
                          for (std::int64_t b = br.begin(); b != br.end(); ++b) {
                              if (stop.load(std::memory_order_relaxed))
                                  return;
                              const std::int64_t r0 = b * step;
                              if (!body(b, r0, std::min(w.rows, r0 + step))) {
                                  stop = true;
                                  return;
                              }
                              const double f =
                                  static_cast<double>(++done) / static_cast<double>(blocks);
                              if (!reportProgress(progress, from + (to - from) * f))
                                  stop = true;
                          }
                      });
    return !stop;
}

} // namespace qs::fused
