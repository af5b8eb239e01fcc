#pragma once
// The typed value fields of an ONNX TensorProto (float_data, int32_data, int64_data,
// double_data, uint64_data): which one holds a given element type, and a TensorSource that
// decodes them from the mapped model when the tensor is read. int32_data carries the bit
// patterns of f16, bf16 and fp8 values as well as the small integer types (onnx.proto).

#include "io/checkpoint.h"

namespace qs {

// TensorProto field numbers (onnx.proto).
enum OnnxTensorField : std::uint32_t {
    kDims = 1,
    kDataType = 2,
    kSegment = 3,
    kFloatData = 4,
    kInt32Data = 5,
    kInt64Data = 7,
    kName = 8,
    kRawData = 9,
    kDoubleData = 10,
    kUint64Data = 11,
    kExternalData = 13,
    kDataLocation = 14,
};

// The field that holds elements of `t` and how many field values make one element (complex
// numbers take two); {0, 0} when values of `t` are not supported in typed fields.
std::pair<std::uint32_t, int> onnxTypedField(DType t);

// Reads `field` of the TensorProto `message` (bytes inside `model`, which the source keeps
// alive) each time the tensor is read; holds nothing else. Any thread may call read().
std::shared_ptr<const TensorSource> makeOnnxTypedSource(std::shared_ptr<const MappedFile> model,
                                                        std::span<const std::byte> message,
                                                        std::uint32_t field);

} // namespace qs
