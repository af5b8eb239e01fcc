#include "panels/method_insights.h"

#include "methods/awq.h"
#include "methods/matrix_imbalance.h"
#include "methods/sinq.h"
#include "quant/scheme.h"

#include <QString>

#include <algorithm>
#include <cmath>

namespace qs {

std::shared_ptr<const MethodInsights> computeInsights(MatrixView w, MatrixView x, int bits,
                                                      int group) {
    auto in = std::make_shared<MethodInsights>();
    const std::int64_t cols = group > 0 ? std::min<std::int64_t>(group, w.cols) : w.cols;
    std::vector<float> tile(static_cast<size_t>(w.rows * cols));
    for (std::int64_t r = 0; r < w.rows; ++r)
        std::copy_n(w.data + r * w.cols, cols, tile.begin() + r * cols);
    const MatrixView before{tile.data(), w.rows, cols};
    const SinkhornResult s = sinkhornNormalize(before);
    const MatrixView after{s.normalized.data(), w.rows, cols};
    in->tileCols = cols;
    in->rowStdBefore = rowStdDevs(before);
    in->rowStdAfter = rowStdDevs(after);
    in->colStdBefore = columnStdDevs(before);
    in->colStdAfter = columnStdDevs(after);
    in->imbalanceBefore = s.imbalanceBefore;
    in->imbalanceAfter = s.imbalanceAfter;
    const QString spec = group > 0 ? QStringLiteral("awq%1:g%2").arg(bits).arg(group)
                                   : QStringLiteral("awq%1:channel").arg(bits);
    if (auto scheme = Scheme::parse(spec.toStdString()))
        if (auto a = awqScaleSearch(*scheme, w, x)) {
            // Both on one footing: divided by their geometric mean (AWQ's own normalisation).
            auto normalise = [](const std::vector<float>& v) {
                double logSum = 0;
                for (float f : v)
                    logSum += std::log(std::max(f, 1e-12f));
                const double g = std::exp(logSum / double(std::max<size_t>(1, v.size())));
                std::vector<double> out;
                for (float f : v)
                    out.push_back(double(f) / g);
                return out;
            };
            in->awqScale = normalise(a->scale);
            in->awqMeanAbs = normalise(a->meanAbs);
            in->awqRatio = a->ratio;
        }
    return in;
}

} // namespace qs
