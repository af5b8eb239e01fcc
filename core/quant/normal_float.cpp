#include "quant/normal_float.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace qs {
namespace {

constexpr std::array<float, 16> kNf4{
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

// get_4bit_type("fp4"): the raw magnitudes divided by their maximum (12) in float32.
const std::array<float, 16> kBnbFp4 = [] {
    constexpr std::array<float, 8> raw{0.0f, 0.0625f, 8.0f, 12.0f, 4.0f, 6.0f, 2.0f, 3.0f};
    std::array<float, 16> t{};
    for (std::size_t i = 0; i < 8; ++i) {
        t[i] = raw[i] / 12.0f;
        t[i + 8] = -raw[i] / 12.0f;
    }
    return t;
}();

} // namespace

double inverseNormalCdf(double p) {
    if (std::isnan(p) || p < 0.0 || p > 1.0)
        return std::numeric_limits<double>::quiet_NaN();
    if (p == 0.0)
        return -std::numeric_limits<double>::infinity();
    if (p == 1.0)
        return std::numeric_limits<double>::infinity();
    // Acklam's coefficients.
    static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                   -2.759285104469687e+02, 1.383577518672690e+02,
                                   -3.066479806614716e+01, 2.506628277459239e+00};
    static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                   -1.556989798598866e+02, 6.680131188771972e+01,
                                   -1.328068155288572e+01};
    static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                   -2.400758277161838e+00, -2.549732539343734e+00,
                                   4.374664141464968e+00,  2.938163982698783e+00};
    static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                   2.445134137142996e+00, 3.754408661907416e+00};
    constexpr double pLow = 0.02425;
    double x;
    if (p < pLow) {
        const double q = std::sqrt(-2 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - pLow) {
        const double q = p - 0.5;
        const double r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        const double q = std::sqrt(-2 * std::log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    // One Halley step on Phi(x) - p brings Acklam's 1e-9 to double precision.
    const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
    const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

std::vector<float> torchLinspaceF32(double startD, double endD, int steps) {
    std::vector<float> v(static_cast<std::size_t>(std::max(steps, 0)));
    if (steps == 1)
        v[0] = static_cast<float>(startD);
    if (steps <= 1)
        return v;
    const auto start = static_cast<float>(startD);
    const auto end = static_cast<float>(endD);
    const float step = (end - start) / static_cast<float>(steps - 1);
    const int halfway = steps / 2;
    for (int i = 0; i < steps; ++i)
        v[static_cast<std::size_t>(i)] = i < halfway
                                             ? start + step * static_cast<float>(i)
                                             : end - step * static_cast<float>(steps - i - 1);
    return v;
}

double normalFloatOffset(int k) {
    const double n = std::ldexp(1.0, k);
    return 0.5 * ((1.0 - 1.0 / (2.0 * (n - 1.0))) + (1.0 - 1.0 / (2.0 * n)));
}

std::vector<float> normalFloatCodebook(int k) {
    if (k == 4)
        return {kNf4.begin(), kNf4.end()};
    const int half = 1 << (k - 1);
    const double offset = normalFloatOffset(k);
    std::vector<float> v;
    const auto pos = torchLinspaceF32(offset, 0.5, half + 1);
    for (int i = 0; i < half; ++i)
        v.push_back(static_cast<float>(inverseNormalCdf(pos[static_cast<std::size_t>(i)])));
    const auto neg = torchLinspaceF32(offset, 0.5, half);
    for (int i = 0; i + 1 < half; ++i)
        v.push_back(static_cast<float>(-inverseNormalCdf(neg[static_cast<std::size_t>(i)])));
    v.push_back(0.0f);
    std::sort(v.begin(), v.end());
    const float mx = v.back();
    for (auto& e : v)
        e /= mx;
    return v;
}

std::span<const float> bnbFp4Table() {
    return kBnbFp4;
}

std::uint8_t encodeBnbFp4(float x) {
    // The CUDA kernel's decision tree (dQuantizeFP4): thresholds on |x|, ties to the smaller
    // magnitude; bit 3 is the sign of x (so -0.0 gets the +0 code).
    const unsigned sign = x < 0.0f ? 0b1000u : 0u;
    const float a = std::fabs(x);
    unsigned code;
    if (a > 0.29166667f) {
        if (a > 0.583333f)
            code = a > 0.8333333f ? 0b011u : 0b010u;
        else
            code = a > 0.4166667f ? 0b101u : 0b100u;
    } else {
        if (a > 0.0859375f)
            code = a > 0.20833333f ? 0b111u : 0b110u;
        else
            code = a > 0.00260417f ? 0b001u : 0b000u;
    }
    return static_cast<std::uint8_t>(sign | code);
}

std::vector<float> bnbFp4Levels() {
    std::vector<float> v(kBnbFp4.begin(), kBnbFp4.end());
    for (auto& e : v)
        if (e == 0.0f)
            e = 0.0f;
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

std::vector<float> bnbDynamicMap() {
    // create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for i = 0..6 the
    // midpoints of linspace(0.1, 1, 2^i + 1) times 10^(i-6), both signs, then 0 and 1.0. The
    // products are float32 (torch multiplies the float32 means by the Python scalar in float32).
    std::vector<float> data;
    constexpr int kMaxExponentBits = 7;
    for (int i = 0; i < kMaxExponentBits; ++i) {
        const int items = (1 << i) + 1;
        const auto b = torchLinspaceF32(0.1, 1.0, items);
        const auto scale = static_cast<float>(std::pow(10.0, -(kMaxExponentBits - 1) + i));
        for (int j = 0; j + 1 < items; ++j) {
            const float mean =
                (b[static_cast<std::size_t>(j)] + b[static_cast<std::size_t>(j + 1)]) / 2.0f;
            data.push_back(scale * mean);
            data.push_back(-scale * mean);
        }
    }
    data.push_back(0.0f);
    data.push_back(1.0f);
    std::sort(data.begin(), data.end());
    return data;
}

std::vector<std::uint8_t> packNibblesHighFirst(std::span<const std::uint8_t> q) {
    std::vector<std::uint8_t> out((q.size() + 1) / 2, 0);
    for (std::size_t i = 0; i < q.size(); ++i)
        out[i / 2] |= static_cast<std::uint8_t>((q[i] & 0xF) << (i % 2 ? 0 : 4));
    return out;
}

std::vector<std::uint8_t> unpackNibblesHighFirst(std::span<const std::uint8_t> bytes,
                                                 std::size_t count) {
    std::vector<std::uint8_t> q(count);
    for (std::size_t i = 0; i < count && i / 2 < bytes.size(); ++i)
        q[i] = static_cast<std::uint8_t>((bytes[i / 2] >> (i % 2 ? 0 : 4)) & 0xF);
    return q;
}

std::vector<std::uint8_t> packNibblesLowFirst(std::span<const std::uint8_t> q) {
    std::vector<std::uint8_t> out((q.size() + 1) / 2, 0);
    for (std::size_t i = 0; i < q.size(); ++i)
        out[i / 2] |= static_cast<std::uint8_t>((q[i] & 0xF) << (i % 2 ? 4 : 0));
    return out;
}

std::vector<std::uint8_t> unpackNibblesLowFirst(std::span<const std::uint8_t> bytes,
                                                std::size_t count) {
    std::vector<std::uint8_t> q(count);
    for (std::size_t i = 0; i < count && i / 2 < bytes.size(); ++i)
        q[i] = static_cast<std::uint8_t>((bytes[i / 2] >> (i % 2 ? 4 : 0)) & 0xF);
    return q;
}

} // namespace qs
