#include "learn/lesson_catalogue.h"

#include <QCoreApplication>
#include <QStringList>

namespace qs {
namespace {

#define T(s) QT_TRANSLATE_NOOP("qs::Lessons", s)

constexpr Distribution kGauss = Distribution::Gaussian;
constexpr Distribution kLaplace = Distribution::Laplace;

// ---- linear ------------------------------------------------------------------------------
constexpr const char* kIntOnly[] = {"int"};
constexpr LessonStep kLinear[] = {
    {T("Weights are just numbers"),
     T("A layer of a neural network stores its weights as 16- or 32-bit floating-point numbers. "
       "<b>Quantization</b> replaces every weight by one of a few allowed values, the "
       "<b>levels</b>, so that it can be stored as a small integer <b>code</b>. The histogram "
       "shows 16,384 synthetic weights shaped like a trained layer's; the coloured lines are the "
       "levels a 4-bit code can name: L = 2<sup>b</sup> = 16."),
     T("Move <b>Bits</b> from 4 to 3: the number of lines halves (L = 8)."),
     {.group = 0}},
    {T("The step Δ"),
     T("Uniform (linear) quantization spaces the levels evenly. With the range [min, max] and "
       "L levels the step is Δ = (max − min)/(L − 1). A weight x becomes the code "
       "q = round(x/Δ) + z, where the <b>zero-point</b> z makes 0 exactly representable, and is "
       "read back as x̂ = Δ·(q − z). The formula panel follows one weight through these steps."),
     T("Compare Δ at 4 and at 3 bits: one bit less doubles the step (15/7 ≈ 2.1 times)."),
     {.group = 0}},
    {T("A staircase and its error"),
     T("The <b>transfer function</b> maps every input to its reconstruction: a staircase with "
       "steps of Δ. The rounding error x − x̂ stays within ±Δ/2, so its histogram is flat. "
       "<b>SQNR</b> (signal-to-quantization-noise ratio) compares the power of the weights with "
       "the power of the error, in decibels: higher is better."),
     T("Raise the bits one at a time: every bit halves Δ and adds about 6 dB of SQNR."),
     {.bits = 3, .group = 0}},
    {T("Long tails"),
     T("Real weights are not uniform: most are small, a few are large. A heavy-tailed "
       "distribution such as Laplace stretches [min, max], so the step grows and the crowded "
       "middle is served by only a few levels."),
     T("Switch the distribution between Gaussian, Laplace and uniform and compare SQNR."),
     {.distribution = kLaplace, .group = 0}},
};

// ---- mulaw -------------------------------------------------------------------------------
constexpr const char* kMuFamilies[] = {"mulaw", "int"};
constexpr LessonStep kMulaw[] = {
    {T("Small values deserve small steps"),
     T("A uniform grid spends as many levels on the rare large values as on the crowded middle. "
       "<b>Companding</b> bends the input through a curve first: μ-law computes "
       "y = F(x) = sgn(x)·ln(1 + μ|x|)/ln(1 + μ) on x scaled to [−1, 1], quantizes y "
       "uniformly, and expands back with F<sup>−1</sup>(y) = sgn(y)·((1 + μ)<sup>|y|</sup> − "
       "1)/μ."),
     T("Look at the staircase: fine steps near zero, coarse ones at the ends. Drag μ to 1 and to "
       "1000."),
     {.family = "mulaw", .group = 0}},
    {T("Constant SNR over amplitude"),
     T("μ-law comes from telephony: speech gets loud and quiet while the converter's range stays "
       "fixed. The lower-right chart plays a sine wave at amplitudes from −60 dB to full scale "
       "through a fixed-range quantizer. The uniform grid loses 1 dB of SNR for every dB "
       "quieter; μ-law keeps the SNR nearly flat over a wide range and pays a little at full "
       "scale."),
     T("Set Bits to 8 (G.711 uses μ = 255 at 8 bits), then lower μ and watch the curves meet."),
     {.family = "mulaw", .bits = 8, .group = 0}},
    {T("Companding weights"),
     T("For weights the scale follows the data (its absmax), so loudness is not the issue, but "
       "the shape is. Telephony's μ = 255 bends too hard for 4 bits: on Gaussian weights with "
       "one scale per tensor it loses to int4 (about 13 dB against 16.5), while a gentler "
       "μ = 10 wins (about 18). On Laplace data, whose tails are heavier, μ-law wins at either "
       "μ (13 and 16.6 dB against 12): the even grid spends its levels on rare large values. "
       "Scales per group of 64 help int more than μ-law (int4:g64:sym reaches 19 dB on the "
       "Gaussian)."),
     T("Switch the family between mulaw and int at 4 bits, on Gaussian and on Laplace data; "
       "then drag μ down to 10."),
     {.distribution = kLaplace, .family = "mulaw", .group = 0}},
};

// ---- nf4 ---------------------------------------------------------------------------------
constexpr const char* kNfFamilies[] = {"nf", "int"};
constexpr LessonStep kNf4[] = {
    {T("Levels where the weights are"),
     T("<b>NormalFloat</b> (from QLoRA) puts its 16 levels at quantiles of a normal "
       "distribution, so every level serves about as many weights as any other: dense near zero, "
       "sparse in the tails. Each block of 64 weights is divided by its absmax (largest |x|), "
       "the nearest table entry is found, and its 4-bit index is stored."),
     T("See how the levels crowd the middle of the histogram; compare the error histogram with "
       "int's."),
     {.family = "nf"}},
    {T("NF4 against int4"),
     T("The lower-right chart measures all bit widths on this data, with the same blocks. At "
       "2 to 4 bits NormalFloat beats symmetric int, which scales by the absmax just as NF "
       "does; asymmetric int, which pays for a zero-point per group, is about level with it. "
       "With more bits an even grid wins: quantile levels pay off when there are few of them. "
       "On uniform data the even grid wins at every width."),
     T("Switch the distribution to uniform, then back to Gaussian."),
     {.family = "nf"}},
    {T("An exact zero, and the cost of absmax"),
     T("NF4 has 8 positive levels, 7 negative ones and an exact 0, so zero weights stay zero. The "
       "absmax of each block is stored as a 32-bit float: 32/64 = 0.5 extra bits per weight, "
       "4.5 in total. Bigger blocks cost less but fit the data less closely."),
     T("Change Group size to 32 and to 256 and watch bits per weight and SQNR."),
     {.family = "nf", .group = 256}},
};

// ---- granularity -------------------------------------------------------------------------
constexpr LessonStep kGranularity[] = {
    {T("One scale for everything"),
     T("A <b>scale</b> converts between integer codes and real values. With one scale for the "
       "whole tensor, the single largest weight decides the step for all the others. Here a few "
       "outliers were injected into the data."),
     T("Note the scale count (1) and the SQNR in the formula panel."),
     {.outliers = 4, .group = 0}},
    {T("One scale per row"),
     T("<b>Per-channel</b> quantization gives every output row its own scale, so rows of small "
       "weights get small steps. A [64, 256] matrix then stores 64 scales: almost nothing, for "
       "a clear gain."),
     T("Compare SQNR for Group size ‘tensor’ and ‘channel’."),
     {.outliers = 4, .group = -1}},
    {T("Groups"),
     T("<b>Group-wise</b> quantization cuts each row into groups of g consecutive weights (128, "
       "64, 32, …), each with its own fp16 scale and zero-point. Smaller groups follow the data "
       "more closely but store more scales: (16 + b)/g extra bits per weight. The lower-right "
       "chart shows the trade: SQNR against honest bits per weight for every granularity."),
     T("Move Group size from 128 to 32: the scale count quadruples and SQNR rises."),
     {.outliers = 4, .group = 128}},
};

// ---- packing -----------------------------------------------------------------------------
constexpr LessonStep kPacking[] = {
    {T("Two codes per byte"),
     T("Memory is addressed in bytes, so 4-bit codes are stored two to a byte. Which code goes "
       "into the <b>low nibble</b> (bits 0–3) and which into the <b>high nibble</b> (bits 4–7) is "
       "a convention every format fixes; reading with the wrong one silently scrambles the "
       "weights. The inspector walks one group from raw values to codes, bytes and back."),
     T("Click an element in the table: its nibble lights up in the bytes."),
     {.page = LessonPage::Inspector, .block = BlockFormat::Int4}},
    {T("llama.cpp's Q4_0"),
     T("Q4_0 stores 32 weights in 18 bytes: an fp16 scale d = max/−8, then 16 bytes where byte j "
       "holds weight j in its low nibble and weight j + 16 in its high nibble. Codes are offset "
       "by 8: x̂ = d·(q − 8)."),
     T("Find element 17: it sits in the high nibble of code byte 1."),
     {.page = LessonPage::Inspector, .block = BlockFormat::Q4_0}},
    {T("bitsandbytes NF4"),
     T("bitsandbytes puts the FIRST weight of each pair in the HIGH nibble — the opposite of "
       "ggml and torchao. The block's absmax lives in a separate fp32 tensor, shown here after "
       "the codes."),
     T("Compare byte 0 here with byte 0 of int4: same idea, mirrored nibbles."),
     {.page = LessonPage::Inspector, .block = BlockFormat::NF4}},
    {T("Q4_K super-blocks"),
     T("Q4_K groups 256 weights into 8 sub-blocks of 32. Every sub-block has a 6-bit scale and a "
       "6-bit min, themselves scaled by two fp16 numbers d and dmin: x̂ = d·sc·q − dmin·m. "
       "144 bytes for 256 weights: 4.5 bits per weight."),
     T("Step through the blocks with the Block box and watch the 12 scale bytes change."),
     {.page = LessonPage::Inspector, .block = BlockFormat::Q4_K}},
};

// ---- outliers ----------------------------------------------------------------------------
constexpr LessonStep kOutliers[] = {
    {T("A few huge weights"),
     T("Large language models have a handful of weights (and activations) tens of times larger "
       "than the rest. Here 8 outliers of about 30σ sit among Gaussian weights. With one scale "
       "per tensor they stretch the range, and all ordinary weights collapse onto the few levels "
       "around zero."),
     T("Set Outliers to 0 and back to 8: watch SQNR and the levels."),
     {.outliers = 8, .group = 0}},
    {T("Clip them"),
     T("<b>Clipping</b> the range at a percentile of |x| sacrifices the outliers to keep fine "
       "steps for everyone else: they saturate at the largest level. Whether that pays depends "
       "on how much the outliers matter — in LLMs they often matter a lot."),
     T("Move Clip from 100 to 99.9 and compare SQNR and the largest error."),
     {.outliers = 8, .clip = 99.9, .group = 0}},
    {T("Or isolate them"),
     T("Smaller groups confine an outlier's damage to its own group: per-group scales are why "
       "int4:g128 works on LLM weights where per-tensor int4 fails. The lower-right chart shows "
       "how well the ordinary weights survive as the outliers grow, for one scale per tensor, "
       "per row and per group of 32."),
     T("Raise Outlier size to 100σ, then set Group size to 32."),
     {.outliers = 8, .outlierScale = 60, .group = 32}},
};

// ---- mx ----------------------------------------------------------------------------------
constexpr const char* kMxFamilies[] = {"mxfp4", "nvfp4", "fp4", "int"};
constexpr LessonStep kMx[] = {
    {T("Floating-point codes"),
     T("Codes can be tiny floating-point numbers instead of integers. FP4 <b>E2M1</b> has a "
       "sign, 2 exponent bits and 1 mantissa bit: the values 0, 0.5, 1, 1.5, 2, 3, 4, 6 and "
       "their negatives — fine steps near zero, coarse far out, a built-in companding. Here "
       "every group of 32 has its own full-precision scale that maps its absmax onto 6."),
     T("Compare the uneven levels with int4's even ones (Family: int)."),
     {.family = "fp4", .group = 32}},
    {T("Microscaling: power-of-two scales"),
     T("The OCP <b>MX</b> formats share one scale per block of 32, and the scale is a power of "
       "two stored as an 8-bit exponent (E8M0): X = 2<sup>e − 127</sup>, e chosen from the "
       "block's largest value. Scaling by a power of two is cheap in hardware but can leave the "
       "top of the E2M1 range unused. MXFP4 costs 4 + 8/32 = 4.25 bits per weight."),
     T("Switch between fp4 and mxfp4 and compare SQNR: the price of power-of-two scales."),
     {.family = "mxfp4"}},
    {T("NVFP4: finer scales"),
     T("NVIDIA's <b>NVFP4</b> uses blocks of 16 with an 8-bit float (E4M3) scale plus one fp32 "
       "scale for the whole tensor, so block scales are no longer bound to powers of two. The "
       "lower-right chart places the 4-bit formats by SQNR and bits per weight."),
     T("Switch the family to nvfp4; then add outliers and watch the formats move."),
     {.family = "nvfp4"}},
    {T("Inside an MX block"),
     T("One MXFP4 block in bytes: the shared exponent, then 16 bytes of E2M1 codes, element 2i "
       "in the low nibble as OCP/torchao pack them. (ggml's MXFP4 blocks order the nibbles like "
       "Q4_0 instead.)"),
     T("Switch the format to nvfp4: one E4M3 scale byte for 16 elements."),
     {.page = LessonPage::Inspector, .block = BlockFormat::MXFP4}},
};

// ---- memory ------------------------------------------------------------------------------
constexpr LessonStep kMemory[] = {
    {T("Parameters × bytes"),
     T("The first estimate of a model's memory: parameters times bytes per parameter. An "
       "8-billion-parameter model in fp16 (2 bytes each) needs 16 GB for its weights alone; at 4 "
       "bits it needs a quarter of that."),
     T("Change the scheme from f16 to int4:g64 and watch the bar shrink."),
     {.page = LessonPage::Memory, .memoryItems = 1, .memoryScheme = "f16"}},
    {T("Scales are not free"),
     T("A 4-bit format also stores scales, zero-points or exponents beside the codes. int4 with "
       "groups of 64 pays 0.31 bits per weight for them, nf4:g64 and q4_k 0.5, mxfp4 0.25."),
     T("Try int4:g32 and int4:g128: the scale share changes, the codes do not."),
     {.page = LessonPage::Memory, .memoryItems = 2, .memoryScheme = "int4:g64"}},
    {T("The KV cache"),
     T("Generating text keeps the keys and values of every past token of every sequence: "
       "2 × layers × KV heads × head size × context × batch × bytes. At long contexts and "
       "large batches it outgrows the quantized weights."),
     T("Raise Context to 131072 tokens, or Batch to 16."),
     {.page = LessonPage::Memory, .memoryItems = 3, .memoryScheme = "int4:g64", .context = 32768}},
    {T("Training costs far more"),
     T("Training every parameter with Adam in mixed precision adds gradients (2 bytes), two "
       "optimizer moments (8 bytes) and an fp32 master copy (4 bytes) per parameter. That is "
       "why quantized models are fine-tuned through small adapters (QLoRA) instead."),
     T("Untick the training items one by one to see what each costs."),
     {.page = LessonPage::Memory, .memoryItems = 6, .memoryScheme = "int4:g64"}},
};

#undef T

constexpr unsigned kAll =
    kDataControls | kOutlierControls | kBitsControl | kClipControl | kGroupControl;

constexpr Lesson kLessons[] = {
    {"linear", QT_TRANSLATE_NOOP("qs::Lessons", "Linear quantization"), ExtraChart::SqnrVsBits,
     kDataControls | kBitsControl | kGroupControl, kIntOnly, kLinear},
    {"mulaw", QT_TRANSLATE_NOOP("qs::Lessons", "μ-law companding"), ExtraChart::SnrVsAmplitude,
     kDataControls | kBitsControl | kMuControl | kFamilyControl, kMuFamilies, kMulaw},
    {"nf4", QT_TRANSLATE_NOOP("qs::Lessons", "NormalFloat (NF4)"), ExtraChart::NfVsInt,
     kDataControls | kBitsControl | kGroupControl | kFamilyControl, kNfFamilies, kNf4},
    {"granularity", QT_TRANSLATE_NOOP("qs::Lessons", "Scales: tensor, channel, group"),
     ExtraChart::Granularity, kAll, kIntOnly, kGranularity},
    {"packing", QT_TRANSLATE_NOOP("qs::Lessons", "Packing codes into bytes"),
     ExtraChart::SqnrVsBits, kDataControls, kIntOnly, kPacking},
    {"outliers", QT_TRANSLATE_NOOP("qs::Lessons", "Why outliers hurt"), ExtraChart::OutlierScale,
     kAll, kIntOnly, kOutliers},
    {"mx", QT_TRANSLATE_NOOP("qs::Lessons", "Microscaling: MXFP4 and NVFP4"), ExtraChart::FourBit,
     kDataControls | kOutlierControls | kFamilyControl, kMxFamilies, kMx},
    {"memory", QT_TRANSLATE_NOOP("qs::Lessons", "How much memory?"), ExtraChart::SqnrVsBits, 0,
     kIntOnly, kMemory},
};

} // namespace

std::span<const Lesson> lessons() {
    return kLessons;
}

const Lesson* findLesson(QStringView id) {
    for (const Lesson& l : kLessons)
        if (id == QLatin1String(l.id))
            return &l;
    return nullptr;
}

QString lessonText(const char* source) {
    return QCoreApplication::translate("qs::Lessons", source);
}

QString lessonIdList() {
    QStringList ids;
    for (const Lesson& l : kLessons)
        ids << QLatin1String(l.id);
    return ids.join(QStringLiteral(", "));
}

} // namespace qs
