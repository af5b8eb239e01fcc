#pragma once
// Row-level ggml quantizers and dequantizers (internal to core/quant; the public API is
// ggml_quant.h). Every quantizer takes one row of n floats (n a multiple of the block size) and
// writes n/block blocks to `dst`, byte for byte as ggml's function named in the comment; `qw`
// are optional importance weights, one per element of the row (null: none). `dst`/`src` need no
// alignment: blocks are copied in and out with memcpy.

#include "quant/ggml_blocks.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace qs::ggml {

template <class B> inline void storeBlock(void* dst, std::int64_t i, const B& b) {
    std::memcpy(static_cast<std::byte*>(dst) + i * static_cast<std::int64_t>(sizeof(B)), &b,
                sizeof(B));
}
template <class B> inline B loadBlock(const void* src, std::int64_t i) {
    B b;
    std::memcpy(&b, static_cast<const std::byte*>(src) + i * static_cast<std::int64_t>(sizeof(B)),
                sizeof(B));
    return b;
}

// quantize_q*(src, dst, 1, n, qw): with qw null each is the type's quantize_row_*_ref.
void quantizeQ4_0(const float* x, void* dst, std::int64_t n, const float* qw);
void quantizeQ4_1(const float* x, void* dst, std::int64_t n, const float* qw);
void quantizeQ5_0(const float* x, void* dst, std::int64_t n, const float* qw);
void quantizeQ5_1(const float* x, void* dst, std::int64_t n, const float* qw);
void quantizeQ8_0(const float* x, void* dst, std::int64_t n, const float* qw); // qw unused
void quantizeQ8_0Portable(const float* x, void* dst, std::int64_t n);          // without intrinsics
// The copies quantizeQ8_0 chooses from, for tests: false when this CPU (or build) lacks one.
enum class Q8_0Kernel { Portable, Avx2, Avx512 };
bool quantizeQ8_0With(Q8_0Kernel k, const float* x, void* dst, std::int64_t n);
void quantizeQ2_K(const float* x, void* dst, std::int64_t n, const float* qw);
void quantizeQ3_K(const float* x, void* dst, std::int64_t n, const float* qw);
void quantizeQ4_K(const float* x, void* dst, std::int64_t n, const float* qw);
void quantizeQ5_K(const float* x, void* dst, std::int64_t n, const float* qw);
void quantizeQ6_K(const float* x, void* dst, std::int64_t n, const float* qw);
// quantize_iq4_nl / quantize_iq4_xs: a 15-step scale search (ntry 7) with x^2 weights or qw.
void quantizeIq4Nl(const float* x, void* dst, std::int64_t n, const float* qw);
void quantizeIq4Xs(const float* x, void* dst, std::int64_t n, const float* qw);
// quantize_row_iq4_nl_ref: no scale search (ntry -1). The other types' _ref is the qw-null path
// above; IQ4_XS's _ref is quantize_iq4_xs itself.
void quantizeIq4NlRef(const float* x, void* dst, std::int64_t n);

// dequantize_row_*: k elements (a multiple of the block size) from k/block blocks.
void dequantizeQ4_0(const void* src, float* y, std::int64_t k);
void dequantizeQ4_1(const void* src, float* y, std::int64_t k);
void dequantizeQ5_0(const void* src, float* y, std::int64_t k);
void dequantizeQ5_1(const void* src, float* y, std::int64_t k);
void dequantizeQ8_0(const void* src, float* y, std::int64_t k);
void dequantizeQ8_1(const void* src, float* y, std::int64_t k); // d*q (ggml has no to_float)
void dequantizeQ2_K(const void* src, float* y, std::int64_t k);
void dequantizeQ3_K(const void* src, float* y, std::int64_t k);
void dequantizeQ4_K(const void* src, float* y, std::int64_t k);
void dequantizeQ5_K(const void* src, float* y, std::int64_t k);
void dequantizeQ6_K(const void* src, float* y, std::int64_t k);
void dequantizeQ8_K(const void* src, float* y, std::int64_t k);
void dequantizeIq4Nl(const void* src, float* y, std::int64_t k);
void dequantizeIq4Xs(const void* src, float* y, std::int64_t k);
// Decode only (ggml_dequant_iq.cpp): the grid, ternary, FP4 and 1-/2-bit types GGUF files hold.
void dequantizeIq2Xxs(const void* src, float* y, std::int64_t k);
void dequantizeIq2Xs(const void* src, float* y, std::int64_t k);
void dequantizeIq2S(const void* src, float* y, std::int64_t k);
void dequantizeIq3Xxs(const void* src, float* y, std::int64_t k);
void dequantizeIq3S(const void* src, float* y, std::int64_t k);
void dequantizeIq1S(const void* src, float* y, std::int64_t k);
void dequantizeIq1M(const void* src, float* y, std::int64_t k);
void dequantizeTq1_0(const void* src, float* y, std::int64_t k);
void dequantizeTq2_0(const void* src, float* y, std::int64_t k);
void dequantizeMxfp4(const void* src, float* y, std::int64_t k);
void dequantizeNvfp4(const void* src, float* y, std::int64_t k);
void dequantizeQ1_0(const void* src, float* y, std::int64_t k);
void dequantizeQ2_0(const void* src, float* y, std::int64_t k);

} // namespace qs::ggml
