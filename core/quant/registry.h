#pragma once
// The one table of quantization families. Spec parsing, the GUI's menus, the CLI and reports
// are all built from it; a family whose `quantize` is null is known to the grammar but not
// implemented yet, and says so.

#include "quant/scheme.h"
#include "quant/storage_cost.h"
#include "util/progress.h"
#include "util/result.h"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace qs {

enum class FamilyKind {
    Uniform,      // int
    Companding,   // mulaw, alaw, log
    Codebook,     // nf, bnb_fp4
    FloatElement, // fp4, fp6_*, fp8_*
    Microscaling, // mx*, nvfp4
    GgmlBlock,    // q4_0 ... iq4_xs
    Learned,      // kmeans
    Optimized,    // hqq, sinq
    Calibrated,   // gptq, awq, autoround, smoothquant
    Cast,         // f16, bf16, f32
};

// A row-major matrix view: `rows` x `cols` floats.
struct MatrixView {
    const float* data = nullptr;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::size_t size() const { return static_cast<std::size_t>(rows * cols); }
};

// A count a family reports about one quantization, e.g. MX blocks that saturated
// ("saturated_blocks") or flushed to zero; shown by the CLI (JSON "diagnostics") and the GUI.
struct Diagnostic {
    std::string key; // snake_case, stable: used as the JSON key
    double value = 0;
    std::string description; // one short phrase for people
};

struct QuantOutput {
    std::vector<float> reconstruction; // same shape as the input
    StorageCost cost;
    std::vector<float> levels; // reconstruction levels of the widest scale group, sorted
    std::string levelsNote;    // which group `levels` belong to, for the UI
    std::vector<Diagnostic> diagnostics;
};

using QuantizeFn = Result<QuantOutput> (*)(const Scheme&, MatrixView, const ProgressFn&);
// Calibrated families (GPTQ, AWQ, ...) also see the layer's input activations
// [tokens, in_features]; quantize() has checked that in_features equals the weight's cols.
using CalibratedQuantizeFn = Result<QuantOutput> (*)(const Scheme&, MatrixView weights,
                                                     MatrixView activations, const ProgressFn&);
using UnitLevelsFn = std::vector<float> (*)(const Scheme&);

struct FamilyInfo {
    std::string_view name;
    FamilyKind kind;
    int minBits = 0, maxBits = 0; // variable width; both 0 for fixed formats
    int elementBits = 0;          // fixed formats: bits of one element code
    int blockSize = 0;            // formats with a fixed block; 0 = granularity chosen by the user
    Granularity defaultGranularity = Granularity::Tensor;
    int defaultGroupSize = 0;
    bool hasSymmetry = false; // accepts sym/asym
    bool defaultSymmetric = false;
    std::string_view description;
    QuantizeFn quantize = nullptr;     // null: known to the grammar, not implemented yet
    UnitLevelsFn unitLevels = nullptr; // levels for a unit scale (null: none / data dependent)
    // Calibrated families fill this instead of `quantize`: a separate slot keeps every
    // calibration-free quantizer's signature unchanged. The ggml block formats fill both: this
    // one runs for their `imatrix` option.
    CalibratedQuantizeFn quantizeCalibrated = nullptr;

    bool fixedBits() const { return minBits == 0; }
    bool implemented() const { return quantize != nullptr || quantizeCalibrated != nullptr; }
    // The whole family needs activations (see also needsActivations(const Scheme&)).
    bool needsActivations() const { return kind == FamilyKind::Calibrated; }

    // Which options of the grammar apply (spec parsing and the scheme panel both ask here).
    // Block formats fix their own block and casts have no scale, so neither takes gN/channel.
    bool hasGranularity() const { return blockSize == 0 && kind != FamilyKind::Cast; }
    bool acceptsClip() const {
        return kind == FamilyKind::Uniform || kind == FamilyKind::Companding ||
               kind == FamilyKind::Codebook || kind == FamilyKind::FloatElement;
    }
    bool acceptsRound() const { return acceptsClip() || kind == FamilyKind::Microscaling; }
    bool acceptsScaleRule() const { return kind == FamilyKind::Microscaling && name != "nvfp4"; }
    bool acceptsDq() const { return kind == FamilyKind::Codebook; }
    // Family-specific options (bare flags or key=value), e.g. gptq's act_order and damp.
    std::vector<std::string_view> extraOptions() const;
};

std::span<const FamilyInfo> families();
const FamilyInfo* findFamily(std::string_view name);
std::string familyNamesList(); // "int, mulaw, ..." for error messages

// What the SQNR-vs-width chart compares a fixed-width family with: its siblings one per width,
// narrowest first, the family among them (q4_k: q2_k, q3_k, q4_k, q5_k, q6_k, q8_0 as
// llama-quantize offers them; mxfp4: mxfp4, mxfp6_e2m3, mxfp8_e4m3, the range-heavy e3m2/e5m2
// ladder for those). A family with no siblings (nvfp4, iq4_nl, the casts) is alone.
std::vector<std::string_view> fixedWidthLadder(std::string_view family);

// ggml block formats' option `imatrix` (q4_k:imatrix): quantized as llama-quantize does with an
// importance matrix, computed from the layer's activations as llama-imatrix does.
inline constexpr std::string_view kImatrixOption = "imatrix";

// One tensor's importance from a llama.cpp imatrix file (llama-quantize's quant_weights, one per
// input column), for the imatrix option in place of activations.
struct ImportanceWeights {
    std::span<const float> values; // empty: the file has no entry for this tensor
    std::string source;            // the file, for messages
};

// Whether quantizing with `s` needs the layer's input activations: the calibrated families, and
// the ggml block formats with the imatrix option.
bool needsActivations(const Scheme& s);

// Quantizes and reconstructs `m` with `s`. Errors for families not implemented yet.
// `activations` ([tokens, m.cols], not owned, may be null) are required where
// needsActivations(s) (an error without them; NotApplicable when their features differ from
// m.cols) and ignored otherwise. `importance`, where given, takes the activations' place for the
// imatrix option: the ggml format quantizes with it (without it where it is empty, as
// llama-quantize does for a tensor its file has no entry for, with a diagnostic saying so).
Result<QuantOutput> quantize(const Scheme& s, MatrixView m, const ProgressFn& progress = {},
                             const MatrixView* activations = nullptr,
                             const ImportanceWeights* importance = nullptr);
// Whether quantizing any run of whole rows alone gives exactly those rows of the whole tensor's
// result, its storage cost adding up and its diagnostics (counts) summing: scales per group or
// per row, ggml and MX blocks, casts. Not: one tensor scale (tensor granularity, nvfp4's fp32
// scale), double-quantized scales, stochastic rounding (its random stream runs
// over the flat index), and families that look at the whole matrix (k-means, HQQ, SINQ, the
// calibrated ones and the imatrix option). Streaming analysis reads big tensors in row chunks when
// this holds for their width (or the one tensor scale comes from the tensor's min and max, read
// first: fusedTakesTensorRange) (the second form: bitsandbytes' blocks, nf and bnb_fp4, run over
// the flattened tensor, so rows of `cols` not a multiple of the group size share blocks).
bool rowSeparable(const Scheme& s);
bool rowSeparable(const Scheme& s, std::int64_t cols);
// rowSeparable(s, cols), or the ggml formats' imatrix option, which weighs every row's columns
// alike given the same inputs for every run of rows (an importance per column, from the layer's
// activations or an imatrix entry). With inputs, the output error's sums add up over rows too
// (one output column per row of W).
bool rowSeparableGivenInputs(const Scheme& s, std::int64_t cols);
// The bits of `cost` (the storage of `s` on some rows of a tensor) that the tensor stores once,
// whatever its rows: everything but the payload under tensor granularity (its one scale and
// zero-point), nvfp4's fp32 tensor scale. Runs of rows analysed apart count them once.
StorageCost perTensorCost(const Scheme& s, const StorageCost& cost);

// Reconstruction levels for a unit scale, sorted; an error if the family has none.
Result<std::vector<float>> unitLevels(const Scheme& s);

} // namespace qs
