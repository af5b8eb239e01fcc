#include "metrics/error_map.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>

namespace qs {

double ErrorMap::maxTileRmse() const {
    return tileRmse.empty() ? 0.0 : *std::max_element(tileRmse.begin(), tileRmse.end());
}

ErrorMap computeErrorMap(MatrixView w, std::span<const float> rec, int maxTiles) {
    ErrorMap m;
    if (w.size() == 0 || rec.size() != w.size() || maxTiles < 1)
        return m;
    m.rows = w.rows;
    m.cols = w.cols;
    m.tileRows = (w.rows + maxTiles - 1) / maxTiles;
    m.tileCols = (w.cols + maxTiles - 1) / maxTiles;
    m.gridRows = static_cast<int>((w.rows + m.tileRows - 1) / m.tileRows);
    m.gridCols = static_cast<int>((w.cols + m.tileCols - 1) / m.tileCols);
    std::vector<double> tileSum(static_cast<size_t>(m.gridRows) * m.gridCols, 0.0);
    std::vector<double> colSum(static_cast<size_t>(w.cols), 0.0);
    m.rowRmse.resize(static_cast<size_t>(w.rows));
    for (std::int64_t r = 0; r < w.rows; ++r) {
        const float* a = w.data + r * w.cols;
        const float* b = rec.data() + r * w.cols;
        double* tiles = tileSum.data() + (r / m.tileRows) * m.gridCols;
        double rowSum = 0;
        for (std::int64_t c = 0; c < w.cols; ++c) {
            const double e = static_cast<double>(a[c]) - static_cast<double>(b[c]);
            const double e2 = e * e;
            rowSum += e2;
            colSum[static_cast<size_t>(c)] += e2;
            tiles[c / m.tileCols] += e2;
        }
        m.rowRmse[static_cast<size_t>(r)] = std::sqrt(rowSum / static_cast<double>(w.cols));
    }
    m.colRmse.resize(colSum.size());
    for (size_t c = 0; c < colSum.size(); ++c)
        m.colRmse[c] = std::sqrt(colSum[c] / static_cast<double>(w.rows));
    m.tileRmse.resize(tileSum.size());
    for (int gr = 0; gr < m.gridRows; ++gr) {
        const std::int64_t nr = std::min(m.tileRows, w.rows - gr * m.tileRows);
        for (int gc = 0; gc < m.gridCols; ++gc) {
            const std::int64_t nc = std::min(m.tileCols, w.cols - gc * m.tileCols);
            const size_t k = static_cast<size_t>(gr) * m.gridCols + gc;
            m.tileRmse[k] = std::sqrt(tileSum[k] / static_cast<double>(nr * nc));
        }
    }
    return m;
}

std::vector<ErrorSample> sampleErrors(MatrixView w, std::span<const float> rec,
                                      std::size_t maxPoints, std::size_t largest) {
    const std::size_t n = w.size();
    std::vector<ErrorSample> out;
    if (n == 0 || rec.size() != n)
        return out;
    std::vector<std::size_t> picked;
    const std::size_t stride = maxPoints == 0 ? n + 1 : std::max<std::size_t>(1, n / maxPoints);
    for (std::size_t i = 0; i < n && picked.size() < maxPoints; i += stride)
        picked.push_back(i);
    // The largest errors: a min-heap of (|e|, index) of size `largest`.
    using Item = std::pair<float, std::size_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
    for (std::size_t i = 0; i < n && largest > 0; ++i) {
        const float e = std::abs(w.data[i] - rec[i]);
        if (heap.size() < largest)
            heap.emplace(e, i);
        else if (e > heap.top().first)
            heap.pop(), heap.emplace(e, i);
    }
    for (; !heap.empty(); heap.pop())
        picked.push_back(heap.top().second);
    std::sort(picked.begin(), picked.end());
    picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
    out.reserve(picked.size());
    for (std::size_t i : picked)
        out.push_back({w.data[i], w.data[i] - rec[i]});
    return out;
}

} // namespace qs
