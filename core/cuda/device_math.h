#pragma once
// The per-group and per-element arithmetic of the CUDA analysis kernels, written once for both
// sides: nvcc compiles it into the kernels (__host__ __device__), and the host compiler into
// test_device_math, which runs it group by group on the CPU and requires every reconstruction
// bit to equal what the CPU quantizers (int_quant, nf_quant, mx_quant) compute. So the numbers a
// GPU gives are checked wherever the tests run; only the kernels' loops and reductions need a
// device (test_cuda_engine).
//
// Every operation here gives the IEEE float result the CPU path gets: a quotient is the
// division's (as a division, or divRn, which equals it), no product is fused into an add unless
// the rounding is shown not to matter (the .cu files build with -fmad=false), rounding is
// round-half-to-even. The scalar helpers are in cuda/device_scalar.h. Plain C++ (no CUDA
// headers) outside nvcc; no Qt, no std containers.

#include "cuda/device_scalar.h"

namespace qs::dev {

// ---- int: affine codes (quant/int_params.h) --------------------------------------------------

struct IntFam {
    int bits = 4;
    bool symmetric = true, fullRange = false;
    int qmin = 0, qmax = 0;

    struct Group {
        float scale = 1, lo = 0, hi = 0; // codes clamp to [qmin - zero, qmax - zero]
        float inv = 1;                   // safeReciprocal(scale)
        int zero = 0;
        float key = 0; // what "widest" means: the scale
    };

    QS_HD Group group(float mn, float mx) const {
        Group g;
        if (symmetric) {
            const float absmax = absMaxOf(mn, mx);
            const float denom = fullRange ? static_cast<float>((1 << bits) - 1) / 2.0f
                                          : static_cast<float>((1 << (bits - 1)) - 1);
            const float scale = absmax / denom;
            g.scale = scale > 0.0f ? scale : 1.0f;
        } else {
            const float lo = mn < 0.0f ? mn : 0.0f; // std::min(mn, 0)
            const float hi = 0.0f < mx ? mx : 0.0f; // std::max(mx, 0)
            const float scale = (hi - lo) / static_cast<float>((1 << bits) - 1);
            if (scale > 0.0f) {
                g.scale = scale;
                g.zero = static_cast<int>(rne(-lo / scale));
            }
        }
        g.lo = static_cast<float>(qmin - g.zero);
        g.hi = static_cast<float>(qmax - g.zero);
        g.inv = safeReciprocal(g.scale);
        g.key = g.scale;
        return g;
    }
    // scale * rne(clamp(x / scale, lo, hi)): as the CPU's fused and plain paths. The kernels
    // take recAs<false> (the quotient through divRn, equal to the division; no sign of zero
    // survives rneSmall) unless divides(g): a divisor outside divRn's range.
    QS_HD bool divides(const Group& g) const { return g.inv == 0.0f; }
    template <bool Divide> QS_HD float recAs(const Group& g, float x, unsigned&) const {
        const float q = Divide ? x / g.scale : divRnUnsignedZero(x, g.scale, g.inv);
        return g.scale * rneSmall(clampFast(q, g.lo, g.hi));
    }
    QS_HD float rec(const Group& g, float x, unsigned& f) const {
        return divides(g) ? recAs<true>(g, x, f) : recAs<false>(g, x, f);
    }
};

// ---- nf: NormalFloat codebooks (quant/nf_quant.h) -------------------------------------------

constexpr int kMaxLevels = 256;
// The level search starts from a table over [-1, 1] in this many equal buckets (and one more entry
// for t = 1): the number of midpoints below each bucket (less a margin). Narrower than the closest
// midpoints of every NF codebook up to 8 bits (NF8's: 0.0036 apart), so at most one midpoint lies
// between a bucket's count and t: one compare finds the level (nfBucketTable checks it).
constexpr int kNfBuckets = 1024;
constexpr int kNfMidpoints = kMaxLevels + 2; // room for the +inf padding

struct NfFam {
    int count = 16;               // levels
    const float* levels;          // sorted, `count`
    const float* midpoints;       // `count - 1`, then two +inf (nfPaddedMidpoints)
    const unsigned char* buckets; // kNfBuckets + 1 (nfBucketTable)
    float zeroLevel = 0;

    struct Group {
        float a = 0;
        float inv = 0;
        float key = 0;
    };

    QS_HD Group group(float mn, float mx) const {
        Group g;
        g.a = absMaxOf(mn, mx);
        g.inv = g.a > 0.0f ? 1.0f / g.a : 0.0f;
        g.key = g.a;
        return g;
    }
    // The nearest level of clamp(x / a, -1, 1), a tie staying on the lower level; an all-zero
    // block reconstructs as the zero level times a. Branch-free: an all-zero block (inv 0, so
    // t = 0) looks up a level and then takes zeroLevel * a instead.
    QS_HD float rec(const Group& g, float x, unsigned&) const {
        const float t = clampFast(x * g.inv, -1.0f, 1.0f);
        // The number of midpoints below t: the bucket's count, which is never more and at most
        // one short (the +inf padding ends the codebook).
        int below = buckets[floorIndex((t + 1.0f) * (kNfBuckets / 2))];
        below += t > midpoints[below] ? 1 : 0;
        const float r = levels[below] * g.a;
        return g.a > 0.0f ? r : zeroLevel * g.a;
    }
};

// The midpoints NfFam reads: `sorted` levels' midpoints, then two +inf.
inline void nfPaddedMidpoints(const float* midpoints, int count, float* out) {
    for (int i = 0; i + 1 < count; ++i)
        out[i] = midpoints[i];
    out[count - 1] = out[count] = __builtin_inff();
}

// NfFam::buckets for `count - 1` ascending midpoints: entry b (values from -1 + 2b/kNfBuckets, b
// up to kNfBuckets) holds how many midpoints lie below its lower edge less 2^-16. The margin
// covers the rounding of the bucket's index (about 2^-21 in t), so the count never passes a
// midpoint t does not. False when some bucket, margins included, holds two midpoints: one
// compare would not do (the device then declines the codebook).
inline bool nfBucketTable(const float* midpoints, int count, unsigned char* out) {
    constexpr double kMargin = 1.0 / 65536.0;
    for (int b = 0; b <= kNfBuckets; ++b) {
        const double edge = -1.0 + 2.0 * b / kNfBuckets;
        int below = 0;
        while (below + 1 < count && static_cast<double>(midpoints[below]) < edge - kMargin)
            ++below;
        out[b] = static_cast<unsigned char>(below);
        // The next midpoint past the first one at or above the edge's margin must lie beyond
        // the bucket's far edge and its margin.
        if (below + 2 < count &&
            static_cast<double>(midpoints[below + 1]) < edge + 2.0 / kNfBuckets + kMargin)
            return false;
    }
    return true;
}

// ---- mulaw / alaw through their threshold table (quant/companding_quant.h) -----------------

// Per group the absmax a; t = clamp(x / a, -1, 1) in double, its code the number of thresholds
// <= t (a binary search over the 2^bits - 1 ascending thresholds), the reconstruction
// levels[code] * a; an all-zero group reconstructs as 0. No log or exp: the table holds them.
struct CompandFam {
    int bits = 4;
    const double* thresholds; // 2^bits - 1
    const float* levels;      // 2^bits

    struct Group {
        float a = 0;
        float key = 0;
    };

    QS_HD Group group(float mn, float mx) const {
        Group g;
        g.a = absMaxOf(mn, mx);
        g.key = g.a;
        return g;
    }
    QS_HD float rec(const Group& g, float x, unsigned&) const {
        if (!(g.a > 0.0f))
            return 0.0f;
        double t = static_cast<double>(x) / static_cast<double>(g.a);
        t = t < -1.0 ? -1.0 : t;
        t = t > 1.0 ? 1.0 : t;
        int code = 0;
        for (int step = 1 << (bits - 1); step > 0; step >>= 1)
            code = t >= thresholds[code + step - 1] ? code + step : code;
        return levels[code] * g.a;
    }
};

// ---- element formats and microscaling (quant/float_formats.h, quant/mx_quant.h) -------------

enum : unsigned { kSaturated = 1u, kNonZero = 2u, kNanBlock = 4u };

struct ElementSpec {
    int mbits = 1, bias = 1; // Int8: unused
    bool int8 = false;
    float maxNormal = 6.0f;
};

// |x| <= maxNormal rounded half to even onto the format's grid (float_formats.cpp roundToGrid).
QS_HD float roundToElement(const ElementSpec& f, float c) {
    // Branch-free (both forms computed, one selected) so the CPU's loops over it vectorise.
    // MX INT8: k/64, k = rne(64c) in [-127, 127]; the code keeps no -0.
    const float k = clampf(rneSmall(c * 64.0f), -127.0f, 127.0f);
    const float asInt8 = static_cast<float>(static_cast<int>(k)) / 64.0f;
    const float a = absf(c);
    const int emin = 1 - f.bias;
    int e = static_cast<int>(asBits(a) >> 23) - 127;
    e = e < emin ? emin : e;
    const float quantum = asFloat(static_cast<std::uint32_t>(e - f.mbits + 127) << 23);
    const float r = rneSmall(a / quantum);
    const float asFloatElement = copySign(r * quantum, c);
    return f.int8 ? asInt8 : asFloatElement;
}

// roundToElement with one arm computed and no division (the kernels' form; equal for every
// input): the format's arm only, and a / quantum as a times the exact reciprocal power of two
// (a division by 2^k and a product with 2^-k round the same real number).
QS_HD float roundToElementLean(const ElementSpec& f, float c) {
    if (f.int8) {
        const float k = clampf(rneSmall(c * 64.0f), -127.0f, 127.0f);
        return (k + 0.0f) * 0.015625f; // + 0 turns -0 into +0, as the int round trip
    }
    const float a = absf(c);
    const int emin = 1 - f.bias;
    int e = static_cast<int>(asBits(a) >> 23) - 127;
    e = e < emin ? emin : e;
    const float quantum = asFloat(static_cast<std::uint32_t>(e - f.mbits + 127) << 23);
    const float inverse = asFloat(static_cast<std::uint32_t>(127 - (e - f.mbits)) << 23);
    return copySign(rneSmall(a * inverse) * quantum, c);
}

// The float element families (fp4, fp6_*, fp8_*): scale = absmax / max_normal per group, the
// element the saturating round-to-nearest-even cast of x / scale (quant/float_quant.h); an
// all-zero group reconstructs as 0.
struct FpFam {
    ElementSpec elem;

    struct Group {
        float scale = 0;
        float inv = 0; // safeReciprocal(scale)
        float key = 0;
    };

    QS_HD Group group(float mn, float mx) const {
        Group g;
        g.scale = absMaxOf(mn, mx) / elem.maxNormal;
        g.inv = safeReciprocal(g.scale);
        g.key = g.scale;
        return g;
    }
    QS_HD float rec(const Group& g, float x, unsigned&) const {
        const bool zero = !(g.scale > 0.0f); // an all-zero group reconstructs as 0
        const float t = x / (zero ? 1.0f : g.scale);
        const float r = roundToElement(elem, clampf(t, -elem.maxNormal, elem.maxNormal)) * g.scale;
        return zero ? 0.0f : r;
    }
    // rec as the kernels run it (deviceRecAs): the same value. recAs<false> has no branch (an
    // all-zero group computes through inv 0 and selects 0); divides(g) takes the division.
    QS_HD bool divides(const Group& g) const { return g.scale > 0.0f && g.inv == 0.0f; }
    template <bool Divide> QS_HD float recAs(const Group& g, float x, unsigned&) const {
        const float t = Divide ? x / g.scale : divRn(x, g.scale, g.inv);
        const float r =
            roundToElementLean(elem, clampFast(t, -elem.maxNormal, elem.maxNormal)) * g.scale;
        return g.scale > 0.0f ? r : 0.0f;
    }
};

// ggml's Q8_0 (quantize_row_q8_0_ref, dequantize_row_q8_0): per block of 32, d = amax / 127,
// codes roundf(x / d) (half away from zero) through id = 1/d, d stored as f16; reconstruction
// code * f16(d).
struct Q8Fam {
    struct Group {
        float id = 0; // 1 / d (0 for an all-zero block)
        float dh = 0; // d as stored (f16)
        float key = 0;
    };

    QS_HD Group group(float mn, float mx) const {
        Group g;
        const float d = absMaxOf(mn, mx) / 127.0f;
        g.id = d != 0.0f ? 1.0f / d : 0.0f;
        g.dh = f16ToFloat(floatToHalf(d));
        g.key = absf(g.dh);
        return g;
    }
    // code * f16(d), the code roundf(v), v = x * (1/d): t = trunc(v), and the dropped part f =
    // v - t (exact) steps it away from zero when |f| >= 1/2, which trunc(2f) (-1, 0 or 1) adds;
    // + 0 turns a -0 code into +0, as ggml's int8 does. (Truncating through int conversions came
    // out -0 for -0 inputs in GCC's vector loop under -fno-trapping-math.)
    QS_HD float rec(const Group& g, float x, unsigned&) const {
        const float v = x * g.id;
        const float t = std::trunc(v);
        return (t + std::trunc(2.0f * (v - t)) + 0.0f) * g.dh;
    }
    // rec without conversions (deviceRecAs): roundf(v) = sign(v) floor(|v| + 1/2).
    QS_HD bool divides(const Group&) const { return false; }
    template <bool> QS_HD float recAs(const Group& g, float x, unsigned&) const {
        const float v = x * g.id;
        return (copySign(floorHalfUp(absf(v)), v) + 0.0f) * g.dh;
    }
};

// ggml's legacy blocks of 32 (quantize_row_q{4,5}_{0,1}_ref and their dequantizers):
//   q4_0/q5_0: d = m / -8 (-16), m the block's first element of largest magnitude (0 for an
//     all-zero block), codes min((int)(x/d + 8.5), 15) (16.5, 31), reconstruction
//     (code - 8) * f16(d) (- 16);
//   q4_1/q5_1: d = (max - min) / 15 (31), codes (int8)((x - min)/d + 0.5) capped at 15 (q5_1:
//     uncapped, as ggml), reconstruction code * f16(d) + f16(min).
// Divisions by d go through id = 1/d (0 when d is 0), as ggml does. group() takes the signed
// maximum (only q4_0/q5_0 use it), which the callers find as the first element with |x| = amax.
enum class LegacyKind { Q4_0, Q4_1, Q5_0, Q5_1 };

struct LegacyFam {
    LegacyKind kind = LegacyKind::Q4_0;

    struct Group {
        float id = 0, dh = 0, mh = 0, min = 0;
        float key = 0;
    };

    QS_HD bool symmetric() const { return kind == LegacyKind::Q4_0 || kind == LegacyKind::Q5_0; }

    QS_HD Group group(float mn, float mx, float signedMax) const {
        Group g;
        float d;
        if (symmetric()) {
            d = signedMax / (kind == LegacyKind::Q4_0 ? -8.0f : -16.0f);
        } else {
            d = (mx - mn) / (kind == LegacyKind::Q4_1 ? 15.0f : 31.0f);
            g.min = mn;
            g.mh = f16ToFloat(floatToHalf(mn));
        }
        g.id = d != 0.0f ? 1.0f / d : 0.0f;
        g.dh = f16ToFloat(floatToHalf(d));
        g.key = absf(g.dh);
        return g;
    }
    QS_HD float rec(const Group& g, float x, unsigned&) const {
        switch (kind) {
        case LegacyKind::Q4_0: { // ggml's (int8_t) too: an infinite 1/d (d tiny) gives code 0
            const int q = static_cast<signed char>(static_cast<int>(x * g.id + 8.5f));
            return static_cast<float>((q < 15 ? q : 15) - 8) * g.dh;
        }
        case LegacyKind::Q5_0: {
            const int q = static_cast<signed char>(static_cast<int>(x * g.id + 16.5f));
            return static_cast<float>((q < 31 ? q : 31) - 16) * g.dh;
        }
        case LegacyKind::Q4_1: {
            const int q = static_cast<signed char>(static_cast<int>((x - g.min) * g.id + 0.5f));
            return static_cast<float>(q < 15 ? q : 15) * g.dh + g.mh;
        }
        case LegacyKind::Q5_1:
            break;
        }
        const int q = static_cast<unsigned char>(static_cast<int>((x - g.min) * g.id + 0.5f));
        return static_cast<float>(q) * g.dh + g.mh;
    }
};

enum class MxRule { Floor, Ceil, Even, RCeil };

struct MxFam {
    ElementSpec elem;
    MxRule rule = MxRule::Floor;
    int emaxPow2 = 2;
    int mantissaBits = 1;  // Int8: 6
    bool nv = false;       // nvfp4
    float tensorScale = 0; // nvfp4: amax_tensor / 2688, set before the groups run

    struct Group {
        float scale = 0; // NaN for a non-finite block
        float inv = 0;   // MX: the exact reciprocal power of two; nvfp4: safeReciprocal(scale)
        float key = 0;   // the scale
    };

    // The biased E8M0 exponent of a block's absolute maximum (mxScaleExponent).
    QS_HD int scaleExponent(float amax) const {
        if (rule == MxRule::RCeil) {
            const float x = amax * (1.0f / elem.maxNormal);
            const std::uint32_t bits = asBits(absf(x));
            const std::uint32_t biased = bits >> 23, mant = bits & 0x7FFFFFu;
            if (biased >= 0xFF)
                return 0xFF;
            const std::uint32_t up = biased == 0 ? (mant > 0x400000u ? 1u : 0u) : (mant ? 1u : 0u);
            return static_cast<int>(biased + up > 0xFF ? 0xFF : biased + up);
        }
        std::uint32_t bits = asBits(amax);
        if (rule == MxRule::Even)
            bits = (bits + (1u << (23 - mantissaBits - 1))) & 0xFF800000u;
        if (((bits >> 23) & 0xFF) == 0xFF)
            return 0xFF;
        int unbiased = static_cast<int>((bits >> 23) & 0xFF) - 127;
        if (rule == MxRule::Ceil && (bits & 0x7FFFFF) != 0)
            ++unbiased;
        unbiased -= emaxPow2;
        unbiased = unbiased < -127 ? -127 : unbiased > 128 ? 128 : unbiased;
        return unbiased + 127;
    }

    // nvfp4's block scale: amax / 6 over the tensor scale, rounded to E4M3 (clamped to its
    // range), times the tensor scale. A plain function of amax, so a loop over blocks vectorises.
    QS_HD float nvScale(float amax) const {
        const float scaled = (amax / 6.0f) / tensorScale;
        const ElementSpec e4m3{3, 7, false, 448.0f};
        return tensorScale * roundToElement(e4m3, clampf(scaled, 0.015625f, 448.0f));
    }

    // A block's parameters from nvfp4's scale (nvScale) or from an MX block's biased exponent
    // (scaleExponent; 0xFF: the NaN scale).
    QS_HD static Group nvGroup(float scale) {
        Group g;
        g.scale = scale;
        g.inv = safeReciprocal(scale);
        g.key = scale;
        return g;
    }
    QS_HD static Group mxGroup(int e) {
        Group g;
        g.scale = e == 0xFF ? asFloat(0x7FC00000u) : pow2(e - 127);
        g.inv = e == 0xFF ? 0.0f : pow2(127 - e);
        g.key = g.scale;
        return g;
    }

    QS_HD Group group(float mn, float mx) const {
        const float amax = absMaxOf(mn, mx);
        return nv ? nvGroup(nvScale(amax)) : mxGroup(scaleExponent(amax));
    }
    // A block with a finite scale; branch-free, as roundToElement.
    QS_HD float recFinite(const Group& g, float x, unsigned& flags) const {
        // both computed: a division on one arm only keeps the CPU's loop from vectorising
        const float byDivision = x / g.scale, byReciprocal = x * g.inv;
        const float t = nv ? byDivision : byReciprocal;
        // the lean rounding (no division by the quantum): the CPU loops that call this fix
        // elem.int8, so its one branch folds away
        const float e = roundToElementLean(elem, clampf(t, -elem.maxNormal, elem.maxNormal));
        flags |= static_cast<unsigned>(absf(t) > elem.maxNormal) * kSaturated |
                 static_cast<unsigned>(e != 0.0f) * kNonZero;
        return e * g.scale;
    }
    // The NaN scale (0xFF) makes the whole block NaN.
    QS_HD float rec(const Group& g, float x, unsigned& flags) const {
        if (!(g.scale == g.scale)) {
            flags |= kNanBlock;
            return g.scale;
        }
        return recFinite(g, x, flags);
    }
    // rec as the kernels run it (deviceRecAs): one arm, divRn for nvfp4's division. divides(g):
    // a NaN block or an nvfp4 divisor outside divRn's range, which recAs<true> handles.
    QS_HD bool divides(const Group& g) const {
        return !(g.scale == g.scale) || (nv && g.inv == 0.0f);
    }
    template <bool Divide> QS_HD float recAs(const Group& g, float x, unsigned& flags) const {
        if (Divide && !(g.scale == g.scale)) {
            flags |= kNanBlock;
            return g.scale;
        }
        const float t = nv ? (Divide ? x / g.scale : divRn(x, g.scale, g.inv)) : x * g.inv;
        const float e = roundToElementLean(elem, clampFast(t, -elem.maxNormal, elem.maxNormal));
        flags |= static_cast<unsigned>(absf(t) > elem.maxNormal) * kSaturated |
                 static_cast<unsigned>(e != 0.0f) * kNonZero;
        return e * g.scale;
    }
};

// A family's reconstruction as the kernels compute it: recAs<Divide> where a family has one (the
// same values as rec, which the CPU's vectorised loops use), else rec. Divide must be
// dividesOf(f, g): the kernels run recAs<false> in their unrolled loops and the rest apart.
template <bool Divide, class F>
QS_HD auto deviceRecAs(const F& f, const typename F::Group& g, float x, unsigned& flags)
    -> decltype(f.template recAs<Divide>(g, x, flags)) {
    return f.template recAs<Divide>(g, x, flags);
}
template <bool Divide, class F, class... Ignored>
QS_HD float deviceRecAs(const F& f, const typename F::Group& g, float x, unsigned& flags,
                        Ignored...) {
    return f.rec(g, x, flags);
}
template <class F>
QS_HD auto dividesOf(const F& f, const typename F::Group& g) -> decltype(f.divides(g)) {
    return f.divides(g);
}
template <class F, class... Ignored>
QS_HD bool dividesOf(const F&, const typename F::Group&, Ignored...) {
    return false;
}
template <class F>
QS_HD float deviceRec(const F& f, const typename F::Group& g, float x, unsigned& flags) {
    return dividesOf(f, g) ? deviceRecAs<true>(f, g, x, flags) : deviceRecAs<false>(f, g, x, flags);
}

// The "widest group" key: the larger metric wins, then the lower index (as std::max_element
// picks the first of equals). The metric is >= 0, so its bits order as the value does.
QS_HD unsigned long long widestKey(float metric, std::uint32_t index) {
    return (static_cast<unsigned long long>(asBits(metric)) << 32) |
           static_cast<unsigned long long>(0xFFFFFFFFu - index);
}
QS_HD std::uint32_t widestIndex(unsigned long long key) {
    return 0xFFFFFFFFu - static_cast<std::uint32_t>(key & 0xFFFFFFFFull);
}
QS_HD float widestMetric(unsigned long long key) {
    return asFloat(static_cast<std::uint32_t>(key >> 32));
}

} // namespace qs::dev
