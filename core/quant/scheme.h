#pragma once
// A quantization scheme as a value: parsed from and printed to the spec grammar of DESIGN.md,
// `FAMILY[BITS][:OPTION]...`, e.g. "int4:g128", "nf4:g64:dq", "mxfp4". print(parse(s)) is the
// canonical form and parse(print(x)) == x. Validation against the family registry happens in
// parse(), so a Scheme that exists is well-formed.

#include "util/result.h"

#include <map>
#include <string>
#include <string_view>

namespace qs {

enum class Granularity { Tensor, Channel, Group, Block };
enum class Clip { MinMax, Mse, Percentile };
enum class Rounding { Nearest, Stochastic };
enum class MxScaleRule { Floor, Ceil, Even, RCeil };

struct Scheme {
    std::string family; // registry name, e.g. "int", "nf", "mxfp4", "q4_k"
    int bits = 0;       // element bits (fixed formats: their own)
    Granularity granularity = Granularity::Tensor;
    int groupSize = 0; // Group: elements per group; Block: the format's block
    bool symmetric = false;
    bool fullRange = false;   // int sym: range=full (compressed-tensors [-2^(b-1), 2^(b-1)-1])
    bool doubleQuant = false; // dq: 8-bit quantized scales (bitsandbytes)
    Clip clip = Clip::MinMax;
    double clipPercentile = 100.0;
    Rounding rounding = Rounding::Nearest;
    MxScaleRule scaleRule = MxScaleRule::Floor;
    double familyParam = 0.0;                 // mu for mulaw, A for alaw
    std::map<std::string, std::string> extra; // family-specific key=value options

    static Result<Scheme> parse(std::string_view spec);
    std::string toString() const; // canonical spec
    bool operator==(const Scheme&) const = default;
};

std::string_view granularityName(Granularity g);

} // namespace qs
