#pragma once
// Progress reporting for long core work: the callback gets a fraction in [0, 1] and returns
// false to cancel. It may be called from worker threads (never concurrently for one job).

#include "util/result.h"

#include <functional>

namespace qs {

using ProgressFn = std::function<bool(double fraction)>;

inline bool reportProgress(const ProgressFn& fn, double fraction) {
    return !fn || fn(fraction);
}

inline constexpr const char* kCancelledMessage = "cancelled";

inline Error cancelledError() {
    return makeError(kCancelledMessage, ErrorKind::Cancelled);
}

} // namespace qs
