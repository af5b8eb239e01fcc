#pragma once
// How quantizer diagnostics (QuantOutput::diagnostics: saturated or flushed MX blocks, non-finite
// inputs, ...) read in the Metrics panel and the Compare table. Counts of blocks are put against
// the number of blocks the tensor has.

#include "io/checkpoint.h"
#include "quant/registry.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <vector>

namespace qs {

// Blocks `s` cuts `t` into (formats with a fixed block; also groups), 0 when it has none.
std::int64_t blockCount(const TensorInfo& t, const Scheme& s);
// "saturated blocks: 3 of 128", one per diagnostic.
QString diagnosticLine(const Diagnostic& d, std::int64_t blocks);
// The non-zero diagnostics in a few words ("3/128 saturated blocks"), "none" when all are zero.
QString diagnosticSummary(const std::vector<Diagnostic>& d, std::int64_t blocks);
// Whether any diagnostic counts something (so it deserves attention).
bool hasNotableDiagnostic(const std::vector<Diagnostic>& d);

} // namespace qs
