#pragma once
// The block inspector of the packing lesson: one group of weights walked through a real 4-bit
// storage format — raw values, the group's scale(s) and zero, the integer code of each element,
// the PACKED BYTES exactly as that format stores them, the reconstruction and the error.
// Every number comes from the project's quantizers (int_quant, nf_quant, ggml_quant,
// mx_quant/float_formats), so it is what the rest of the app computes. Pure; any thread.
//
// Formats, their blocks and where each element's 4-bit code lands (NUMERICS.md §1.3, §2.2,
// §3.2-3.3, §5.3, §5.7, §12.2):
//   int4   32  asym int4:g32 (GPTQ); codes packed as GPTQ / compressed-tensors do, eight per
//              little-endian int32 with element 0 in bits 0-3: byte i = e[2i] | e[2i+1] << 4;
//              then the fp16 scale and the 4-bit zero-point (kept in separate tensors there).
//   q4_0   32  ggml block {fp16 d; qs[16]}: element j in the LOW nibble of qs[j], element j+16
//              in the HIGH nibble. Bytes identical to ggml's quantize_q4_0.
//   q4_k   256 ggml super-block {fp16 d; fp16 dmin; scales[12]; qs[128]}: eight sub-blocks of 32
//              with 6-bit (scale, min) pairs; per 64 elements c, element 64c+l (l < 32) in the low
//              nibble of qs[32c+l] and 64c+32+l in its high nibble. Identical to ggml.
//   nf4    64  bitsandbytes: codes two per byte, FIRST element in the HIGH nibble
//              (byte i = e[2i] << 4 | e[2i+1]), then the fp32 absmax (its own tensor in bnb).
//   mxfp4  32  OCP MX: one E8M0 shared exponent byte, then E2M1 codes packed low nibble first
//              as torchao / compressed-tensors do (byte i = e[2i] | e[2i+1] << 4).
//   nvfp4  16  one E4M3 block-scale byte, then E2M1 codes low nibble first; the fp32 tensor scale
//              is stored once per tensor and is not part of the block bytes.
// Every element is reconstructed as codeValue * scale + offset (see ElementWalk).

#include "util/result.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qs {

enum class BlockFormat { Int4, Q4_0, Q4_K, NF4, MXFP4, NVFP4 };

inline constexpr BlockFormat kBlockFormats[] = {BlockFormat::Int4,  BlockFormat::Q4_0,
                                                BlockFormat::Q4_K,  BlockFormat::NF4,
                                                BlockFormat::MXFP4, BlockFormat::NVFP4};

std::string_view blockFormatName(BlockFormat f); // "int4", "q4_0", "q4_k", "nf4", ...
int blockElements(BlockFormat f);                // 32, 32, 256, 64, 32, 16
std::string blockFormatSpec(BlockFormat f);      // the scheme spec it corresponds to

// How two 4-bit codes share a byte.
enum class NibbleOrder {
    LowFirst,  // element 2i in the low nibble, 2i+1 in the high one
    HighFirst, // element 2i in the high nibble (bitsandbytes)
    HalfSplit, // element j low, j + 16 high, of byte j (ggml legacy blocks of 32)
    KQuant,    // per 64 elements: l low, l + 32 high, of byte 32c + l (ggml K-quants)
};
NibbleOrder nibbleOrder(BlockFormat f);

// What a run of the packed bytes holds.
enum class FieldKind {
    Codes,
    Scale,          // fp16 delta / scale
    ZeroPoint,      // int4 zero-point
    Absmax,         // fp32 absmax (nf4)
    SharedExponent, // E8M0 (mxfp4)
    BlockScale,     // E4M3 (nvfp4)
    TensorScale,    // fp32 per tensor (nvfp4; not in the block bytes)
    SuperScale,     // q4_k d
    SuperMin,       // q4_k dmin
    SubScales,      // q4_k packed 6-bit scales and mins
    SubScale,       // q4_k one sub-block's 6-bit scale (a value, not a byte run)
    SubMin,         // q4_k one sub-block's 6-bit min
};

struct ByteField {
    FieldKind kind;
    std::size_t offset = 0;
    std::size_t size = 0;
};

struct ScaleValue {
    FieldKind kind;
    int index = -1;           // sub-block for SubScale / SubMin, -1 otherwise
    double value = 0;         // what it stands for (e.g. 2^(e-127) for E8M0)
    std::uint32_t stored = 0; // its stored bits
    int storedBits = 0;       // 4, 6, 8, 16, 32
};

struct ElementWalk {
    float raw = 0;
    int code = 0;        // the stored 4-bit code, 0..15
    float codeValue = 0; // what the code means before scaling: q - zero, table value, E2M1
    float scale = 0;     // the multiplier applied to codeValue
    float offset = 0;    // added after (q4_k: -dmin * min); 0 elsewhere
    float reconstruction = 0;
    float error = 0;      // raw - reconstruction
    std::size_t byte = 0; // where the code lives in `bytes`
    bool highNibble = false;
    int subBlock = 0; // q4_k sub-block (0..7), 0 elsewhere
};

struct BlockWalk {
    BlockFormat format = BlockFormat::Int4;
    NibbleOrder order = NibbleOrder::LowFirst;
    std::vector<ElementWalk> elements;
    std::vector<ScaleValue> scales;
    std::vector<std::uint8_t> bytes; // exactly as the format stores one block
    std::vector<ByteField> fields;   // the layout of `bytes`, in order
    double bitsPerWeight = 0;        // bytes * 8 / elements (nvfp4 adds its tensor scale apart)
};

// Walks `group` (exactly blockElements(f) values) through format `f`. `tensorAbsmax` is the
// absolute maximum of the whole tensor the group comes from (nvfp4's per-tensor scale); 0 or less
// means the group's own. Errors: wrong length, non-finite values.
Result<BlockWalk> inspectBlock(BlockFormat f, std::span<const float> group,
                               float tensorAbsmax = 0.0f);

// The code stored at `e`'s place in `bytes` (reads the nibble back: used to check the packing).
int codeAt(const BlockWalk& w, std::size_t element);

} // namespace qs
