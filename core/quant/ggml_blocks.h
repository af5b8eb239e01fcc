#pragma once
// Every ggml quantization block layout the project reads or writes, as plain structs that host and
// CUDA code both compile (fixed-width integers only; a half is its raw uint16_t bits). Field order
// and sizes are ggml's ggml-common.h (NUMERICS.md §12.2); each size is asserted so a layout can
// never drift. The traits table below is the one list of ggml type ids, names, block sizes and
// bytes per block: the quantizers, the GGUF reader and writer and the CUDA kernels all use it.

#include <stddef.h>
#include <stdint.h>

namespace qs {

constexpr int kQK4_0 = 32;  // legacy formats: 32 elements per block
constexpr int kQK_K = 256;  // K-quants and most IQ types: super-blocks of 256
constexpr int kQK4_NL = 32; // IQ4_NL
constexpr int kQK_MXFP4 = 32;
constexpr int kQK_NVFP4 = 64;
constexpr int kQK1_0 = 128;
constexpr int kQK2_0 = 64;

// ---- legacy formats (blocks of 32) -------------------------------------------------------

struct BlockQ4_0 {
    uint16_t d;     // delta
    uint8_t qs[16]; // element j in the low nibble of qs[j], element j+16 in the high nibble
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block is 18 bytes");

struct BlockQ4_1 {
    uint16_t d;     // delta
    uint16_t m;     // min
    uint8_t qs[16]; // nibbles as Q4_0
};
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block is 20 bytes");

struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];  // bit 4 of element j at bit j of the little-endian uint32
    uint8_t qs[16]; // low 4 bits as Q4_0
};
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block is 22 bytes");

struct BlockQ5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_1) == 24, "Q5_1 block is 24 bytes");

struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block is 34 bytes");

struct BlockQ8_1 {
    uint16_t d;
    uint16_t s; // d * sum(qs)
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_1) == 36, "Q8_1 block is 36 bytes");

// ---- K-quants (super-blocks of 256) ------------------------------------------------------

struct BlockQ2_K {
    uint8_t scales[16]; // low nibble: scale, high nibble: min, per 16 elements
    uint8_t qs[64];     // 2-bit codes, four per byte (shifts 0, 2, 4, 6 within each 128)
    uint16_t d;         // super-block scale for the scales
    uint16_t dmin;      // super-block scale for the mins
};
static_assert(sizeof(BlockQ2_K) == 84, "Q2_K block is 84 bytes");

struct BlockQ3_K {
    uint8_t hmask[32];  // high bit of each 3-bit code
    uint8_t qs[64];     // low 2 bits
    uint8_t scales[12]; // sixteen 6-bit scales, offset by 32
    uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110, "Q3_K block is 110 bytes");

struct BlockQ4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12]; // eight 6-bit (scale, min) pairs, see get_scale_min_k4
    uint8_t qs[128];
};
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block is 144 bytes");

struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[32]; // 5th bit
    uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block is 176 bytes");

struct BlockQ6_K {
    uint8_t ql[128];   // low 4 bits
    uint8_t qh[64];    // high 2 bits
    int8_t scales[16]; // 8-bit scales per 16 elements
    uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block is 210 bytes");

struct BlockQ8_K {
    float d; // a float, not a half: Q8_K is ggml's intermediate for dot products
    int8_t qs[256];
    int16_t bsums[16]; // sums of qs per 16
};
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block is 292 bytes");

// ---- non-linear and grid types -----------------------------------------------------------

// kvalues_iq4nl: the IQ4_NL/IQ4_XS code book (ggml-common.h).
constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                     1,    13,   25,  38,  53,  69,  89,  113};

struct BlockIq4Nl {
    uint16_t d;
    uint8_t qs[16];
};
static_assert(sizeof(BlockIq4Nl) == 18, "IQ4_NL block is 18 bytes");

struct BlockIq4Xs {
    uint16_t d;
    uint16_t scalesH;   // high 2 bits of the eight 6-bit sub-block scales
    uint8_t scalesL[4]; // low 4 bits, two per byte
    uint8_t qs[128];
};
static_assert(sizeof(BlockIq4Xs) == 136, "IQ4_XS block is 136 bytes");

// Layouts for the grid-based types issue 3's reader decodes (grids live with their decoders).
struct BlockIq2Xxs {
    uint16_t d;
    uint16_t qs[32];
};
static_assert(sizeof(BlockIq2Xxs) == 66, "IQ2_XXS block is 66 bytes");

struct BlockIq2Xs {
    uint16_t d;
    uint16_t qs[32];
    uint8_t scales[8];
};
static_assert(sizeof(BlockIq2Xs) == 74, "IQ2_XS block is 74 bytes");

struct BlockIq2S {
    uint16_t d;
    uint8_t qs[64];
    uint8_t qh[8];
    uint8_t scales[8];
};
static_assert(sizeof(BlockIq2S) == 82, "IQ2_S block is 82 bytes");

struct BlockIq3Xxs {
    uint16_t d;
    uint8_t qs[96];
};
static_assert(sizeof(BlockIq3Xxs) == 98, "IQ3_XXS block is 98 bytes");

struct BlockIq3S {
    uint16_t d;
    uint8_t qs[64];
    uint8_t qh[8];
    uint8_t signs[32];
    uint8_t scales[4];
};
static_assert(sizeof(BlockIq3S) == 110, "IQ3_S block is 110 bytes");

struct BlockIq1S {
    uint16_t d;
    uint8_t qs[32];
    uint16_t qh[8];
};
static_assert(sizeof(BlockIq1S) == 50, "IQ1_S block is 50 bytes");

struct BlockIq1M {
    uint8_t qs[32];
    uint8_t qh[16];
    uint8_t scales[8]; // the fp16 super-block scale is spread over the top nibbles
};
static_assert(sizeof(BlockIq1M) == 56, "IQ1_M block is 56 bytes");

struct BlockTq1_0 {
    uint8_t qs[48]; // five ternary digits per byte
    uint8_t qh[4];  // four per byte
    uint16_t d;
};
static_assert(sizeof(BlockTq1_0) == 54, "TQ1_0 block is 54 bytes");

struct BlockTq2_0 {
    uint8_t qs[64];
    uint16_t d;
};
static_assert(sizeof(BlockTq2_0) == 66, "TQ2_0 block is 66 bytes");

struct BlockMxfp4 {
    uint8_t e; // E8M0 shared exponent
    uint8_t qs[16];
};
static_assert(sizeof(BlockMxfp4) == 17, "MXFP4 block is 17 bytes");

struct BlockNvfp4 {
    uint8_t d[4]; // UE4M3 scale per 16
    uint8_t qs[32];
};
static_assert(sizeof(BlockNvfp4) == 36, "NVFP4 block is 36 bytes");

// ---- the traits table ----------------------------------------------------------------------

// ggml_type ids as GGUF stores them (ids 4, 5, 31-33, 36-38 were removed upstream).
enum class GgmlType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
    Q2_0 = 42,
};

struct GgmlTypeTraits {
    GgmlType type;
    const char* name;  // ggml's spelling, e.g. "q4_K"
    int blockSize;     // elements per block (1 for plain element types)
    int bytesPerBlock; // bytes per block
    bool quantized;
};

constexpr GgmlTypeTraits kGgmlTypeTraits[] = {
    {GgmlType::F32, "f32", 1, 4, false},
    {GgmlType::F16, "f16", 1, 2, false},
    {GgmlType::Q4_0, "q4_0", kQK4_0, sizeof(BlockQ4_0), true},
    {GgmlType::Q4_1, "q4_1", kQK4_0, sizeof(BlockQ4_1), true},
    {GgmlType::Q5_0, "q5_0", kQK4_0, sizeof(BlockQ5_0), true},
    {GgmlType::Q5_1, "q5_1", kQK4_0, sizeof(BlockQ5_1), true},
    {GgmlType::Q8_0, "q8_0", kQK4_0, sizeof(BlockQ8_0), true},
    {GgmlType::Q8_1, "q8_1", kQK4_0, sizeof(BlockQ8_1), true},
    {GgmlType::Q2_K, "q2_K", kQK_K, sizeof(BlockQ2_K), true},
    {GgmlType::Q3_K, "q3_K", kQK_K, sizeof(BlockQ3_K), true},
    {GgmlType::Q4_K, "q4_K", kQK_K, sizeof(BlockQ4_K), true},
    {GgmlType::Q5_K, "q5_K", kQK_K, sizeof(BlockQ5_K), true},
    {GgmlType::Q6_K, "q6_K", kQK_K, sizeof(BlockQ6_K), true},
    {GgmlType::Q8_K, "q8_K", kQK_K, sizeof(BlockQ8_K), true},
    {GgmlType::IQ2_XXS, "iq2_xxs", kQK_K, sizeof(BlockIq2Xxs), true},
    {GgmlType::IQ2_XS, "iq2_xs", kQK_K, sizeof(BlockIq2Xs), true},
    {GgmlType::IQ3_XXS, "iq3_xxs", kQK_K, sizeof(BlockIq3Xxs), true},
    {GgmlType::IQ1_S, "iq1_s", kQK_K, sizeof(BlockIq1S), true},
    {GgmlType::IQ4_NL, "iq4_nl", kQK4_NL, sizeof(BlockIq4Nl), true},
    {GgmlType::IQ3_S, "iq3_s", kQK_K, sizeof(BlockIq3S), true},
    {GgmlType::IQ2_S, "iq2_s", kQK_K, sizeof(BlockIq2S), true},
    {GgmlType::IQ4_XS, "iq4_xs", kQK_K, sizeof(BlockIq4Xs), true},
    {GgmlType::I8, "i8", 1, 1, false},
    {GgmlType::I16, "i16", 1, 2, false},
    {GgmlType::I32, "i32", 1, 4, false},
    {GgmlType::I64, "i64", 1, 8, false},
    {GgmlType::F64, "f64", 1, 8, false},
    {GgmlType::IQ1_M, "iq1_m", kQK_K, sizeof(BlockIq1M), true},
    {GgmlType::BF16, "bf16", 1, 2, false},
    {GgmlType::TQ1_0, "tq1_0", kQK_K, sizeof(BlockTq1_0), true},
    {GgmlType::TQ2_0, "tq2_0", kQK_K, sizeof(BlockTq2_0), true},
    {GgmlType::MXFP4, "mxfp4", kQK_MXFP4, sizeof(BlockMxfp4), true},
    {GgmlType::NVFP4, "nvfp4", kQK_NVFP4, sizeof(BlockNvfp4), true},
    {GgmlType::Q1_0, "q1_0", kQK1_0, 18, true},
    {GgmlType::Q2_0, "q2_0", kQK2_0, 18, true},
};

// The traits of `t`, or nullptr for an id this table does not know (a GGUF reader lists such a
// tensor as unsupported rather than failing the whole file).
constexpr const GgmlTypeTraits* ggmlTypeTraits(GgmlType t) {
    for (const auto& tr : kGgmlTypeTraits)
        if (tr.type == t)
            return &tr;
    return nullptr;
}

} // namespace qs
