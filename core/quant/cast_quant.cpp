#include "quant/cast_quant.h"

#include "tensor/dtype.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace qs {

Result<QuantOutput> quantizeCast(const Scheme& s, MatrixView m, const ProgressFn& progress) {
    QuantOutput out;
    out.reconstruction.resize(m.size());
    auto apply = [&](auto fn) {
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m.size(), 1 << 16),
                          [&](const tbb::blocked_range<std::size_t>& r) {
                              for (std::size_t i = r.begin(); i != r.end(); ++i)
                                  out.reconstruction[i] = fn(m.data[i]);
                          });
    };
    if (s.family == "f16")
        apply([](float x) { return halfToFloat(floatToHalf(x)); });
    else if (s.family == "bf16")
        apply([](float x) { return bf16ToFloat(floatToBf16(x)); });
    else
        apply([](float x) { return x; });
    out.cost.elements = m.size();
    out.cost.payloadBits = m.size() * static_cast<std::uint64_t>(s.bits);
    out.levelsNote = "every representable value (too dense to draw)";
    if (!reportProgress(progress, 1.0)) return cancelledError();
    return out;
}

} // namespace qs
