#pragma once
// What the tensor tree's bpw and SQNR columns show for one tensor under the current scheme.
// A plain value: built on a worker thread, copied to the GUI thread.

#include "metrics/error_metrics.h"
#include "quant/storage_cost.h"

#include <QMetaType>
#include <QString>

#include <vector>

namespace qs {

struct TensorMetric {
    enum class Status {
        Ok,            // error and cost hold the analysis
        NotApplicable, // the format does not fit the tensor's shape; message says why
        Failed,        // message holds the error
    };
    Status status = Status::Ok;
    ErrorMetrics error;
    StorageCost cost;
    QString message;
};

// Combines the Ok members of a group into one: summed cost, merged error sums (so the SQNR is
// that of the group as a whole). Status Ok if any member is Ok; otherwise that of the first.
TensorMetric mergeMetrics(const std::vector<const TensorMetric*>& members);

// Cell text: "4.31" bits per weight, "18.5" (dB), "n/a" where the format does not apply, "error".
QString bpwText(const TensorMetric& m);
QString sqnrCellText(const TensorMetric& m);
// Sort keys: numbers; what has no number sorts after every number.
double bpwSortKey(const TensorMetric* m);
double sqnrSortKey(const TensorMetric* m);

} // namespace qs

Q_DECLARE_METATYPE(qs::TensorMetric)
