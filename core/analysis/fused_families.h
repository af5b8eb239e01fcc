#pragma once
// The families fused_analysis.cpp's walk covers itself: `int` (affine codes clamped to the code
// range) and NormalFloat codebooks. Per group, its parameters and error bound from the group's
// min and max; per stretch of a row, the reconstruction of its consecutive groups (vectorised,
// AVX2/AVX-512 clones); the storage cost and the levels the plain quantizer shows. Bit for bit
// what quantizeInt and quantizeNormalFloat reconstruct. Internal to core/analysis.

#include "quant/int_params.h"
#include "quant/registry.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace qs::fused {

// One int group's parameters and what bounds its error: |w - w^| <= scale * (1/2 + 2^-12) when
// no element clamps (rounding to the nearest code, plus float rounding of x/scale and of the
// product, far below 2^-12 for 8 bits), else <= 2 * scale.
// No member initialisers: the walk allocates one per group without zeroing them first.
struct IntGroup {
    intq::GroupParams p;
    float lo, hi; // qmin - zero, qmax - zero
    float bound;
    float width() const { return p.scale; } // the widest group's levels are shown
};

struct IntFamily {
    using Group = IntGroup;
    const Scheme& s;
    intq::Range range;

    explicit IntFamily(const Scheme& scheme);
    Group group(float mn, float mx) const;
    // group() of count groups' min and max at once.
    void groups(const float* mn, const float* mx, std::int64_t count, Group* out) const;
    // The reconstruction of x[0, n): consecutive groups of groupCols values (the last may be
    // shorter), g[i] the i-th's parameters.
    void reconstruct(const Group* g, const float* x, std::int64_t n, std::int64_t groupCols,
                     float* out) const;
    StorageCost cost(std::int64_t rows, std::int64_t cols) const;
    // The levels of the widest group (the first with the largest scale), as quantizeInt.
    void describe(const Group& widest, std::size_t index, std::size_t groupCount, std::int64_t rows,
                  std::int64_t cols, QuantOutput& out) const;
};

// NormalFloat codebooks (bitsandbytes' blockwise NF4 and its other widths), as
// quantizeNormalFloat: per block the absmax a, each code the nearest level of x/a (ties to the
// lower level), reconstructed as level * a. The blocks run over the flattened tensor; the walk
// takes the layouts where they are whole groups of rows.
struct NfFamily {
    struct Group { // no member initialisers, as IntGroup
        float a;
        float bound;
        float width() const { return a; }
    };
    const Scheme& s;
    std::vector<float> levels, midpoints;
    std::uint8_t zeroCode = 0;
    float halfGap = 0; // the widest half gap between neighbouring levels
    // Up to 16 levels (4 bits and fewer): the midpoints padded with +inf and the levels to 16.
    std::array<float, 15> mid15{};
    std::array<float, 16> lev16{};

    explicit NfFamily(const Scheme& scheme);
    Group group(float mn, float mx) const;
    void groups(const float* mn, const float* mx, std::int64_t count, Group* out) const;
    void reconstruct(const Group* g, const float* x, std::int64_t n, std::int64_t groupCols,
                     float* out) const;
    StorageCost cost(std::int64_t rows, std::int64_t cols) const;
    std::int64_t blockSize(std::int64_t rows, std::int64_t cols) const;
    std::uint64_t blocks(std::int64_t rows, std::int64_t cols) const;
    // The levels of the widest block (the first of the widest), as quantizeNormalFloat says it.
    void describe(const Group& widest, std::size_t index, std::size_t groupCount, std::int64_t rows,
                  std::int64_t cols, QuantOutput& out) const;
};

// The kernels the fused paths run: for NfFamily's (up to 16 levels) and CompandFamily's (up to
// 4 bits) reconstruction AVX-512, and for the error sums and bins (accumulateAndCount) AVX2 + FMA,
// where the CPU has them (Auto, the default), else the portable vectorised loops. Tests run both.
enum class SimdKernel { Auto, Portable };
void setSimdKernel(SimdKernel kernel);

// mu-law and A-law (quantizeCompanding, rounding to nearest) through its threshold table: per
// group the absmax a; t = clamp(x / a, -1, 1) in double, its code the number of thresholds <= t,
// reconstructed as levels[code] * a; an all-zero group as 0.
struct CompandFamily {
    struct Group { // no member initialisers, as IntGroup
        float a;
        float bound;
        float width() const { return a; }
    };
    const Scheme& s;
    std::vector<float> levels;
    // The thresholds padded with +inf to 15 (4 bits and fewer: counted) or to 256 (more), and
    // the levels to 16.
    std::vector<double> thresholds;
    std::array<float, 16> lev16{};
    float maxGap = 0; // the widest gap between neighbouring levels
    // More than 4 bits: t's bucket of 2^16 over [-1, 1] gives the number of thresholds in the
    // buckets below it, and at most `perBucket` compares the thresholds in its own.
    static constexpr int kBuckets = 1 << 16;
    std::vector<std::uint8_t> below; // per bucket
    int perBucket = 0;
    static int bucketOf(double t) {
        double u = (t + 1.0) * (kBuckets / 2);
        u = u < 0.0 ? 0.0 : u;
        u = u > kBuckets - 1 ? kBuckets - 1 : u;
        return static_cast<int>(u);
    }

    explicit CompandFamily(const Scheme& scheme);
    Group group(float mn, float mx) const;
    void groups(const float* mn, const float* mx, std::int64_t count, Group* out) const;
    void reconstruct(const Group* g, const float* x, std::int64_t n, std::int64_t groupCols,
                     float* out) const;
    StorageCost cost(std::int64_t rows, std::int64_t cols) const;
    // The unit levels times the widest group's absmax (the first of the widest), as
    // quantizeCompanding.
    void describe(const Group& widest, std::size_t index, std::size_t groupCount, std::int64_t rows,
                  std::int64_t cols, QuantOutput& out) const;
};

} // namespace qs::fused
