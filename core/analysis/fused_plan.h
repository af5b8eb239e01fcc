#pragma once
// The CPU's fused path for the families the CUDA kernels cover beyond fused_analysis.cpp's: the
// float element families, microscaling (MX, nvfp4) and ggml's q8_0. It runs the kernels' own
// arithmetic (cuda/device_math.h) and passes on the CPU, group by group in L1 with no
// reconstruction buffer: the tensor's min/max where the plan needs them, the exact max |error|,
// then reconstruction, error sums and histogram bins in one loop. Bit for bit the plain
// quantizers' reconstruction, their levels, note and diagnostics; the sums equal up to the order
// of the double additions. A tensor holding NaN/Inf is declined (the plain path defines it).

#include "analysis/fused_analysis.h"

namespace qs {

bool planFusedCovers(const Scheme& s);

// nullopt: not covered (or NaN/Inf in the tensor); else the result or a cancellation.
std::optional<Result<FusedResult>> analyzePlanFused(const Scheme& s, MatrixView w,
                                                    const FusedRequest& request,
                                                    const ProgressFn& progress = {});

} // namespace qs
