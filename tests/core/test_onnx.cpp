#include "fixture_onnx.h"
#include "io/checkpoint.h"
#include "test_support.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace qs;
using namespace qs::test;

namespace {

using Shape = std::vector<std::int64_t>;
using Floats = std::vector<float>;

void appendVarint(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (; v >= 0x80; v >>= 7)
        out.push_back(std::uint8_t(v | 0x80));
    out.push_back(std::uint8_t(v));
}

QByteArray toQBytes(const std::vector<std::uint8_t>& b) {
    return QByteArray(reinterpret_cast<const char*>(b.data()), qsizetype(b.size()));
}

} // namespace

class TestOnnx : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void initializersAndConstantsEverywhere();
    void weightsAreReadInPlace();
    void metadataFromTheModel();
    void externalDataBesideTheModel();
    void unsupportedTypesAreListedTheRestOpens();
    void modelsOver2GBOpen();
    void fieldsInAnyOrder();

private:
    std::string path(const QString& n) { return m_dir.filePath(n).toStdString(); }
    QTemporaryDir m_dir;
};

void TestOnnx::initTestCase() {
    QVERIFY(m_dir.isValid());
    writeOnnx(path("rich.onnx"), onnxRichModel());
}

void TestOnnx::initializersAndConstantsEverywhere() {
    auto c = Checkpoint::open(path("rich.onnx"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->format(), std::string("onnx"));
    struct Expect {
        const char* name;
        DType dtype;
        Shape shape;
        Floats values;
    };
    const std::vector<Expect> expected{
        {"w_raw", DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6}},
        {"w_typed", DType::F32, {2, 2}, {0.5f, -1.5f, 2, 8}},
        {"h_typed", DType::F16, {3}, {1, -2, 0.5f}},
        {"bf_raw", DType::BF16, {2}, {1.5f, -3}},
        {"bf_typed", DType::BF16, {2}, {0.25f, -96}},
        {"f8_e4m3", DType::F8_E4M3, {4}, {1, -1, 448, 0.001953125f}},
        {"f8_e5m2", DType::F8_E5M2, {2}, {1, -2}},
        {"f8_e4m3fnuz", DType::F8_E4M3FNUZ, {1}, {1}},
        {"f8_e5m2fnuz", DType::F8_E5M2FNUZ, {1}, {1}},
        {"i8", DType::I8, {2}, {-5, 7}},
        {"u8", DType::U8, {2}, {200, 1}},
        {"i64", DType::I64, {2}, {-3, 1099511627776.0f}},
        {"d", DType::F64, {2}, {0.5f, -0.25f}},
        {"b", DType::Bool, {3}, {1, 0, 1}},
        {"scalar", DType::F32, {}, {42}},
        {"c0", DType::F32, {2}, {-1, 1}},
        {"gate/then_branch/then_init", DType::F32, {1}, {3}},
        {"gate/then_branch/then_c", DType::F16, {2}, {4, 5}},
        {"gate/else_branch/else_c", DType::F32, {1}, {6}},
        {"gate/else_branch/loop_out/body/body_c", DType::F32, {1}, {7}},
    };
    QCOMPARE(c->tensors().size(), expected.size());
    for (const auto& e : expected) {
        const TensorInfo* t = c->find(e.name);
        QVERIFY2(t, e.name);
        QVERIFY2(t->dtype == e.dtype, e.name);
        QCOMPARE(t->shape, e.shape);
        auto v = c->readFloat(*t);
        QVERIFY2(v.ok(), v.ok() ? "" : v.message().c_str());
        QCOMPARE(*v, e.values);
    }
}

void TestOnnx::weightsAreReadInPlace() {
    auto c = Checkpoint::open(path("rich.onnx"));
    QVERIFY(c.ok());
    QFile f(QString::fromStdString(path("rich.onnx")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray whole = f.readAll();
    // raw_data and packed float_data/double_data point into the model file itself.
    for (const char* name : {"w_raw", "w_typed", "d", "bf_raw"}) {
        const TensorInfo* t = c->find(name);
        QVERIFY(t && !t->source && t->file == 0);
        QVERIFY(t->offset + t->nbytes <= std::uint64_t(whole.size()));
    }
    const TensorInfo* w = c->find("w_raw");
    QCOMPARE(whole.mid(qsizetype(w->offset), qsizetype(w->nbytes)),
             toQBytes(floatBytes({1, 2, 3, 4, 5, 6})));
    QVERIFY(c->find("h_typed")->source); // varints are decoded when read
}

void TestOnnx::metadataFromTheModel() {
    auto c = Checkpoint::open(path("rich.onnx"));
    QVERIFY(c.ok());
    const auto& md = c->metadata();
    QCOMPARE(md.at("ir_version"), std::string("8"));
    QCOMPARE(md.at("opset_import"), std::string("ai.onnx 17, com.microsoft 1"));
    QCOMPARE(md.at("producer_name"), std::string("quantscope-tests"));
    QCOMPARE(md.at("producer_version"), std::string("0.1"));
    QCOMPARE(md.at("graph_name"), std::string("main"));
    QCOMPARE(md.at("author"), std::string("tests"));
}

void TestOnnx::externalDataBesideTheModel() {
    QVERIFY(QDir(m_dir.path()).mkpath("ext/data"));
    Floats side(16);
    for (int i = 0; i < 16; ++i)
        side[size_t(i)] = float(i) * 0.5f;
    writeBytes(path("ext/data/w.bin"), floatBytes(side));
    auto m = onnxModel();
    auto& g = *m.mutable_graph();
    *g.add_initializer() = onnxExternalTensor("whole", kOnnxFloat, {4, 4}, "data/w.bin", -1, -1);
    *g.add_initializer() = onnxExternalTensor("tail", kOnnxFloat, {2, 2}, "data/w.bin", 48, 16);
    *g.add_initializer() = onnxExternalTensor("half", kOnnxFloat16, {2}, "./data/w.bin", 4, 4);
    *g.add_initializer() = onnxRawTensor("inline", kOnnxFloat, {1}, floatBytes({9}));
    writeOnnx(path("ext/model.onnx"), m);
    auto c = Checkpoint::open(path("ext/model.onnx"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->readFloat(*c->find("whole")).value(), side);
    QCOMPARE(c->readFloat(*c->find("tail")).value(), (Floats{6, 6.5f, 7, 7.5f}));
    QCOMPARE(c->find("whole")->file, 1);
    QVERIFY(!c->find("whole")->source);
    // 0.5f is 00 00 00 3F: read as two halves, 0 and 0x3F00 = 1.75.
    QCOMPARE(c->readFloat(*c->find("half")).value(), (Floats{0, 1.75f}));
    QCOMPARE(c->readFloat(*c->find("inline")).value(), Floats{9});
}

void TestOnnx::unsupportedTypesAreListedTheRestOpens() {
    auto m = onnxModel();
    auto& g = *m.mutable_graph();
    *g.add_initializer() = onnxRawTensor("z", kOnnxComplex128, {1}, std::vector<std::uint8_t>(16));
    *g.add_initializer() = onnxRawTensor("odd", 99, {1}, {0});
    *g.add_initializer() = onnxRawTensor("ok", kOnnxFloat, {1}, floatBytes({1}));
    writeOnnx(path("unsupported.onnx"), m);
    auto c = Checkpoint::open(path("unsupported.onnx"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->tensors().size(), size_t(1));
    const QString listed = QString::fromStdString(c->metadata().at("unsupported_tensors"));
    QVERIFY2(listed.contains("z (COMPLEX128)") && listed.contains("odd (type 99)"),
             qPrintable(listed));
    // The rich model's string tensor is listed the same way.
    auto rich = Checkpoint::open(path("rich.onnx"));
    QVERIFY(QString::fromStdString(rich->metadata().at("unsupported_tensors"))
                .contains("labels (STRING)"));
}

void TestOnnx::modelsOver2GBOpen() {
    // libprotobuf refuses messages over 2 GB; the reader does not. The wire bytes are written by
    // hand (a serializer would need the 2.4 GB in memory) and the file is sparse on disk.
    const std::uint64_t numel = 600'000'000, nbytes = numel * 4;
    std::vector<std::uint8_t> tensor{0x08}; // dims
    appendVarint(tensor, numel);
    tensor.insert(tensor.end(), {0x10, 0x01, 0x42, 0x03, 'b', 'i', 'g', 0x4a}); // FLOAT, name
    appendVarint(tensor, nbytes);                                               // raw_data
    std::vector<std::uint8_t> graph{0x2a};                                      // initializer
    appendVarint(graph, tensor.size() + nbytes);
    graph.insert(graph.end(), tensor.begin(), tensor.end());
    std::vector<std::uint8_t> model{0x08, 0x08, 0x3a}; // ir_version 8, graph
    appendVarint(model, graph.size() + nbytes);
    model.insert(model.end(), graph.begin(), graph.end());
    writeBytes(path("big.onnx"), model);
    QFile f(QString::fromStdString(path("big.onnx")));
    QVERIFY(f.resize(qint64(model.size() + nbytes)));
    auto c = Checkpoint::open(path("big.onnx"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    const TensorInfo* t = c->find("big");
    QVERIFY(t && !t->source);
    QCOMPARE(t->shape, Shape{std::int64_t(numel)});
    QCOMPARE(t->offset, std::uint64_t(model.size()));
    QCOMPARE(t->nbytes, nbytes);
    QFile::remove(QString::fromStdString(path("big.onnx")));
}

void TestOnnx::fieldsInAnyOrder() {
    // Protobuf allows any field order; serializers just happen to use number order. Here the
    // graph comes before ir_version, and the tensor's data before its type and dims.
    std::string tensor;
    onnx::TensorProto data;
    data.set_raw_data(std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8)); // 1.0f, 2.0f
    onnx::TensorProto head;
    head.set_name("late");
    head.set_data_type(kOnnxFloat);
    head.add_dims(2);
    tensor = data.SerializeAsString() + head.SerializeAsString(); // concatenation = merge
    onnx::GraphProto graph;
    graph.set_name("g");
    std::string graphBytes = graph.SerializeAsString();
    std::vector<std::uint8_t> model{0x3a};
    std::vector<std::uint8_t> init{0x2a};
    appendVarint(init, tensor.size());
    init.insert(init.end(), tensor.begin(), tensor.end());
    graphBytes.append(init.begin(), init.end());
    appendVarint(model, graphBytes.size());
    model.insert(model.end(), graphBytes.begin(), graphBytes.end());
    model.insert(model.end(), {0x08, 0x09}); // ir_version 9, last
    onnx::ModelProto check;
    QVERIFY(check.ParseFromArray(model.data(), int(model.size()))); // valid for libprotobuf too
    QCOMPARE(check.graph().initializer(0).name(), std::string("late"));
    writeBytes(path("order.onnx"), model);
    auto c = Checkpoint::open(path("order.onnx"));
    QVERIFY2(c.ok(), c.ok() ? "" : c.message().c_str());
    QCOMPARE(c->metadata().at("ir_version"), std::string("9"));
    QCOMPARE(c->readFloat(*c->find("late")).value(), (Floats{1, 2}));
}

QTEST_APPLESS_MAIN(TestOnnx)
#include "test_onnx.moc"
