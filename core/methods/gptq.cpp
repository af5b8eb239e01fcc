#include "methods/gptq.h"

#include "methods/method_options.h"
#include "quant/int_quant.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qs {
namespace {

// Double throughout: the reference runs in float32, but the error propagation is a long chain
// of updates and double keeps rounding flips (a whole step of error) from depending on order.
using Mat = Eigen::MatrixXd; // column-major: one weight column is contiguous
using Vec = Eigen::VectorXd;
using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Per-output-row parameters of the GPTQ quantizer (NUMERICS.md §5.2) for one group of columns.
struct GroupParams {
    Vec scale, zero;
};

GroupParams findParams(const Eigen::Ref<const Mat>& w, int maxq, bool sym) {
    GroupParams p{Vec(w.rows()), Vec(w.rows())};
    for (Eigen::Index r = 0; r < w.rows(); ++r) {
        double xmin = std::min(w.row(r).minCoeff(), 0.0);
        double xmax = std::max(w.row(r).maxCoeff(), 0.0);
        if (sym) {
            xmax = std::max(-xmin, xmax);
            if (xmin < 0)
                xmin = -xmax;
        }
        if (xmin == 0 && xmax == 0) {
            xmin = -1;
            xmax = 1;
        }
        p.scale[r] = (xmax - xmin) / maxq;
        // sym keeps the unrounded midpoint (8 for 4 bits) even for an all-positive group.
        p.zero[r] = sym ? (maxq + 1) / 2.0 : std::nearbyint(-xmin / p.scale[r]);
    }
    return p;
}

Vec quantizeColumn(const Vec& w, const GroupParams& p, int maxq) {
    Vec q(w.size());
    for (Eigen::Index r = 0; r < w.size(); ++r) {
        const double code = std::clamp(std::nearbyint(w[r] / p.scale[r]) + p.zero[r], 0.0,
                                       static_cast<double>(maxq));
        q[r] = p.scale[r] * (code - p.zero[r]);
    }
    return q;
}

struct Settings {
    int maxq = 15;
    bool sym = true;
    std::int64_t groupSize = 0; // 0: one group per row (channel)
    std::int64_t block = 128;
    double damp = 0.01;
    bool actOrder = false, staticGroups = false;
};

Result<Settings> readSettings(const Scheme& s) {
    if (s.granularity == Granularity::Tensor)
        return makeError("scheme " + s.toString() +
                         ": GPTQ quantizes per output channel (channel) or per group (gN), "
                         "not per tensor");
    auto damp = numericOption(s, "damp", 0.01, 0.0, 10.0);
    if (!damp)
        return damp.error();
    auto block = numericOption(s, "block", 128, 1, 1 << 20);
    if (!block)
        return block.error();
    Settings st;
    st.maxq = (1 << s.bits) - 1;
    st.sym = s.symmetric;
    st.groupSize = s.granularity == Granularity::Channel ? 0 : s.groupSize;
    st.block = static_cast<std::int64_t>(*block);
    st.damp = *damp;
    st.actOrder = flagOption(s, "act_order");
    st.staticGroups = flagOption(s, "static_groups");
    return st;
}

// The widest scale seen decides which group's levels the UI shows.
struct WidestGroup {
    double scale = -1, zero = 0;
    void take(const GroupParams& p) {
        Eigen::Index r = 0;
        if (p.scale.size() > 0 && p.scale.maxCoeff(&r) > scale) {
            scale = p.scale[r];
            zero = p.zero[r];
        }
    }
};

} // namespace

Result<QuantOutput> quantizeGptq(const Scheme& s, MatrixView wv, MatrixView xv,
                                 const ProgressFn& progress) {
    auto settings = readSettings(s);
    if (!settings)
        return settings.error();
    const Settings& st = *settings;
    const Eigen::Index rows = wv.rows, cols = wv.cols;
    if (wv.size() == 0)
        return QuantOutput{{}, intStorageCost(s, rows, cols), {}, {}, {}};
    Mat W = Eigen::Map<const RowMajorF>(wv.data, rows, cols).cast<double>();
    const Eigen::Map<const RowMajorF> X(xv.data, xv.rows, xv.cols);
    // H = 2 X^T X / n (the reference's running average over batches ends at the same value).
    Mat H = Mat::Zero(cols, cols);
    H.selfadjointView<Eigen::Lower>().rankUpdate(X.cast<double>().transpose(),
                                                 2.0 / static_cast<double>(xv.rows));
    H.triangularView<Eigen::StrictlyUpper>() = H.transpose();
    if (!reportProgress(progress, 0.05))
        return cancelledError();

    WidestGroup widest;
    GroupParams channel;
    if (st.groupSize == 0) {
        channel = findParams(W, st.maxq, st.sym); // before dead columns are zeroed, as reference
        widest.take(channel);
    }
    std::int64_t dead = 0;
    for (Eigen::Index i = 0; i < cols; ++i)
        if (H(i, i) == 0) {
            H(i, i) = 1;
            W.col(i).setZero();
            ++dead;
        }
    std::vector<GroupParams> groups;
    if (st.groupSize > 0 && st.staticGroups)
        for (Eigen::Index c = 0; c < cols; c += st.groupSize) {
            groups.push_back(findParams(
                W.middleCols(c, std::min<Eigen::Index>(st.groupSize, cols - c)), st.maxq, st.sym));
            widest.take(groups.back());
        }
    std::vector<Eigen::Index> perm(static_cast<std::size_t>(cols));
    std::iota(perm.begin(), perm.end(), 0);
    if (st.actOrder) {
        // Stable, so equal diagonals keep their order and the result is deterministic.
        const Vec d = H.diagonal();
        std::stable_sort(perm.begin(), perm.end(),
                         [&](Eigen::Index a, Eigen::Index b) { return d[a] > d[b]; });
        Mat Wp(rows, cols), Hp(cols, cols);
        for (Eigen::Index j = 0; j < cols; ++j) {
            Wp.col(j) = W.col(perm[static_cast<std::size_t>(j)]);
            for (Eigen::Index i = 0; i < cols; ++i)
                Hp(i, j) = H(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(j)]);
        }
        W = std::move(Wp);
        H = std::move(Hp);
    }
    H.diagonal().array() += st.damp * H.diagonal().mean();
    Eigen::LLT<Mat> llt(H);
    if (llt.info() != Eigen::Success)
        return makeError("scheme " + s.toString() +
                         ": the Hessian is not positive definite; raise damp (e.g. damp=0.1)");
    Eigen::LLT<Mat> lltInv(llt.solve(Mat::Identity(cols, cols)));
    if (lltInv.info() != Eigen::Success)
        return makeError("scheme " + s.toString() +
                         ": the inverse Hessian is not positive definite; raise damp");
    const Mat U = lltInv.matrixU(); // H^-1 = U^T U
    if (!reportProgress(progress, 0.2))
        return cancelledError();

    Mat Q(rows, cols);
    double loss = 0;
    GroupParams current = channel;
    for (Eigen::Index i1 = 0; i1 < cols; i1 += st.block) {
        const Eigen::Index count = std::min<Eigen::Index>(st.block, cols - i1);
        Mat W1 = W.middleCols(i1, count);
        Mat Err1(rows, count);
        for (Eigen::Index i = 0; i < count; ++i) {
            const Eigen::Index col = i1 + i;
            if (st.groupSize > 0) {
                if (st.staticGroups) {
                    current = groups[static_cast<std::size_t>(perm[static_cast<std::size_t>(col)] /
                                                              st.groupSize)];
                } else if (col % st.groupSize == 0) {
                    // From W, not W1: the reference reads the full matrix here.
                    current = findParams(
                        W.middleCols(col, std::min<Eigen::Index>(st.groupSize, cols - col)),
                        st.maxq, st.sym);
                    widest.take(current);
                }
            }
            const Vec w = W1.col(i);
            const Vec q = quantizeColumn(w, current, st.maxq);
            Q.col(col) = q;
            const double d = U(i1 + i, i1 + i);
            loss += (w - q).squaredNorm() / (d * d) / 2;
            const Vec err = (w - q) / d;
            W1.rightCols(count - i).noalias() -= err * U.row(col).segment(col, count - i);
            Err1.col(i) = err;
        }
        const Eigen::Index rest = cols - i1 - count;
        if (rest > 0)
            W.rightCols(rest).noalias() -= Err1 * U.block(i1, i1 + count, count, rest);
        if (!reportProgress(progress, 0.2 + 0.8 * static_cast<double>(i1 + count) /
                                                static_cast<double>(cols)))
            return cancelledError();
    }

    QuantOutput out;
    out.reconstruction.resize(wv.size());
    for (Eigen::Index j = 0; j < cols; ++j)
        for (Eigen::Index r = 0; r < rows; ++r)
            out.reconstruction[static_cast<std::size_t>(
                r * cols + perm[static_cast<std::size_t>(j)])] = static_cast<float>(Q(r, j));
    out.cost = intStorageCost(s, rows, cols);
    if (widest.scale > 0) {
        for (int code = 0; code <= st.maxq; ++code)
            out.levels.push_back(static_cast<float>(widest.scale * (code - widest.zero)));
        out.levelsNote = "levels of the widest scale group";
    }
    out.diagnostics.push_back({"gptq_loss", loss, "GPTQ's proxy loss, sum of (w - q)^2 / 2d^2"});
    if (dead > 0)
        out.diagnostics.push_back(
            {"dead_inputs", static_cast<double>(dead), "input channels never active (zeroed)"});
    return out;
}

} // namespace qs
