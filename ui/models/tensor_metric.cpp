#include "models/tensor_metric.h"

#include <cmath>
#include <limits>

namespace qs {
namespace {
constexpr double kNoNumber = std::numeric_limits<double>::max();
} // namespace

TensorMetric mergeMetrics(const std::vector<const TensorMetric*>& members) {
    TensorMetric out;
    bool any = false;
    for (const TensorMetric* m : members) {
        if (!m || m->status != TensorMetric::Status::Ok)
            continue;
        any = true;
        out.error.merge(m->error);
        out.cost.merge(m->cost);
    }
    if (!any && !members.empty() && members.front())
        return *members.front();
    return out;
}

QString bpwText(const TensorMetric& m) {
    switch (m.status) {
    case TensorMetric::Status::Ok:
        return QString::number(m.cost.bitsPerWeight(), 'f', 2);
    case TensorMetric::Status::NotApplicable:
        return QStringLiteral("n/a");
    case TensorMetric::Status::Failed:
        break;
    }
    return QStringLiteral("error");
}

QString sqnrCellText(const TensorMetric& m) {
    switch (m.status) {
    case TensorMetric::Status::Ok: {
        const double db = m.error.sqnrDb();
        if (std::isinf(db) && db > 0)
            return QStringLiteral("exact");
        return std::isfinite(db) ? QString::number(db, 'f', 1) : QStringLiteral("—");
    }
    case TensorMetric::Status::NotApplicable:
        return QStringLiteral("n/a");
    case TensorMetric::Status::Failed:
        break;
    }
    return QStringLiteral("error");
}

double bpwSortKey(const TensorMetric* m) {
    return m && m->status == TensorMetric::Status::Ok ? m->cost.bitsPerWeight() : kNoNumber;
}

double sqnrSortKey(const TensorMetric* m) {
    if (!m || m->status != TensorMetric::Status::Ok)
        return kNoNumber;
    const double db = m->error.sqnrDb();
    return std::isnan(db) ? kNoNumber : std::min(db, kNoNumber / 2);
}

} // namespace qs
