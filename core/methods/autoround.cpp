#include "methods/autoround.h"

#include "methods/method_options.h"
#include "quant/group_quant.h"
#include "quant/int_quant.h"
#include "tensor/dtype.h"

#include <Eigen/Dense>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace qs {
namespace {

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Settings {
    int bits = 4;
    bool sym = true;
    std::int64_t groupCols = 128;
    int iters = 200;
    float lr = 0;
    std::int64_t batch = 0;
    std::uint64_t seed = 42;
};

Result<Settings> readSettings(const Scheme& s, std::int64_t cols, std::int64_t tokens) {
    if (s.granularity == Granularity::Tensor)
        return makeError("scheme " + s.toString() +
                         ": AutoRound tunes per output channel (channel) or per group (gN)");
    auto iters = numericOption(s, "iters", 200, 0, 100000);
    if (!iters)
        return iters.error();
    Settings st;
    st.bits = s.bits;
    st.sym = s.symmetric;
    st.groupCols = s.granularity == Granularity::Channel ? cols : s.groupSize;
    st.iters = static_cast<int>(*iters);
    const double defaultLr =
        st.iters == 0 ? 0.0 : (st.iters >= 1000 && st.bits <= 3 ? 2.0 : 1.0) / st.iters;
    auto lr = numericOption(s, "lr", defaultLr, 0, 10);
    if (!lr)
        return lr.error();
    st.lr = static_cast<float>(*lr);
    const std::int64_t fallbackBatch =
        std::max(std::min<std::int64_t>(tokens, 256), (tokens + 15) / 16);
    auto batch = numericOption(s, "batch", static_cast<double>(fallbackBatch), 1, 1e9);
    if (!batch)
        return batch.error();
    st.batch = std::min<std::int64_t>(tokens, static_cast<std::int64_t>(*batch));
    auto seed = numericOption(s, "order", 42, 0, 1e15);
    if (!seed)
        return seed.error();
    st.seed = static_cast<std::uint64_t>(*seed);
    return st;
}

float fp16(float x) {
    return halfToFloat(floatToHalf(x));
}

// The tunable state and what one qdq pass derives from it.
struct Params {
    RowMajorF v;                    // rounding offsets, W's shape
    std::vector<float> minS, maxS;  // per group, row-major over (row, group)
};

class Tuner {
public:
    Tuner(const RowMajorF& w, const Settings& st) : m_w(w), m_st(st) {
        m_groupsPerRow = (w.cols() + st.groupCols - 1) / st.groupCols;
        const auto groups = static_cast<size_t>(w.rows() * m_groupsPerRow);
        m_gmin.resize(groups);
        m_gmax.resize(groups);
        for (Eigen::Index r = 0; r < w.rows(); ++r)
            for (std::int64_t g = 0; g < m_groupsPerRow; ++g) {
                const std::int64_t c0 = g * st.groupCols;
                const auto seg = w.row(r).segment(c0, std::min(st.groupCols, w.cols() - c0));
                m_gmin[index(r, g)] = std::min(seg.minCoeff(), 0.0f);
                m_gmax[index(r, g)] = std::max(seg.maxCoeff(), 0.0f);
            }
        m_qmax = st.sym ? static_cast<float>((1 << (st.bits - 1)) - 1)
                        : static_cast<float>((1 << st.bits) - 1);
        m_qmin = st.sym ? -static_cast<float>(1 << (st.bits - 1)) : 0.0f;
    }

    std::int64_t groups() const { return static_cast<std::int64_t>(m_gmin.size()); }

    // W^ for the parameters p.
    void qdq(const Params& p, RowMajorF& out) const {
        out.resize(m_w.rows(), m_w.cols());
        tbb::parallel_for(Eigen::Index{0}, m_w.rows(), [&](Eigen::Index r) {
            for (std::int64_t g = 0; g < m_groupsPerRow; ++g) {
                const Group q = group(p, r, g);
                const std::int64_t c0 = g * m_st.groupCols;
                const std::int64_t n = std::min(m_st.groupCols, m_w.cols() - c0);
                for (std::int64_t c = c0; c < c0 + n; ++c) {
                    const float u = std::nearbyint(m_w(r, c) / q.s + p.v(r, c)) + q.zp;
                    out(r, c) = q.s * (std::clamp(u, m_qmin, m_qmax) - q.zp);
                }
            }
        });
    }

    // Gradients of the loss with respect to V, min_scale and max_scale, given dL/dW^ = d.
    void gradients(const Params& p, const RowMajorF& d, RowMajorF& gv, std::vector<float>& gmin,
                   std::vector<float>& gmax) const {
        gv.resize(m_w.rows(), m_w.cols());
        gmin.assign(m_gmin.size(), 0.0f);
        gmax.assign(m_gmax.size(), 0.0f);
        tbb::parallel_for(Eigen::Index{0}, m_w.rows(), [&](Eigen::Index r) {
            for (std::int64_t g = 0; g < m_groupsPerRow; ++g) {
                const Group q = group(p, r, g);
                const std::int64_t c0 = g * m_st.groupCols;
                const std::int64_t n = std::min(m_st.groupCols, m_w.cols() - c0);
                double gs = 0, gzp = 0; // dL/ds (zp held), dL/dzp (s held)
                for (std::int64_t c = c0; c < c0 + n; ++c) {
                    const float w = m_w(r, c);
                    const float u = std::nearbyint(w / q.s + p.v(r, c)) + q.zp;
                    const bool inside = u >= m_qmin && u <= m_qmax;
                    const float qc = std::clamp(u, m_qmin, m_qmax);
                    const float dc = d(r, c);
                    gv(r, c) = inside ? dc * q.s : 0.0f;
                    // W^ = s (qc - zp): dW^/ds = (qc - zp) + s dqc/ds, dqc/ds = -w/s^2 inside.
                    gs += dc * ((qc - q.zp) + (inside ? -w / q.s : 0.0f));
                    // dW^/dzp = s (dqc/dzp - 1) = s ([inside] - 1).
                    gzp += dc * q.s * ((inside ? 1.0f : 0.0f) - 1.0f);
                }
                const size_t k = index(r, g);
                double dwmin = 0, dwmax = 0;
                if (!q.sClamped) {
                    if (m_st.sym) { // s = max_v / 2^(b-1), max_v = -wmin or -wmax
                        const double ds = -gs / static_cast<double>(1 << (m_st.bits - 1));
                        (q.minDominates ? dwmin : dwmax) += ds;
                    } else { // s = (wmax - wmin) / qmax, zp = round(-wmin / s)
                        const double dzpds = q.wmin / (static_cast<double>(q.s) * q.s);
                        const double ds = gs + gzp * dzpds;
                        dwmax += ds / m_qmax;
                        dwmin -= ds / m_qmax;
                    }
                }
                if (!m_st.sym)
                    dwmin += gzp * (-1.0 / q.s); // zp's own dependence on wmin
                gmin[k] = static_cast<float>(dwmin * m_gmin[k]);
                gmax[k] = static_cast<float>(dwmax * m_gmax[k]);
            }
        });
    }

private:
    struct Group {
        float s = 1, zp = 0, wmin = 0;
        bool minDominates = false, sClamped = false;
    };

    size_t index(Eigen::Index r, std::int64_t g) const {
        return static_cast<size_t>(r * m_groupsPerRow + g);
    }

    Group group(const Params& p, Eigen::Index r, std::int64_t g) const {
        const size_t k = index(r, g);
        Group q;
        q.wmin = m_gmin[k] * p.minS[k];
        const float wmax = m_gmax[k] * p.maxS[k];
        float s = 0;
        if (m_st.sym) {
            q.minDominates = std::fabs(q.wmin) > wmax;
            const float maxV = q.minDominates ? std::fabs(q.wmin) : -wmax;
            s = fp16(maxV / static_cast<float>(1 << (m_st.bits - 1)));
        } else {
            s = fp16((wmax - q.wmin) / m_qmax);
        }
        if (std::fabs(s) < 1e-5f) { // clamped, sign kept (a zero scale counts as positive)
            s = std::signbit(s) ? -1e-5f : 1e-5f;
            q.sClamped = true;
        }
        q.s = s;
        q.zp = m_st.sym ? 0.0f : std::nearbyint(-q.wmin / s);
        return q;
    }

    const RowMajorF& m_w;
    const Settings& m_st;
    std::int64_t m_groupsPerRow = 1;
    std::vector<float> m_gmin, m_gmax;
    float m_qmin = 0, m_qmax = 0;
};

// dL/dW^ for L = mean((X_b dW^T)^2) over the minibatch's tokens and the outputs, and L itself:
// row blocks of W^ in parallel (D_r = 2 / (T out) (X_b dW_r^T)^T X_b).
double lossAndGradient(const RowMajorF& dw, const RowMajorF& xb, RowMajorF& d) {
    const Eigen::Index rows = dw.rows();
    const double scale = 1.0 / (static_cast<double>(xb.rows()) * static_cast<double>(rows));
    d.resize(rows, dw.cols());
    constexpr Eigen::Index kBlock = 64;
    const Eigen::Index blocks = (rows + kBlock - 1) / kBlock;
    std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
    tbb::parallel_for(Eigen::Index{0}, blocks, [&](Eigen::Index b) {
        const Eigen::Index r0 = b * kBlock, n = std::min(kBlock, rows - r0);
        const RowMajorF dy = xb * dw.middleRows(r0, n).transpose(); // [T, n]
        partial[static_cast<size_t>(b)] = static_cast<double>(dy.squaredNorm());
        d.middleRows(r0, n) = (static_cast<float>(2 * scale) * dy.transpose()) * xb;
    });
    return std::accumulate(partial.begin(), partial.end(), 0.0) * scale;
}

float signOf(float g) {
    return g > 0 ? 1.0f : (g < 0 ? -1.0f : 0.0f);
}

} // namespace

Result<QuantOutput> quantizeAutoRound(const Scheme& s, MatrixView wv, MatrixView xv,
                                      const ProgressFn& progress) {
    auto settings = readSettings(s, wv.cols, xv.rows);
    if (!settings)
        return settings.error();
    const Settings& st = *settings;
    QuantOutput out;
    out.cost = intStorageCost(s, wv.rows, wv.cols);
    if (wv.size() == 0 || xv.rows == 0)
        return out;
    const RowMajorF W = Eigen::Map<const RowMajorF>(wv.data, wv.rows, wv.cols);
    const Eigen::Map<const RowMajorF> X(xv.data, xv.rows, xv.cols);
    const Tuner tuner(W, st);

    Params p;
    p.v = RowMajorF::Zero(W.rows(), W.cols());
    p.minS.assign(static_cast<size_t>(tuner.groups()), 1.0f);
    p.maxS = p.minS;
    Params best = p;
    double bestLoss = std::numeric_limits<double>::infinity(), firstLoss = 0;
    int bestIter = 0;

    // Minibatches walk a seeded permutation of the tokens.
    std::vector<Eigen::Index> order(static_cast<size_t>(X.rows()));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    std::mt19937_64 rng(st.seed);
    std::shuffle(order.begin(), order.end(), rng);
    RowMajorF xb(st.batch, X.cols()), what, d, gv;
    std::vector<float> gmin, gmax;
    size_t cursor = 0;
    for (int it = 0; it < st.iters; ++it) {
        for (Eigen::Index t = 0; t < st.batch; ++t, ++cursor)
            xb.row(t) = X.row(order[cursor % order.size()]);
        tuner.qdq(p, what);
        const double loss = lossAndGradient(what - W, xb, d);
        if (it == 0)
            firstLoss = loss;
        if (loss < bestLoss) {
            bestLoss = loss;
            best = p;
            bestIter = it;
        }
        tuner.gradients(p, d, gv, gmin, gmax);
        const float lr = st.lr * (1.0f - static_cast<float>(it) / static_cast<float>(st.iters));
        p.v.array() -= lr * gv.array().unaryExpr([](float g) { return signOf(g); });
        for (size_t k = 0; k < p.minS.size(); ++k) {
            p.minS[k] = std::clamp(p.minS[k] - lr * signOf(gmin[k]), 0.0f, 1.0f);
            p.maxS[k] = std::clamp(p.maxS[k] - lr * signOf(gmax[k]), 0.0f, 1.0f);
        }
        if (!reportProgress(progress, 0.98 * (it + 1) / st.iters))
            return cancelledError();
    }
    tuner.qdq(st.iters > 0 ? best : p, what);
    out.reconstruction.assign(what.data(), what.data() + what.size());
    if (st.iters > 0) {
        out.diagnostics.push_back({"autoround_best_iter", static_cast<double>(bestIter),
                                   "iteration whose parameters were kept (lowest loss)"});
        out.diagnostics.push_back(
            {"autoround_loss_ratio", firstLoss > 0 ? bestLoss / firstLoss : 1.0,
             "best minibatch output loss over the loss of plain rounding"});
    }
    return out;
}

} // namespace qs
