#pragma once
// The CUDA engine's runs emulated on the host, step by step as its kernels take them (for
// test_device_math): per group for the round-to-nearest families, HQQ's solver, SINQ's rounds,
// kmeans' per-group fits. Every function computes with the device's own arithmetic
// (cuda/device_*.h), so comparing the result with the CPU quantizers checks that arithmetic and
// the engine's order of steps wherever the tests run.

#include "cuda/device_plan.h"
#include "methods/matrix_imbalance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

namespace qs::test {

struct Emulated {
    std::vector<float> rec;
    DeviceSummary summary;
};

// SINQ as the engine runs it (cuda_engine_methods.cpp, sinq_kernels.cu), step by step: the
// weight's deviations, the rounds (every tile's row and column deviations, then each tile's
// decision), the groups quantized, the normalised weight's deviations, the tiles' means.
inline void emulateSinq(const DevicePlan& plan, MatrixView w, Emulated& e) {
    const SinqSetup& u = plan.sinq;
    DeviceSummary& sum = e.summary;
    const long long rows = u.rows, cols = u.cols, th = u.th, tw = u.tw, colTiles = u.colTiles;
    const long long colN = u.rowTiles * cols, rowN = rows * colTiles;
    const long long tiles = u.rowTiles * colTiles;
    std::vector<float> logMu1(colN, 0.0f), mu1(colN, 1.0f), colScale(colN, 1.0f);
    std::vector<float> logMu2(rowN, 0.0f), mu2(rowN, 1.0f), rowScale(rowN, 1.0f), s1(rowN), z(rowN);
    std::vector<double> rs(rowN), cs(colN);
    std::vector<dev::SinqTileState> st(tiles, dev::SinqTileState{0, 0, 0, 0});
    auto x = [&](long long r, long long c) { return w.data[r * cols + c]; };
    auto tileOf = [&](long long r, long long tc) { return (r / th) * colTiles + tc; };
    auto fullImbalance = [&](bool normalised) {
        auto value = [&](long long r, long long c) {
            const float v = x(r, c);
            return normalised ? v / colScale[(r / th) * cols + c] / rowScale[r * colTiles + c / tw]
                              : v;
        };
        std::vector<double> rsd(rows), csd(cols);
        for (long long r = 0; r < rows; ++r)
            rsd[r] = dev::sinqStdDev([&](long long c) { return value(r, c); }, cols);
        for (long long c = 0; c < cols; ++c)
            csd[c] = dev::sinqStdDev([&](long long r) { return value(r, c); }, rows);
        return imbalanceFromDeviations(rsd, csd);
    };
    sum.sinq.imbalanceBefore = fullImbalance(false);
    sum.sinq.kurtosis = sinqKurtosis(w);
    sum.sinq.fallback = u.kurtosisFallback && sum.sinq.kurtosis > 5.0;
    const int order = sum.sinq.fallback ? 0 : u.order;
    for (int it = 0; it < std::max(order, 1); ++it) {
        const bool first = it == 0, step = order > 0;
        for (long long k = 0; k < rowN; ++k) {
            const long long r = k / colTiles, tc = k % colTiles, t = tileOf(r, tc);
            const auto g = dev::sinqTile(t, rows, cols, th, tw, colTiles);
            if (g.h < 2 || g.w < 2 || st[t].frozen)
                continue;
            rs[k] = dev::sinqStdDev(
                [&](long long j) { return x(r, g.c0 + j) / mu1[g.tr * cols + g.c0 + j] / mu2[k]; },
                g.w);
        }
        for (long long k = 0; k < colN; ++k) {
            const long long tr = k / cols, c = k % cols, tc = c / tw, t = tr * colTiles + tc;
            const auto g = dev::sinqTile(t, rows, cols, th, tw, colTiles);
            if (g.h < 2 || g.w < 2 || st[t].frozen)
                continue;
            cs[k] = dev::sinqStdDev(
                [&](long long i) {
                    return x(g.r0 + i, c) / mu1[k] / mu2[(g.r0 + i) * colTiles + tc];
                },
                g.h);
        }
        for (long long t = 0; t < tiles; ++t) {
            const auto g = dev::sinqTile(t, rows, cols, th, tw, colTiles);
            if (g.h < 2 || g.w < 2) {
                if (first)
                    st[t].before = st[t].best = std::numeric_limits<double>::quiet_NaN();
                continue;
            }
            if (!first && st[t].frozen)
                continue;
            double hi = -INFINITY, lo = INFINITY, minR = 1e300, minC = 1e300;
            for (long long i = 0; i < g.h; ++i) {
                const double v = rs[(g.r0 + i) * colTiles + g.tc];
                hi = std::max(hi, v);
                lo = std::min(lo, v);
                minR = std::min(minR, dev::sinqClampStd(v));
            }
            for (long long j = 0; j < g.w; ++j) {
                const double v = cs[g.tr * cols + g.c0 + j];
                hi = std::max(hi, v);
                lo = std::min(lo, v);
                minC = std::min(minC, dev::sinqClampStd(v));
            }
            const double imb = hi / std::max(lo, 1e-12);
            if (first) {
                st[t].tgt = static_cast<float>(std::min(minR, minC) + 1e-6);
                st[t].before = st[t].best = imb;
            }
            if (!step)
                continue;
            if (imb > st[t].best) {
                st[t].frozen = 1;
                continue;
            }
            st[t].best = imb;
            for (long long j = 0; j < g.w; ++j) {
                const long long k = g.tr * cols + g.c0 + j;
                colScale[k] = mu1[k];
                logMu1[k] = dev::sinqStepLog(logMu1[k], cs[k], st[t].tgt);
                mu1[k] = dev::sinqExp(logMu1[k]);
            }
            for (long long i = 0; i < g.h; ++i) {
                const long long k = (g.r0 + i) * colTiles + g.tc;
                rowScale[k] = mu2[k];
                logMu2[k] = dev::sinqStepLog(logMu2[k], rs[k], st[t].tgt);
                mu2[k] = dev::sinqExp(logMu2[k]);
            }
        }
    }
    unsigned long long key = 0;
    for (long long k = 0; k < rowN; ++k) {
        const long long r = k / colTiles, tc = k % colTiles, t = tileOf(r, tc);
        const auto g = dev::sinqTile(t, rows, cols, th, tw, colTiles);
        const float* s2 = colScale.data() + g.tr * cols + g.c0;
        float* out = e.rec.data() + r * cols + g.c0;
        const auto q = dev::sinqQuantizeRow(
            u.grid, u.bits, u.codebook.data(), static_cast<int>(u.codebook.size()),
            [&](long long j) { return x(r, g.c0 + j) / s2[j] / rowScale[k]; }, g.w,
            [&](long long j, float v) { out[j] = v; });
        s1[k] = dev::toStoredHalf(q.scale * rowScale[k]);
        z[k] = dev::toStoredHalf(q.zero);
        for (long long j = 0; j < g.w; ++j)
            out[j] = (out[j] - z[k]) * s1[k] * dev::toStoredHalf(s2[j]);
        key = std::max(key, dev::widestKey(s1[k], static_cast<std::uint32_t>(k)));
    }
    sum.sinq.imbalanceAfter = fullImbalance(true);
    for (const auto& t : st) {
        sum.sinq.tileBefore += t.before / static_cast<double>(tiles);
        sum.sinq.tileAfter += t.best / static_cast<double>(tiles);
    }
    if (key) {
        sum.sinq.widest = dev::widestIndex(key);
        sum.sinq.widestScale = s1[sum.sinq.widest];
        sum.sinq.widestZero = z[sum.sinq.widest];
    }
}

// What the kernels do: the tensor's min/max where the plan needs them, then per group its
// min/max, its parameters, each element's reconstruction and flags, and the widest group.
inline Emulated emulate(DevicePlan plan, MatrixView w) {
    Emulated e;
    e.rec.assign(w.size(), 0.0f);
    DeviceSummary& sum = e.summary;
    sum.tensorMin = *std::min_element(w.data, w.data + w.size());
    sum.tensorMax = *std::max_element(w.data, w.data + w.size());
    if (plan.mxFam.nv) {
        plan.mxFam.tensorScale = nvfp4TensorScale(sum.tensorMin, sum.tensorMax);
        if (plan.mxFam.tensorScale == 0.0f)
            return e;
    }
    if (plan.family == DeviceFamily::Sinq) {
        emulateSinq(plan, w, e);
        return e;
    }
    if (plan.family == DeviceFamily::Kmeans) { // a group per thread (kmeansKernel)
        const int k = 1 << plan.kmeansBits;
        auto work = std::make_unique<dev::KmWork>();
        std::vector<float> books(static_cast<std::size_t>(plan.groupCount() * k));
        unsigned long long key = 0;
        for (std::int64_t gi = 0; gi < plan.groupCount(); ++gi) {
            const std::int64_t r = gi / plan.groupsPerRow;
            const std::int64_t c0 = (gi % plan.groupsPerRow) * plan.groupCols;
            const auto n = static_cast<int>(std::min(plan.groupCols, plan.cols - c0));
            const float* x = w.data + r * plan.cols + c0;
            std::copy(x, x + n, work->x);
            dev::kmSortInto(*work, n);
            const dev::KmFitResult f =
                dev::kmFit(*work, k, plan.kmeans.maxIterations, plan.kmeans.relTolerance);
            float* book = books.data() + gi * k;
            dev::kmStoredBook(f, k, book);
            for (int i = 0; i < n; ++i)
                e.rec[static_cast<std::size_t>(r * plan.cols + c0 + i)] = dev::kmRec(book, k, x[i]);
            key = std::max(key,
                           dev::widestKey(book[k - 1] - book[0], static_cast<std::uint32_t>(gi)));
        }
        sum.widestKey = key;
        if (key) {
            const float* b = books.data() + dev::widestIndex(key) * k;
            sum.kmeansBook.assign(b, b + k);
        }
        return e;
    }
    const dev::NfFam nf = plan.nfFam();
    const dev::CompandFam compand = plan.compandFam();
    // HQQ: the solver first, as the engine runs it (hqq_kernels.cu): a group per thread, the
    // error summed over the groups, early stop; then the passes read its stored parameters.
    std::vector<dev::HqqParams> hqqParams;
    std::vector<dev::HqqStored> hqqStored;
    dev::HqqFam hqq;
    if (plan.family == DeviceFamily::Hqq) {
        const std::int64_t groups = plan.groupCount();
        hqqParams.resize(static_cast<std::size_t>(groups));
        for (std::int64_t j = 0; j < groups; ++j) {
            const float* x = w.data + j * plan.groupCols;
            float lo = x[0], hi = lo;
            for (std::int64_t k = 1; k < plan.groupCols; ++k) {
                lo = x[k] < lo ? x[k] : lo;
                hi = hi < x[k] ? x[k] : hi;
            }
            hqqParams[static_cast<std::size_t>(j)] = dev::hqqStart(lo, hi, plan.hqqBits);
        }
        hqq.maxq = static_cast<float>((1 << plan.hqqBits) - 1);
        float beta = plan.hqq.beta;
        double best = 1e4;
        for (int i = 0; i < plan.hqq.iterations; ++i) {
            const auto settings = dev::hqqStepSettings(hqq.maxq, beta, plan.hqq.lpNorm);
            double absSum = 0;
            for (std::int64_t j = 0; j < groups; ++j) {
                const float* x = w.data + j * plan.groupCols;
                double acc = 0;
                dev::HqqParams& p = hqqParams[static_cast<std::size_t>(j)];
                p.z = dev::hqqStep([&](long long k) { return x[k]; }, plan.groupCols, p, settings,
                                   acc);
                absSum += acc;
            }
            const double err = absSum / static_cast<double>(w.size());
            beta *= plan.hqq.kappa;
            if (i == 0)
                sum.hqqStartMeanAbsError = err;
            sum.hqqIterations = i + 1;
            if (err < best)
                best = err;
            else
                break;
        }
        sum.hqqBestMeanAbsError = best;
        for (const dev::HqqParams& p : hqqParams)
            hqqStored.push_back(dev::hqqStored(p));
        hqq.params = hqqParams.data();
        hqq.stored = hqqStored.data();
    }
    for (std::int64_t r = 0; r < plan.rows; ++r)
        for (std::int64_t g = 0; g < plan.groupsPerRow; ++g) {
            const std::int64_t c0 = g * plan.groupCols;
            const std::int64_t n = std::min(plan.groupCols, plan.cols - c0);
            const float* x = w.data + r * plan.cols + c0;
            float* out = e.rec.data() + r * plan.cols + c0;
            float mn = sum.tensorMin, mx = sum.tensorMax;
            if (!plan.wholeTensor) {
                mn = *std::min_element(x, x + n);
                mx = *std::max_element(x, x + n);
            }
            if (plan.family == DeviceFamily::KQuant) { // a (super-)block; keys per sub-block
                dev::KBlock b;
                plan.kFam.quantize(x, b);
                for (int k = 0; k < plan.kFam.blockSize(); ++k)
                    out[k] = plan.kFam.rec(b, k);
                const int subs = plan.kFam.subBlocks();
                for (int j = 0; j < subs; ++j) {
                    if (std::isnan(b.step[j]))
                        continue;
                    const auto index =
                        static_cast<std::uint32_t>((r * plan.groupsPerRow + g) * subs + j);
                    sum.widestKey =
                        std::max(sum.widestKey, dev::widestKey(std::fabs(b.step[j]), index));
                }
                continue;
            }
            unsigned flags = 0;
            float key = 0;
            auto run = [&](const auto& fam, const auto& p) {
                for (std::int64_t k = 0; k < n; ++k)
                    out[k] = dev::deviceRec(fam, p, x[k], flags);
                key = p.key;
            };
            switch (plan.family) {
            case DeviceFamily::Int:
                run(plan.intFam, plan.intFam.group(mn, mx));
                break;
            case DeviceFamily::Nf:
                run(nf, nf.group(mn, mx));
                break;
            case DeviceFamily::Compand:
                run(compand, compand.group(mn, mx));
                break;
            case DeviceFamily::Legacy:
                run(plan.legacyFam,
                    plan.legacyFam.group(
                        mn, mx, firstOfMagnitude(x, n, std::max(std::fabs(mn), std::fabs(mx)))));
                break;
            case DeviceFamily::Q8_0:
                run(plan.q8Fam, plan.q8Fam.group(mn, mx));
                break;
            case DeviceFamily::Fp:
                run(plan.fpFam, plan.fpFam.group(mn, mx));
                break;
            case DeviceFamily::Mx:
                run(plan.mxFam, plan.mxFam.group(mn, mx));
                break;
            case DeviceFamily::Hqq:
                run(hqq, hqq.groupAt(r * plan.groupsPerRow + g));
                break;
            case DeviceFamily::KQuant:
            case DeviceFamily::Sinq:
            case DeviceFamily::Kmeans:
                break;
            }
            const auto gi = static_cast<std::uint32_t>(r * plan.groupsPerRow + g);
            const std::uint32_t index =
                plan.family == DeviceFamily::Mx ? static_cast<std::uint32_t>(r) : gi;
            if (!std::isnan(key))
                sum.widestKey = std::max(sum.widestKey, dev::widestKey(key, index));
            if (plan.family == DeviceFamily::Mx) {
                const float amax = std::max(std::fabs(mn), std::fabs(mx));
                if (flags & dev::kNanBlock)
                    ++sum.nanBlocks;
                else {
                    sum.saturated += (flags & dev::kSaturated) ? 1 : 0;
                    sum.flushed += !(flags & dev::kNonZero) && amax > 0.0f ? 1 : 0;
                }
            }
        }
    if (plan.family == DeviceFamily::Hqq && sum.widestKey)
        sum.hqqWidestZero = hqqStored[dev::widestIndex(sum.widestKey)].zero;
    return e;
}

} // namespace qs::test
