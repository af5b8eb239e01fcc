#include "quant/kmeans_quant.h"

#include "quant/group_quant.h"
#include "tensor/dtype.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <string>

namespace qs {
namespace {

// Sorted values with sparse prefix sums: cell sums in O(log n + kStride) without the 16 bytes
// per element full prefix sums would cost on a large tensor. Up to kFullMax values (a group or a
// row) every prefix is tabulated, so a cell sum is O(1); the table holds the very values the
// sparse walk adds up (the chunk's sum so far from its start), so the sums are the same bits.
class SortedSums {
public:
    explicit SortedSums(std::vector<float> sorted) : m_x(std::move(sorted)) {
        const std::size_t n = m_x.size(), chunks = n / kStride + 1;
        m_s1.assign(chunks + 1, 0.0);
        m_s2.assign(chunks + 1, 0.0);
        for (std::size_t c = 0; c < chunks; ++c) {
            double a = 0, b = 0;
            for (std::size_t i = c * kStride; i < std::min(n, (c + 1) * kStride); ++i) {
                a += m_x[i];
                b += static_cast<double>(m_x[i]) * m_x[i];
            }
            m_s1[c + 1] = m_s1[c] + a;
            m_s2[c + 1] = m_s2[c] + b;
        }
        if (n > kFullMax)
            return;
        m_f1.resize(n + 1);
        m_f2.resize(n + 1);
        for (std::size_t c = 0; c < chunks; ++c) {
            double a = m_s1[c], b = m_s2[c];
            for (std::size_t i = c * kStride; i < std::min(n, (c + 1) * kStride); ++i) {
                m_f1[i] = a;
                m_f2[i] = b;
                a += m_x[i];
                b += static_cast<double>(m_x[i]) * m_x[i];
            }
            if (c == n / kStride) { // the chunk n falls in: prefix(n) walks it from its start
                m_f1[n] = n % kStride ? a : m_s1[c];
                m_f2[n] = n % kStride ? b : m_s2[c];
            }
        }
    }
    std::size_t size() const { return m_x.size(); }
    float operator[](std::size_t i) const { return m_x[i]; }
    // Number of values <= t.
    std::size_t countNotAbove(double t) const {
        return static_cast<std::size_t>(
            std::upper_bound(m_x.begin(), m_x.end(), t,
                             [](double v, float e) { return v < static_cast<double>(e); }) -
            m_x.begin());
    }
    // Sum and sum of squares of [a, b).
    void sums(std::size_t a, std::size_t b, double& s1, double& s2) const {
        s1 = prefix(b, m_s1, false) - prefix(a, m_s1, false);
        s2 = prefix(b, m_s2, true) - prefix(a, m_s2, true);
    }

private:
    static constexpr std::size_t kStride = 64;
    static constexpr std::size_t kFullMax = std::size_t{1} << 20;
    double prefix(std::size_t i, const std::vector<double>& p, bool squares) const {
        if (!m_f1.empty())
            return squares ? m_f2[i] : m_f1[i];
        const std::size_t c = i / kStride;
        double s = p[c];
        for (std::size_t j = c * kStride; j < i; ++j)
            s += squares ? static_cast<double>(m_x[j]) * m_x[j] : m_x[j];
        return s;
    }
    std::vector<float> m_x;
    std::vector<double> m_s1, m_s2;
    std::vector<double> m_f1, m_f2; // every prefix, up to kFullMax values
};

struct Segment {
    std::size_t begin, end; // [begin, end) of the sorted values
    double mean;
    double sse;
};

Segment makeSegment(const SortedSums& x, std::size_t a, std::size_t b) {
    double s1 = 0, s2 = 0;
    x.sums(a, b, s1, s2);
    const auto n = static_cast<double>(b - a);
    const double mean = s1 / n;
    return {a, b, mean, std::max(0.0, s2 - s1 * mean)};
}

// One Lloyd update: the means of the non-empty cells; empty cells are filled by splitting the
// cell with the largest squared error at its mean (both halves then get their own means).
std::vector<double> updateLevels(const SortedSums& x, const std::vector<std::size_t>& bounds,
                                 int k) {
    std::vector<Segment> segs;
    for (int i = 0; i < k; ++i)
        if (bounds[i + 1] > bounds[i])
            segs.push_back(makeSegment(x, bounds[i], bounds[i + 1]));
    while (static_cast<int>(segs.size()) < k) {
        int worst = -1;
        for (int i = 0; i < static_cast<int>(segs.size()); ++i) {
            const auto& s = segs[i];
            const bool splittable = x[s.begin] != x[s.end - 1];
            if (splittable && (worst < 0 || s.sse > segs[worst].sse))
                worst = i;
        }
        if (worst < 0)
            break; // fewer distinct values than levels: every value is a level
        const Segment s = segs[worst];
        std::size_t cut = s.begin;
        while (cut < s.end && static_cast<double>(x[cut]) <= s.mean)
            ++cut;
        if (cut == s.begin || cut == s.end) { // rounding put the mean on an edge
            cut = s.begin + 1;
            while (x[cut] == x[s.begin])
                ++cut;
        }
        segs[worst] = makeSegment(x, s.begin, cut);
        segs.insert(segs.begin() + worst + 1, makeSegment(x, cut, s.end));
    }
    std::vector<double> levels;
    for (const auto& s : segs)
        levels.push_back(s.mean);
    while (static_cast<int>(levels.size()) < k) // repeat the top level: never chosen twice
        levels.push_back(levels.back());
    return levels;
}

// Cell boundaries of the current levels (a value on a midpoint goes to the lower level) and the
// distortion of that assignment.
double assign(const SortedSums& x, const std::vector<double>& c, std::vector<std::size_t>& bounds) {
    const int k = static_cast<int>(c.size());
    bounds.assign(static_cast<std::size_t>(k) + 1, 0);
    bounds[static_cast<std::size_t>(k)] = x.size();
    for (int i = 1; i < k; ++i)
        bounds[i] = std::max(bounds[i - 1], x.countNotAbove(0.5 * (c[i - 1] + c[i])));
    double d = 0;
    for (int i = 0; i < k; ++i) {
        if (bounds[i + 1] == bounds[i])
            continue;
        double s1 = 0, s2 = 0;
        x.sums(bounds[i], bounds[i + 1], s1, s2);
        d += std::max(0.0, s2 - 2 * c[i] * s1 +
                               c[i] * c[i] * static_cast<double>(bounds[i + 1] - bounds[i]));
    }
    return d;
}

KmeansFit lloyd(const SortedSums& x, std::vector<double> c, const KmeansOptions& o) {
    const int k = static_cast<int>(c.size());
    std::vector<std::size_t> bounds;
    KmeansFit fit;
    double prev = std::numeric_limits<double>::infinity();
    double d = assign(x, c, bounds);
    for (int it = 0; it < o.maxIterations; ++it) {
        std::vector<double> next = updateLevels(x, bounds, k);
        std::vector<std::size_t> nextBounds;
        const double nd = assign(x, next, nextBounds);
        if (nd > d)
            break; // rounding noise: keep the better levels
        prev = d;
        c = std::move(next);
        bounds = std::move(nextBounds);
        d = nd;
        fit.iterations = it + 1;
        if (prev - d <= o.relTolerance * prev)
            break;
    }
    fit.distortion = d;
    for (double v : c)
        fit.levels.push_back(static_cast<float>(v));
    return fit;
}

// numpy's linear-interpolation quantile of sorted values.
double quantile(const SortedSums& x, double p) {
    const double pos = p * static_cast<double>(x.size() - 1);
    const auto i = static_cast<std::size_t>(pos);
    if (i + 1 >= x.size())
        return x[x.size() - 1];
    return x[i] + (pos - static_cast<double>(i)) * (static_cast<double>(x[i + 1]) - x[i]);
}

// The levels of the `int` family's asym grid (DESIGN.md): lo = min(min, 0), hi = max(max, 0).
std::vector<double> uniformGrid(const SortedSums& x, int k) {
    const float lo = std::min(x[0], 0.0f), hi = std::max(x[x.size() - 1], 0.0f);
    const float scale = (hi - lo) / static_cast<float>(k - 1);
    std::vector<double> c(static_cast<std::size_t>(k));
    if (!(scale > 0))
        return std::vector<double>(static_cast<std::size_t>(k), 0.0);
    const float zero = std::nearbyint(-lo / scale);
    for (int q = 0; q < k; ++q)
        c[q] = scale * (static_cast<float>(q) - zero);
    return c;
}

// Optimal contiguous clustering of `units` (runs of the sorted values) into k clusters by
// dynamic programming, D[c][i] = min_j D[c-1][j] + sse(units j..i-1), with the split points'
// monotonicity (divide and conquer, as Ckmeans.1d.dp) for O(k m log m). With single values as
// units this is the exact 1-D k-means optimum; with equal-count chunks, a near-optimal start.
class ClusterDp {
public:
    ClusterDp(const SortedSums& x, std::size_t units) : m_m(static_cast<int>(units)) {
        m_edge.resize(units + 1);
        for (std::size_t u = 0; u <= units; ++u)
            m_edge[u] = x.size() * u / units;
        m_cnt.assign(units + 1, 0);
        m_s1.assign(units + 1, 0);
        m_s2.assign(units + 1, 0);
        for (std::size_t u = 0; u < units; ++u) {
            double a = 0, b = 0;
            x.sums(m_edge[u], m_edge[u + 1], a, b);
            m_cnt[u + 1] = m_cnt[u] + static_cast<double>(m_edge[u + 1] - m_edge[u]);
            m_s1[u + 1] = m_s1[u] + a;
            m_s2[u + 1] = m_s2[u] + b;
        }
    }
    // Means of the k optimal clusters, in order.
    std::vector<double> solve(int k) {
        const double inf = std::numeric_limits<double>::infinity();
        std::vector<double> prev(static_cast<std::size_t>(m_m) + 1, inf), cur(prev.size());
        m_arg.assign(static_cast<std::size_t>(k) * (m_m + 1), 0);
        prev[0] = 0;
        for (int c = 1; c <= k; ++c) {
            std::fill(cur.begin(), cur.end(), inf);
            fill(c, prev, cur, c, m_m, c - 1, m_m - 1);
            std::swap(prev, cur);
        }
        std::vector<double> means(static_cast<std::size_t>(k));
        int end = m_m;
        for (int c = k; c >= 1; --c) {
            const int begin = m_arg[static_cast<std::size_t>(c - 1) * (m_m + 1) + end];
            means[c - 1] = (m_s1[end] - m_s1[begin]) / (m_cnt[end] - m_cnt[begin]);
            end = begin;
        }
        return means;
    }

private:
    double cost(int a, int b) const { // units [a, b)
        const double n = m_cnt[b] - m_cnt[a], s = m_s1[b] - m_s1[a];
        return std::max(0.0, m_s2[b] - m_s2[a] - s * s / n);
    }
    void fill(int c, const std::vector<double>& prev, std::vector<double>& cur, int lo, int hi,
              int optLo, int optHi) {
        if (lo > hi)
            return;
        const int mid = (lo + hi) / 2;
        int best = optLo;
        double bestCost = std::numeric_limits<double>::infinity();
        for (int j = optLo; j <= std::min(mid - 1, optHi); ++j) {
            const double v = prev[j] + cost(j, mid);
            if (v < bestCost) {
                bestCost = v;
                best = j;
            }
        }
        cur[mid] = bestCost;
        m_arg[static_cast<std::size_t>(c - 1) * (m_m + 1) + mid] = best;
        fill(c, prev, cur, lo, mid - 1, optLo, best);
        fill(c, prev, cur, mid + 1, hi, best, optHi);
    }
    int m_m;
    std::vector<std::size_t> m_edge;
    std::vector<double> m_cnt, m_s1, m_s2;
    std::vector<int> m_arg;
};

// Up to this many units the dynamic program runs on single values (exact optimum); above, on
// this many equal-count chunks. Only for K <= kDpMaxLevels: the cost grows with K.
constexpr std::size_t kDpUnits = 1024;
constexpr int kDpMaxLevels = 16;

KmeansFit fitSorted(const SortedSums& x, int k, const KmeansOptions& o) {
    if (x.size() == 0)
        return {std::vector<float>(static_cast<std::size_t>(k), 0.0f), 0, 0};
    std::vector<double> q(static_cast<std::size_t>(k));
    for (int i = 0; i < k; ++i)
        q[i] = quantile(x, (i + 0.5) / k);
    KmeansFit best = lloyd(x, std::move(q), o);
    auto consider = [&](KmeansFit f) {
        if (f.distortion < best.distortion)
            best = std::move(f);
    };
    consider(lloyd(x, uniformGrid(x, k), o));
    if (k <= kDpMaxLevels && x.size() > static_cast<std::size_t>(k) && x[0] != x[x.size() - 1]) {
        ClusterDp dp(x, std::min(x.size(), kDpUnits));
        consider(lloyd(x, dp.solve(k), o));
    }
    return best;
}

} // namespace

Result<KmeansOptions> kmeansOptions(const Scheme& s) {
    KmeansOptions o;
    if (auto it = s.extra.find("iters"); it != s.extra.end()) {
        char* end = nullptr;
        const long v = std::strtol(it->second.c_str(), &end, 10);
        if (*end || v < 1 || v > 100000)
            return makeError("scheme " + s.toString() + ": iters must be 1..100000");
        o.maxIterations = static_cast<int>(v);
    }
    if (auto it = s.extra.find("tol"); it != s.extra.end()) {
        char* end = nullptr;
        const double v = std::strtod(it->second.c_str(), &end);
        if (*end || !(v >= 0) || v >= 1)
            return makeError("scheme " + s.toString() + ": tol must be in [0, 1)");
        o.relTolerance = v;
    }
    return o;
}

KmeansFit fitLloydMax(std::span<const float> values, int k, const KmeansOptions& options) {
    std::vector<float> v(values.begin(), values.end());
    std::sort(v.begin(), v.end());
    return fitSorted(SortedSums(std::move(v)), k, options);
}

void describeKmeans(const Scheme& s, std::int64_t rows, std::int64_t cols, std::int64_t widest,
                    const std::vector<float>& widestBook, QuantOutput& out) {
    const GroupLayout layout = groupLayout(s, rows, cols);
    const std::int64_t groups = rows * cols == 0 ? 0 : layout.groupCount(rows);
    out.cost.elements = static_cast<std::uint64_t>(rows * cols);
    out.cost.payloadBits = out.cost.elements * static_cast<std::uint64_t>(s.bits);
    out.cost.extraBits =
        static_cast<std::uint64_t>(groups) * static_cast<std::uint64_t>(1 << s.bits) * 16;
    if (widest < 0)
        return;
    out.levels = widestBook;
    out.levelsNote =
        layout.wholeTensor
            ? "code book of the tensor"
            : "code book of the widest " +
                  std::string(s.granularity == Granularity::Channel ? "row" : "group") + " (row " +
                  std::to_string(widest / layout.groupsPerRow) +
                  (s.granularity == Granularity::Channel
                       ? std::string()
                       : ", group " + std::to_string(widest % layout.groupsPerRow)) +
                  ")";
}

Result<QuantOutput> quantizeKmeans(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    auto opts = kmeansOptions(s);
    if (!opts)
        return opts.error();
    if (s.bits < 1 || s.bits > 8)
        return makeError("scheme " + s.toString() + ": kmeans1..kmeans8");
    const int k = 1 << s.bits;
    const GroupLayout layout = groupLayout(s, m.rows, m.cols);
    const std::int64_t groups = m.size() == 0 ? 0 : layout.groupCount(m.rows);
    std::vector<std::vector<float>> books(static_cast<std::size_t>(groups));
    QuantOutput out;
    out.reconstruction.resize(m.size());

    // Group g's values: the whole tensor, or a run of one row.
    auto groupSpan = [&](std::int64_t g) {
        if (layout.wholeTensor)
            return std::span<const float>(m.data, m.size());
        const std::int64_t r = g / layout.groupsPerRow,
                           c0 = (g % layout.groupsPerRow) * layout.groupCols;
        const std::int64_t c1 = std::min(m.cols, c0 + layout.groupCols);
        return std::span<const float>(m.data + r * m.cols + c0, static_cast<std::size_t>(c1 - c0));
    };
    auto fitGroup = [&](std::int64_t g, bool parallelSort) {
        const auto x = groupSpan(g);
        std::vector<float> v(x.begin(), x.end());
        if (parallelSort)
            tbb::parallel_sort(v.begin(), v.end());
        else
            std::sort(v.begin(), v.end());
        std::vector<float> levels = fitSorted(SortedSums(std::move(v)), k, *opts).levels;
        for (auto& l : levels) // stored as fp16; clamp so a huge level stays finite
            l = halfToFloat(floatToHalf(std::clamp(l, -65504.0f, 65504.0f)));
        std::sort(levels.begin(), levels.end());
        const std::vector<float> mids = levelMidpoints(levels);
        float* rec = out.reconstruction.data() + (x.data() - m.data);
        for (std::size_t i = 0; i < x.size(); ++i)
            rec[i] = levels[nearestLevelIndex(mids, x[i])];
        books[static_cast<std::size_t>(g)] = std::move(levels);
    };

    if (layout.wholeTensor && groups == 1) {
        // One code book for the whole tensor: no groups to poll between, so ask before and
        // after the fit (a cancel then waits for one sort and fit at most, not a sweep).
        if (!reportProgress(progress, 0.0))
            return cancelledError();
        fitGroup(0, true);
        if (!reportProgress(progress, 0.9))
            return cancelledError();
    } else {
        std::atomic<bool> cancelled{false};
        std::atomic<std::int64_t> done{0};
        std::mutex progressMutex;
        tbb::parallel_for(
            tbb::blocked_range<std::int64_t>(0, groups),
            [&](const tbb::blocked_range<std::int64_t>& r) {
                if (cancelled.load(std::memory_order_relaxed))
                    return;
                for (std::int64_t g = r.begin(); g != r.end(); ++g)
                    fitGroup(g, false);
                const auto n = done.fetch_add(static_cast<std::int64_t>(r.size())) +
                               static_cast<std::int64_t>(r.size());
                std::lock_guard lock(progressMutex);
                if (!reportProgress(progress, static_cast<double>(n) / static_cast<double>(groups)))
                    cancelled = true;
            });
        if (cancelled)
            return cancelledError();
    }

    std::int64_t widest = -1;
    float widestRange = -1;
    for (std::int64_t g = 0; g < groups; ++g) {
        const auto& b = books[static_cast<std::size_t>(g)];
        if (b.back() - b.front() > widestRange) {
            widestRange = b.back() - b.front();
            widest = g;
        }
    }
    describeKmeans(s, m.rows, m.cols, widest,
                   widest >= 0 ? books[static_cast<std::size_t>(widest)] : std::vector<float>{},
                   out);
    if (!reportProgress(progress, 1.0))
        return cancelledError();
    return out;
}

} // namespace qs
