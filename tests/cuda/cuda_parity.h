#pragma once
// The CUDA engine's checks against the CPU, without Qt, so they run both in ctest
// (test_cuda_engine, QTest) and from the device bundle (qs-cuda-check, scripts/device-bundle),
// where the GPU machine has no Qt. Each check returns its failures, empty when it passed.
//
// parity: the reconstruction bit for bit (so the codes are the CPU's), the error histogram count
//   for count over the same range, max |error| exactly, the error sums within 1e-9 relative
//   (the device adds in another order), the same levels, note, cost and diagnostics (HQQ's
//   mean |error| sums within 1e-9 relative too);
// halfInputs: bf16/f16/f32 bench input against the CPU bench on the same values;
// nonFinite: NaN/Inf tensors are declined (the CPU's plain path says what they become);
// tensorRange: rows given their tensor's range take the tensor's scale;
// cancel: a progress callback that says stop cancels.

#include "analysis/compute_backend.h"

#include <string>
#include <vector>

namespace qs::cudacheck {

using Failures = std::vector<std::string>;

struct ParityCase {
    std::string spec;
    std::int64_t rows = 0, cols = 0;
};

// Every covered family on shapes that take each kernel path: 16-byte packs, single elements
// (an odd width), long rows (groups read twice), one short row.
std::vector<ParityCase> parityCases();
// Hard-case weights: ties at half steps, a zero row, Gaussian elsewhere.
std::vector<float> testWeights(std::int64_t rows, std::int64_t cols, unsigned seed);

// Failures, or {"skip: ..."} when the engine does not cover the case's layout.
Failures checkParity(DeviceEngine& engine, const std::string& spec, const std::vector<float>& w,
                     std::int64_t rows, std::int64_t cols);
Failures checkParity(DeviceEngine& engine, const ParityCase& c);
// The same with chunks of 3 rows (QS_CUDA_MAX_CHUNK_BYTES): pinned buffers, two in flight.
Failures checkChunked(DeviceEngine& engine);
Failures checkHalfInputs(DeviceEngine& engine, const std::string& spec, const std::string& dtype);
Failures checkNonFinite(DeviceEngine& engine);
// Rows 20-39 of a tensor given its min and max (FusedRequest::tensorRange), under scales over the
// whole tensor: bit for bit the whole tensor's reconstruction of those rows, their sums, max and
// histogram.
Failures checkTensorRange(DeviceEngine& engine);
Failures checkCancel(DeviceEngine& engine);

} // namespace qs::cudacheck
