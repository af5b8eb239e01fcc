#pragma once
// ONNX fixture writers built on the official generated protobuf classes (Debian's libonnx), so
// that Quantscope's reader, which walks the wire format itself, is checked against the real
// schema and a real serializer rather than against itself.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qs::test {

// TensorProto.DataType numbers, including the float8 ones newer than Debian's onnx.proto (1.12);
// data_type is a plain int32 field, so any number can be written.
enum OnnxType : int {
    kOnnxFloat = 1,
    kOnnxUint8 = 2,
    kOnnxInt8 = 3,
    kOnnxInt16 = 5,
    kOnnxInt32 = 6,
    kOnnxInt64 = 7,
    kOnnxString = 8,
    kOnnxBool = 9,
    kOnnxFloat16 = 10,
    kOnnxDouble = 11,
    kOnnxUint64 = 13,
    kOnnxComplex128 = 15,
    kOnnxBfloat16 = 16,
    kOnnxF8E4M3FN = 17,
    kOnnxF8E4M3FNUZ = 18,
    kOnnxF8E5M2 = 19,
    kOnnxF8E5M2FNUZ = 20,
};

// ir_version 8, opset imports ai.onnx 17 and com.microsoft 1, producer "quantscope-tests" 0.1,
// metadata_props author=tests, and an empty graph named `graphName`.
onnx::ModelProto onnxModel(const std::string& graphName = "main");

onnx::TensorProto onnxRawTensor(const std::string& name, int dataType,
                                const std::vector<std::int64_t>& dims,
                                const std::vector<std::uint8_t>& raw);
onnx::TensorProto onnxFloatTensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                  const std::vector<float>& values);
// int32_data: small integers, bools, and the bit patterns of f16, bf16 and fp8 values.
onnx::TensorProto onnxInt32Tensor(const std::string& name, int dataType,
                                  const std::vector<std::int64_t>& dims,
                                  const std::vector<std::int32_t>& values);
onnx::TensorProto onnxInt64Tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                  const std::vector<std::int64_t>& values);
onnx::TensorProto onnxDoubleTensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                   const std::vector<double>& values);
// data_location EXTERNAL at `location` (relative to the model); a negative offset or length is
// left out, as the keys are optional.
onnx::TensorProto onnxExternalTensor(const std::string& name, int dataType,
                                     const std::vector<std::int64_t>& dims,
                                     const std::string& location, std::int64_t offset,
                                     std::int64_t length);

// Appends a Constant node whose `value` attribute is `value` and whose output is `output`.
void addOnnxConstant(onnx::GraphProto& graph, const std::string& output, onnx::TensorProto value,
                     const std::string& nodeName = {});
// Appends a node with GRAPH attributes (If: then_branch/else_branch, Loop/Scan: body).
void addOnnxSubgraphNode(onnx::GraphProto& graph, const std::string& opType,
                         const std::string& name, const std::string& output,
                         const std::vector<std::pair<std::string, onnx::GraphProto>>& graphs);

// A model with a tensor in every place one can live, bit patterns written out by hand:
// initializers w_raw F32 [2,3] 1..6 (raw_data), w_typed F32 [2,2] {0.5,-1.5,2,8} (float_data),
// h_typed F16 [3] {1,-2,0.5} and bf_typed BF16 [2] {0.25,-96} (int32_data), bf_raw BF16 [2]
// {1.5,-3}, f8_e4m3 [4] {1,-1,448,2^-9}, f8_e5m2 [2] {1,-2} (int32_data), f8_e4m3fnuz [1] {1},
// f8_e5m2fnuz [1] {1}, i8 {-5,7}, u8 {200,1}, i64 {-3,2^40}, d F64 {0.5,-0.25}, b BOOL {1,0,1},
// scalar F32 [] {42}, labels STRING [1]; Constant c0 F32 [2] {-1,1}; an If node "gate" whose
// then_branch holds initializer then_init {3} and Constant then_c F16 {4,5}, and whose
// else_branch holds Constant else_c {6} and a Loop (output loop_out) whose body holds
// Constant body_c {7}.
onnx::ModelProto onnxRichModel();

std::vector<std::uint8_t> onnxBytes(const onnx::ModelProto& model);
void writeOnnx(const std::string& path, const onnx::ModelProto& model);

} // namespace qs::test
