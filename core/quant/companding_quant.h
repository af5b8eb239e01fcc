#pragma once
// The companding families: `mulaw`, `alaw` and `log` (DESIGN.md "Numeric conventions").
//
// mulaw / alaw (2..8 bits, default one scale per tensor; mu = 255, A = 87.6 via muN / aN): per
// group t = x / absmax (clamped to [-1, 1]), y = F(t) with the continuous law
//   mu-law F(t) = sgn(t) ln(1 + mu|t|) / ln(1 + mu),
//   A-law  F(t) = sgn(t) A|t| / (1 + ln A) below 1/A, sgn(t)(1 + ln(A|t|)) / (1 + ln A) above,
// then y is quantized uniformly to Q + 1 = 2^b levels y_q = 2q/Q - 1, q = 0..Q (spacing 2/Q over
// [-1, 1], "midrise": zero is not a level), and the reconstruction is F^-1(y_q) * absmax.
// The index rounding is torchaudio's mu_law_encoding: q = int((y + 1)/2 * Q + 0.5), i.e. half
// UP in the index domain, not half-to-even, so a b-bit mulaw with mu = 2^b - 1 gives exactly
// torchaudio's codes. The law is evaluated in double, the result stored as float32.
// An all-zero group (absmax 0) reconstructs as 0.
//
// log (2..8 bits): sign + (b-1)-bit magnitude code m; m = 0 is zero, m = 1..M (M = 2^(b-1)-1)
// is 2^(m-M) of the group's absmax. Levels: 0, +-absmax * {2^(1-M), ..., 1/2, 1}. Nearest level
// in the linear domain; a value exactly between two levels goes to the smaller magnitude.
//
// All three: clip=minmax|pN|mse chooses the absmax (mse: least squared error over the shrink
// grid), round=stochastic picks between the two neighbouring levels (mulaw/alaw: floor(v + u)
// in the index domain; log: proportional to linear distance). NaN inputs stay NaN, +-Inf go to
// the extreme level. Storage: b-bit codes + an fp16 scale per group.

#include "quant/registry.h"

#include <optional>
#include <vector>

namespace qs {

Result<QuantOutput> quantizeCompanding(const Scheme& s, MatrixView m, const ProgressFn& progress);
std::vector<float> compandingUnitLevels(const Scheme& s);
// What quantizeCompanding reports of a rows x cols tensor: its storage cost, and the levels of
// its widest group (group `widest`, absmax `absmax`) with their note. The fused and device
// paths report the same through these.
StorageCost compandingStorageCost(const Scheme& s, std::int64_t rows, std::int64_t cols);
void setCompandingLevels(const Scheme& s, std::int64_t rows, std::int64_t cols, std::size_t widest,
                         float absmax, QuantOutput& out);

// mulaw / alaw as a table, for loops without the law's log and exp per value: the code of
// t = clamp(x / absmax, -1, 1) (in double, as quantizeCompanding forms it) is the number of
// thresholds <= t, and the reconstruction is levels[code] * absmax. thresholds[k - 1] is the
// smallest double whose code is k or more, found by bisection over the doubles of [-1, 1] with
// quantizeCompanding's own code function (which is monotone); levels are its float levels.
struct CompandingTable {
    std::vector<double> thresholds; // 2^b - 1 of them, ascending
    std::vector<float> levels;      // 2^b
};
// Empty for the log family (its levels go by |t| in float and keep the sign of zero).
std::optional<CompandingTable> compandingTable(const Scheme& s);
// quantizeCompanding's code (round to nearest) of t in [-1, 1]: mulaw / alaw only.
int compandingCode(const Scheme& s, double t);

} // namespace qs
