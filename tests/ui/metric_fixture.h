#pragma once
// A TensorMetric as the tree's background job delivers one, from the sums that fix its SQNR
// (10 log10(sumSqRef / sumSqErr)) and its bits per weight (bits / n).

#include "models/tensor_metric.h"

#include <cstdint>

namespace qs::test {

inline TensorMetric okMetric(double sumSqRef, double sumSqErr, std::uint64_t n,
                             std::uint64_t bits) {
    TensorMetric m;
    m.error.count = n;
    m.error.sumSqRef = sumSqRef;
    m.error.sumSqErr = sumSqErr;
    m.cost.elements = n;
    m.cost.payloadBits = bits;
    return m;
}

} // namespace qs::test
