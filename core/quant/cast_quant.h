#pragma once
// Plain casts for reference: f16 and bf16 round-to-nearest-even (f16 overflows to Inf as a
// cast does), f32 is the identity. No scales: bits per weight is the element width.

#include "quant/registry.h"

namespace qs {

Result<QuantOutput> quantizeCast(const Scheme& s, MatrixView m, const ProgressFn& progress);

} // namespace qs
