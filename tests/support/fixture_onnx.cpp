#include "fixture_onnx.h"

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace qs::test {
namespace {

onnx::TensorProto tensorHead(const std::string& name, int dataType,
                             const std::vector<std::int64_t>& dims) {
    onnx::TensorProto t;
    t.set_name(name);
    t.set_data_type(dataType);
    for (auto d : dims)
        t.add_dims(d);
    return t;
}

std::vector<std::uint8_t> le32(const std::vector<float>& v) {
    std::vector<std::uint8_t> out(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size()); // little-endian hosts
    return out;
}

} // namespace

onnx::ModelProto onnxModel(const std::string& graphName) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.set_producer_name("quantscope-tests");
    m.set_producer_version("0.1");
    auto* opset = m.add_opset_import();
    opset->set_domain("");
    opset->set_version(17);
    opset = m.add_opset_import();
    opset->set_domain("com.microsoft");
    opset->set_version(1);
    auto* prop = m.add_metadata_props();
    prop->set_key("author");
    prop->set_value("tests");
    m.mutable_graph()->set_name(graphName);
    return m;
}

onnx::TensorProto onnxRawTensor(const std::string& name, int dataType,
                                const std::vector<std::int64_t>& dims,
                                const std::vector<std::uint8_t>& raw) {
    auto t = tensorHead(name, dataType, dims);
    t.set_raw_data(std::string(raw.begin(), raw.end()));
    return t;
}

onnx::TensorProto onnxFloatTensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                  const std::vector<float>& values) {
    auto t = tensorHead(name, kOnnxFloat, dims);
    for (float v : values)
        t.add_float_data(v);
    return t;
}

onnx::TensorProto onnxInt32Tensor(const std::string& name, int dataType,
                                  const std::vector<std::int64_t>& dims,
                                  const std::vector<std::int32_t>& values) {
    auto t = tensorHead(name, dataType, dims);
    for (auto v : values)
        t.add_int32_data(v);
    return t;
}

onnx::TensorProto onnxInt64Tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                  const std::vector<std::int64_t>& values) {
    auto t = tensorHead(name, kOnnxInt64, dims);
    for (auto v : values)
        t.add_int64_data(v);
    return t;
}

onnx::TensorProto onnxDoubleTensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                   const std::vector<double>& values) {
    auto t = tensorHead(name, kOnnxDouble, dims);
    for (auto v : values)
        t.add_double_data(v);
    return t;
}

onnx::TensorProto onnxExternalTensor(const std::string& name, int dataType,
                                     const std::vector<std::int64_t>& dims,
                                     const std::string& location, std::int64_t offset,
                                     std::int64_t length) {
    auto t = tensorHead(name, dataType, dims);
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    auto entry = [&](const std::string& key, const std::string& value) {
        auto* e = t.add_external_data();
        e->set_key(key);
        e->set_value(value);
    };
    entry("location", location);
    if (offset >= 0)
        entry("offset", std::to_string(offset));
    if (length >= 0)
        entry("length", std::to_string(length));
    return t;
}

void addOnnxConstant(onnx::GraphProto& graph, const std::string& output, onnx::TensorProto value,
                     const std::string& nodeName) {
    auto* node = graph.add_node();
    node->set_op_type("Constant");
    node->set_name(nodeName);
    node->add_output(output);
    auto* a = node->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    *a->mutable_t() = std::move(value);
}

void addOnnxSubgraphNode(onnx::GraphProto& graph, const std::string& opType,
                         const std::string& name, const std::string& output,
                         const std::vector<std::pair<std::string, onnx::GraphProto>>& graphs) {
    auto* node = graph.add_node();
    node->set_op_type(opType);
    node->set_name(name);
    node->add_input("cond");
    node->add_output(output);
    for (const auto& [attr, g] : graphs) {
        auto* a = node->add_attribute();
        a->set_name(attr);
        a->set_type(onnx::AttributeProto::GRAPH);
        *a->mutable_g() = g;
    }
}

onnx::ModelProto onnxRichModel() {
    auto m = onnxModel("main");
    auto& g = *m.mutable_graph();
    *g.add_initializer() = onnxRawTensor("w_raw", kOnnxFloat, {2, 3}, le32({1, 2, 3, 4, 5, 6}));
    *g.add_initializer() = onnxFloatTensor("w_typed", {2, 2}, {0.5f, -1.5f, 2, 8});
    *g.add_initializer() = onnxInt32Tensor("h_typed", kOnnxFloat16, {3}, {0x3C00, 0xC000, 0x3800});
    *g.add_initializer() = onnxRawTensor("bf_raw", kOnnxBfloat16, {2}, {0xC0, 0x3F, 0x40, 0xC0});
    *g.add_initializer() = onnxInt32Tensor("bf_typed", kOnnxBfloat16, {2}, {0x3E80, 0xC2C0});
    *g.add_initializer() = onnxRawTensor("f8_e4m3", kOnnxF8E4M3FN, {4}, {0x38, 0xB8, 0x7E, 0x01});
    *g.add_initializer() = onnxInt32Tensor("f8_e5m2", kOnnxF8E5M2, {2}, {0x3C, 0xC0});
    *g.add_initializer() = onnxRawTensor("f8_e4m3fnuz", kOnnxF8E4M3FNUZ, {1}, {0x40});
    *g.add_initializer() = onnxInt32Tensor("f8_e5m2fnuz", kOnnxF8E5M2FNUZ, {1}, {0x40});
    *g.add_initializer() = onnxInt32Tensor("i8", kOnnxInt8, {2}, {-5, 7});
    *g.add_initializer() = onnxRawTensor("u8", kOnnxUint8, {2}, {200, 1});
    *g.add_initializer() = onnxInt64Tensor("i64", {2}, {-3, std::int64_t(1) << 40});
    *g.add_initializer() = onnxDoubleTensor("d", {2}, {0.5, -0.25});
    *g.add_initializer() = onnxInt32Tensor("b", kOnnxBool, {3}, {1, 0, 1});
    *g.add_initializer() = onnxRawTensor("scalar", kOnnxFloat, {}, le32({42}));
    auto text = onnxRawTensor("labels", kOnnxString, {1}, {});
    text.clear_raw_data();
    text.add_string_data("cat");
    *g.add_initializer() = text;
    addOnnxConstant(g, "c0", onnxRawTensor("", kOnnxFloat, {2}, le32({-1, 1})));

    onnx::GraphProto thenBranch, elseBranch, body;
    thenBranch.set_name("then");
    *thenBranch.add_initializer() = onnxFloatTensor("then_init", {1}, {3});
    addOnnxConstant(thenBranch, "then_c", onnxInt32Tensor("", kOnnxFloat16, {2}, {0x4400, 0x4500}));
    addOnnxConstant(body, "body_c", onnxFloatTensor("", {1}, {7}));
    addOnnxConstant(elseBranch, "else_c", onnxFloatTensor("", {1}, {6}));
    addOnnxSubgraphNode(elseBranch, "Loop", "", "loop_out", {{"body", body}});
    addOnnxSubgraphNode(g, "If", "gate", "if_out",
                        {{"then_branch", thenBranch}, {"else_branch", elseBranch}});
    return m;
}

std::vector<std::uint8_t> onnxBytes(const onnx::ModelProto& model) {
    std::string s;
    if (!model.SerializeToString(&s))
        throw std::runtime_error("cannot serialise ONNX fixture");
    return {s.begin(), s.end()};
}

void writeOnnx(const std::string& path, const onnx::ModelProto& model) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !model.SerializeToOstream(&out))
        throw std::runtime_error("cannot write ONNX fixture " + path);
}

} // namespace qs::test
