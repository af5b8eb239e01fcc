#pragma once
// HQQ (mobiusml/hqq, NUMERICS.md 6): affine b-bit quantization whose zero-points are refined by
// the half-quadratic proximal solver that HQQ uses by default
// (optimize_weights_proximal_legacy): lp-norm p = 0.7, beta = 10 growing by kappa = 1.01 after
// every iteration (beta *= kappa, as the code does; NUMERICS.md §6 said otherwise), at most 20
// iterations, stopping at the first iteration whose mean |W - W^| does not improve. Only the
// zero-point moves; the scale stays at its min/max start. Arithmetic is float32 (HQQ's CPU path).
//
// Groups follow HQQ's reshape of the row-major tensor. axis=1 (HQQ's default): W.reshape(-1, g),
// contiguous runs of g elements of the flattened tensor, which are our groups along a row when g
// divides the row (a run spans two rows otherwise, as in HQQ). axis=0: W.reshape(g, -1), group j
// = elements j, j + n/g, j + 2n/g, ... (strided; g must divide the element count). `channel` is
// one group per row (axis=1) or per column (axis=0); `tensor` is one group.
// Start (HQQ stores the inverse scale while optimising): s = (2^b - 1)/(max - min), 1 if
// |max - min| <= 1e-4, at most 2e4; z = -min*s, rounded for 4 bits (round_zero = nbits == 4).
// Storage as HQQLinear keeps it by default (quant_zero/quant_scale off): b-bit codes plus a scale
// and a zero-point per group in the fp16 compute dtype, so hqq4:g64 = 4 + 32/64 = 4.5 bits per
// weight; the reconstruction (q - z)*scale uses those fp16 values, as HQQ's dequantize does.
// Options: axis=0|1, iters=N (1..1000).

#include "quant/registry.h"

#include <cstdint>
#include <vector>

namespace qs {

struct HqqOptions {
    int axis = 1;
    int iterations = 20;
    float lpNorm = 0.7f;
    float beta = 10.0f;
    float kappa = 1.01f; // beta *= kappa after each iteration
};

struct HqqQuantized {
    std::int64_t groupSize = 0; // members per group
    std::int64_t groups = 0;
    int axis = 1;
    std::vector<std::uint8_t> codes; // one per element, row-major like the input
    std::vector<float> scales;       // stored scale (1/s, fp16-rounded), one per group
    std::vector<float> zeros;        // stored zero-point (fp16-rounded), one per group
    int iterationsRun = 0;
    double startMeanAbsError = 0; // mean |W - W^| of the min/max start (float32 parameters)
    double bestMeanAbsError = 0;  // the best mean |W - W^| the solver saw
};

Result<HqqOptions> hqqOptions(const Scheme& s);
Result<HqqQuantized> quantizeHqqCodes(const Scheme& s, MatrixView m, const ProgressFn& progress);
std::vector<float> dequantizeHqq(const HqqQuantized& q, std::size_t elements);

Result<QuantOutput> quantizeHqq(const Scheme& s, MatrixView m, const ProgressFn& progress);

// What quantizeHqq reports besides the reconstruction (also for the CUDA engine's result): the
// cost, the levels of the widest group (largest stored scale, the first of equals) with their
// note, and the solver's diagnostics.
void describeHqq(const Scheme& s, std::uint64_t elements, std::int64_t groups, int axis,
                 std::int64_t widest, float widestScale, float widestZero, int iterationsRun,
                 double startMeanAbsError, double bestMeanAbsError, QuantOutput& out);

} // namespace qs
