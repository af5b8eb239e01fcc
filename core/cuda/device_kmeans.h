#pragma once
// The `kmeans` family's fit (quant/kmeans_quant.cpp) for one small group, written for both
// sides: the CUDA kernels run it one thread per group, and test_device_math runs it on the host
// against quantizeKmeans, every bit. It repeats the CPU's arithmetic step for step on fixed-size
// arrays: the sorted values with their prefix sums (the same sums, so the same bits), the
// quantile and uniform-grid starts, Lloyd's iterations with the empty-cell split, and the exact
// dynamic program (its divide and conquer on an explicit stack). Groups of up to kKmMaxN values
// and up to kKmMaxK levels (kmeans1..kmeans4); larger ones stay on the CPU. The order of equal
// values after sorting (-0 and +0) changes no sum, quantile or level, so any correct sort will do.

#include "cuda/device_scalar.h"

namespace qs::dev {

constexpr int kKmMaxN = 128, kKmMaxK = 16;

// One group's working memory (about 12 KiB: a thread's slot in device memory on the GPU).
struct KmWork {
    float x[kKmMaxN]; // the sorted values
    int n;
    double f1[kKmMaxN + 1], f2[kKmMaxN + 1];                   // prefix sums of x and x^2
    double cnt[kKmMaxN + 1], u1[kKmMaxN + 1], u2[kKmMaxN + 1]; // the dynamic program's units
    double prev[kKmMaxN + 1], cur[kKmMaxN + 1];
    short arg[kKmMaxK * (kKmMaxN + 1)];
    int stack[4 * 64];
};

struct KmFitResult {
    float levels[kKmMaxK]; // the fitted levels, fp32, in cluster order
    double distortion;
};

QS_HD double kmMax0(double v) { // std::max(0.0, v)
    return 0.0 < v ? v : 0.0;
}

// SortedSums for n <= kKmMaxN: kmeans_quant.cpp tabulates every prefix for groups this small,
// the chunk's sum so far from its start (chunks of 64).
QS_HD void kmPrepare(KmWork& w) {
    constexpr int stride = 64;
    const int n = w.n, chunks = n / stride + 1;
    double c1 = 0, c2 = 0; // the sums of the chunks before
    for (int c = 0; c < chunks; ++c) {
        double a = c1, b = c2, own1 = 0, own2 = 0;
        const int end = (c + 1) * stride < n ? (c + 1) * stride : n;
        for (int i = c * stride; i < end; ++i) {
            w.f1[i] = a;
            w.f2[i] = b;
            a += w.x[i];
            b += static_cast<double>(w.x[i]) * w.x[i];
            own1 += w.x[i];
            own2 += static_cast<double>(w.x[i]) * w.x[i];
        }
        if (c == n / stride) {
            w.f1[n] = n % stride ? a : c1;
            w.f2[n] = n % stride ? b : c2;
        }
        c1 += own1;
        c2 += own2;
    }
}

QS_HD void kmSums(const KmWork& w, int a, int b, double& s1, double& s2) {
    s1 = w.f1[b] - w.f1[a];
    s2 = w.f2[b] - w.f2[a];
}

QS_HD int kmCountNotAbove(const KmWork& w, double t) { // std::upper_bound
    int lo = 0, hi = w.n;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (t < static_cast<double>(w.x[mid]))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

// Cell boundaries of the levels c (a value on a midpoint to the lower level) and their distortion.
QS_HD double kmAssign(const KmWork& w, const double* c, int k, int* bounds) {
    bounds[0] = 0;
    bounds[k] = w.n;
    for (int i = 1; i < k; ++i) {
        const int b = kmCountNotAbove(w, 0.5 * (c[i - 1] + c[i]));
        bounds[i] = bounds[i - 1] < b ? b : bounds[i - 1];
    }
    double d = 0;
    for (int i = 0; i < k; ++i) {
        if (bounds[i + 1] == bounds[i])
            continue;
        double s1 = 0, s2 = 0;
        kmSums(w, bounds[i], bounds[i + 1], s1, s2);
        d += kmMax0(s2 - 2 * c[i] * s1 +
                    c[i] * c[i] * static_cast<double>(bounds[i + 1] - bounds[i]));
    }
    return d;
}

struct KmSegment {
    int begin, end;
    double mean, sse;
};

QS_HD KmSegment kmSegment(const KmWork& w, int a, int b) {
    double s1 = 0, s2 = 0;
    kmSums(w, a, b, s1, s2);
    const auto n = static_cast<double>(b - a);
    const double mean = s1 / n;
    return {a, b, mean, kmMax0(s2 - s1 * mean)};
}

// One Lloyd update: the means of the non-empty cells; empty cells filled by splitting the cell
// with the largest squared error at its mean; the top level repeated when values run out.
QS_HD void kmUpdate(const KmWork& w, const int* bounds, int k, double* levels) {
    KmSegment segs[kKmMaxK];
    int count = 0;
    for (int i = 0; i < k; ++i)
        if (bounds[i + 1] > bounds[i])
            segs[count++] = kmSegment(w, bounds[i], bounds[i + 1]);
    while (count < k) {
        int worst = -1;
        for (int i = 0; i < count; ++i) {
            const bool splittable = w.x[segs[i].begin] != w.x[segs[i].end - 1];
            if (splittable && (worst < 0 || segs[i].sse > segs[worst].sse))
                worst = i;
        }
        if (worst < 0)
            break;
        const KmSegment s = segs[worst];
        int cut = s.begin;
        while (cut < s.end && static_cast<double>(w.x[cut]) <= s.mean)
            ++cut;
        if (cut == s.begin || cut == s.end) {
            cut = s.begin + 1;
            while (w.x[cut] == w.x[s.begin])
                ++cut;
        }
        for (int i = count; i > worst + 1; --i)
            segs[i] = segs[i - 1];
        segs[worst] = kmSegment(w, s.begin, cut);
        segs[worst + 1] = kmSegment(w, cut, s.end);
        ++count;
    }
    for (int i = 0; i < count; ++i)
        levels[i] = segs[i].mean;
    for (int i = count; i < k; ++i)
        levels[i] = levels[count - 1];
}

QS_HD KmFitResult kmLloyd(const KmWork& w, const double* start, int k, int maxIterations,
                          double relTolerance) {
    double c[kKmMaxK], next[kKmMaxK];
    int bounds[kKmMaxK + 1], nextBounds[kKmMaxK + 1];
    for (int i = 0; i < k; ++i)
        c[i] = start[i];
    double d = kmAssign(w, c, k, bounds);
    for (int it = 0; it < maxIterations; ++it) {
        kmUpdate(w, bounds, k, next);
        const double nd = kmAssign(w, next, k, nextBounds);
        if (nd > d)
            break;
        const double prev = d;
        for (int i = 0; i < k; ++i)
            c[i] = next[i];
        for (int i = 0; i <= k; ++i)
            bounds[i] = nextBounds[i];
        d = nd;
        if (prev - d <= relTolerance * prev)
            break;
    }
    KmFitResult r;
    r.distortion = d;
    for (int i = 0; i < k; ++i)
        r.levels[i] = static_cast<float>(c[i]);
    return r;
}

QS_HD double kmQuantile(const KmWork& w, double p) { // numpy's linear interpolation
    const double pos = p * static_cast<double>(w.n - 1);
    const auto i = static_cast<int>(pos);
    if (i + 1 >= w.n)
        return w.x[w.n - 1];
    return w.x[i] + (pos - static_cast<double>(i)) * (static_cast<double>(w.x[i + 1]) - w.x[i]);
}

QS_HD void kmUniformGrid(const KmWork& w, int k, double* c) {   // the `int` family's asym grid
    const float lo = 0.0f < w.x[0] ? 0.0f : w.x[0];             // std::min(x[0], 0)
    const float hi = w.x[w.n - 1] < 0.0f ? 0.0f : w.x[w.n - 1]; // std::max(x[n-1], 0)
    const float scale = (hi - lo) / static_cast<float>(k - 1);
    if (!(scale > 0)) {
        for (int q = 0; q < k; ++q)
            c[q] = 0.0;
        return;
    }
    const float zero = rne(-lo / scale);
    for (int q = 0; q < k; ++q)
        c[q] = scale * (static_cast<float>(q) - zero);
}

// The exact 1-D k-means optimum over the single values (ClusterDp with units = n <= 1024).
QS_HD void kmDynamicProgram(KmWork& w, int k, double* means) {
    const int m = w.n;
    w.cnt[0] = w.u1[0] = w.u2[0] = 0;
    for (int u = 0; u < m; ++u) {
        double a = 0, b = 0;
        kmSums(w, u, u + 1, a, b);
        w.cnt[u + 1] = w.cnt[u] + 1.0;
        w.u1[u + 1] = w.u1[u] + a;
        w.u2[u + 1] = w.u2[u] + b;
    }
    const double inf = 1.0 / 0.0;
    for (int i = 0; i <= m; ++i)
        w.prev[i] = inf;
    w.prev[0] = 0;
    for (int c = 1; c <= k; ++c) {
        for (int i = 0; i <= m; ++i)
            w.cur[i] = inf;
        // fill(c, prev, cur, c, m, c - 1, m - 1), its recursion on a stack: each entry is
        // computed once from prev alone, so the order does not matter.
        int top = 0;
        w.stack[top++] = c;
        w.stack[top++] = m;
        w.stack[top++] = c - 1;
        w.stack[top++] = m - 1;
        while (top > 0) {
            const int optHi = w.stack[--top], optLo = w.stack[--top];
            const int hi = w.stack[--top], lo = w.stack[--top];
            if (lo > hi)
                continue;
            const int mid = (lo + hi) / 2;
            int best = optLo;
            double bestCost = inf;
            const int last = mid - 1 < optHi ? mid - 1 : optHi;
            for (int j = optLo; j <= last; ++j) {
                const double n = w.cnt[mid] - w.cnt[j], s = w.u1[mid] - w.u1[j];
                const double v = w.prev[j] + kmMax0(w.u2[mid] - w.u2[j] - s * s / n);
                if (v < bestCost) {
                    bestCost = v;
                    best = j;
                }
            }
            w.cur[mid] = bestCost;
            w.arg[(c - 1) * (m + 1) + mid] = static_cast<short>(best);
            w.stack[top++] = lo;
            w.stack[top++] = mid - 1;
            w.stack[top++] = optLo;
            w.stack[top++] = best;
            w.stack[top++] = mid + 1;
            w.stack[top++] = hi;
            w.stack[top++] = best;
            w.stack[top++] = optHi;
        }
        for (int i = 0; i <= m; ++i)
            w.prev[i] = w.cur[i];
    }
    int end = m;
    for (int c = k; c >= 1; --c) {
        const int begin = w.arg[(c - 1) * (m + 1) + end];
        means[c - 1] = (w.u1[end] - w.u1[begin]) / (w.cnt[end] - w.cnt[begin]);
        end = begin;
    }
}

// fitSorted: the best of Lloyd from the quantiles, from the uniform grid and (K <= 16, more
// values than levels, not all equal) from the dynamic program's optimum. w.x sorted, w.n > 0.
QS_HD KmFitResult kmFit(KmWork& w, int k, int maxIterations, double relTolerance) {
    kmPrepare(w);
    double start[kKmMaxK];
    for (int i = 0; i < k; ++i)
        start[i] = kmQuantile(w, (i + 0.5) / k);
    KmFitResult best = kmLloyd(w, start, k, maxIterations, relTolerance);
    kmUniformGrid(w, k, start);
    KmFitResult f = kmLloyd(w, start, k, maxIterations, relTolerance);
    if (f.distortion < best.distortion)
        best = f;
    if (w.n > k && w.x[0] != w.x[w.n - 1]) {
        kmDynamicProgram(w, k, start);
        f = kmLloyd(w, start, k, maxIterations, relTolerance);
        if (f.distortion < best.distortion)
            best = f;
    }
    return best;
}

// A group's code book as stored: the fitted levels in fp16 (clamped to stay finite), sorted
// (insertion sort, stable as std::sort is on so few), and its reconstruction of value v.
QS_HD void kmStoredBook(const KmFitResult& f, int k, float* book) {
    for (int i = 0; i < k; ++i)
        book[i] = toStoredHalf(f.levels[i]);
    for (int i = 1; i < k; ++i) {
        const float v = book[i];
        int j = i;
        for (; j > 0 && v < book[j - 1]; --j)
            book[j] = book[j - 1];
        book[j] = v;
    }
}
QS_HD float kmRec(const float* book, int k, float v) {
    if (v != v)
        return book[0]; // nearestLevelIndex gives NaN index 0
    int below = 0;      // midpoints (exact, rounded once to float) strictly below v
    for (int i = 0; i + 1 < k; ++i)
        below += static_cast<float>((static_cast<double>(book[i]) + book[i + 1]) * 0.5) < v;
    return book[below];
}

// Sorts a group's n values into w.x (insertion sort).
QS_HD void kmSortInto(KmWork& w, int n) {
    w.n = n;
    for (int i = 1; i < n; ++i) {
        const float v = w.x[i];
        int j = i;
        for (; j > 0 && v < w.x[j - 1]; --j)
            w.x[j] = w.x[j - 1];
        w.x[j] = v;
    }
}

} // namespace qs::dev
