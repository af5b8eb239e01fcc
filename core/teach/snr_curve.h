#pragma once
// The signal-processing view of companding (the μ-law lesson): a b-bit quantizer with a FIXED
// full scale of [-1, 1] — as in audio, where the converter's range does not follow the signal —
// fed the same signal shape at amplitudes from far below full scale up to it. A uniform grid
// loses about 6 dB of SNR for every halving of the amplitude; μ-law keeps it nearly constant over
// a wide range, paying a little at full scale. Pure functions, any thread.
//
// Both quantizers use the same grid as the `mulaw` family (NUMERICS.md §4, torchaudio): Q + 1 =
// 2^b levels y_q = 2q/Q - 1 on [-1, 1] ("midrise", zero is not a level), index
// q = int((y + 1)/2 * Q + 0.5); linear takes y = x, μ-law y = F(x) and expands with F^-1.

#include <cstdint>
#include <span>
#include <vector>

namespace qs {

// μ-law compress F(x) = sgn(x) ln(1 + μ|x|) / ln(1 + μ) for |x| <= 1, and its inverse.
double muLawCompress(double x, double mu);
double muLawExpand(double y, double mu);

// x (clamped to [-1, 1]) through the b-bit fixed-range quantizer; mu <= 0 means linear.
double quantizeFixedRange(double x, int bits, double mu);

struct SnrPoint {
    double amplitudeDb = 0; // peak amplitude relative to full scale, dBFS (<= 0)
    double linearDb = 0;    // SQNR of the uniform quantizer
    double muLawDb = 0;     // SQNR of the μ-law quantizer
};

// `shape` is the signal with peak |value| 1 (e.g. sineShape(), or weights divided by their
// absmax); it is scaled to each amplitude in [dbLo, dbHi] (`steps` points, evenly in dB).
std::vector<SnrPoint> snrVersusAmplitude(std::span<const float> shape, int bits, double mu,
                                         double dbLo = -60.0, double dbHi = 0.0, int steps = 61);

// One period of a sine, n samples, peak 1.
std::vector<float> sineShape(int n = 1024);

// The textbook rule for a full-scale sine on a uniform grid: 6.02 b + 1.76 dB.
double fullScaleSineSnrDb(int bits);

} // namespace qs
