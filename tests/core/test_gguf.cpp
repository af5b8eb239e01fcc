// The GGUF reader on files our own fixture writer lays out from the documented format: every
// metadata value type, alignments, every plain tensor type, block-quantized tensors, unknown type
// ids, and the real stories260K GGUF against the same weights in safetensors.

#include "fixture_gguf.h"
#include "io/checkpoint.h"
#include "io/gguf_reader.h"
#include "quant/ggml_quant.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <regex>

using namespace qs;
using namespace qs::test;

class TestGguf : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void everyMetadataValueType();
    void metadataByteRangesTileTheHeader();
    void dataIsAligned_data();
    void dataIsAligned();
    void everyPlainTensorType();
    void quantizedTensorsRoundTrip_data();
    void quantizedTensorsRoundTrip();
    void handBuiltBlocksDecodeToKnownValues();
    void unknownTypeIsListedAndFailsOnlyOnRead();
    void stories260KEqualsTheSafetensorsSample();

private:
    std::string write(const char* name, const GgufFixture& f) {
        const std::string p = (m_dir.path() + "/" + name).toStdString();
        writeBytes(p, f.bytes());
        return p;
    }
    QTemporaryDir m_dir;
};

namespace {

GgufFixture metadataFixture() {
    GgufFixture f;
    f.addKv("t.u8", 0, GgufBytes().u8(200));
    f.addKv("t.i8", 1, GgufBytes().u8(0x80));
    f.addKv("t.u16", 2, GgufBytes().u16(65535));
    f.addKv("t.i16", 3, GgufBytes().u16(0xFFFE));
    f.addKv("t.u32", 4, GgufBytes().u32(4000000000u));
    f.addKv("t.i32", 5, GgufBytes().u32(0xFFFFFFFF));
    f.addKv("t.f32", 6, GgufBytes().f32(0.1f));
    f.addKv("t.bool", 7, GgufBytes().u8(1));
    f.addString("general.architecture", "llama");
    f.addKv("t.u64", 10, GgufBytes().u64(18446744073709551615ull));
    f.addKv("t.i64", 11, GgufBytes().u64(static_cast<std::uint64_t>(-5)));
    f.addKv("t.f64", 12, GgufBytes().f64(-2.5));
    f.addKv("t.arr_i32", 9, GgufBytes().u32(5).u64(3).u32(1).u32(2).u32(0xFFFFFFFD));
    GgufBytes vocab;
    vocab.u32(8).u64(1000);
    for (int i = 0; i < 1000; ++i)
        vocab.str(i == 0 ? "<unk>" : i == 1 ? "<s>" : "tok" + std::to_string(i));
    f.addKv("tokenizer.ggml.tokens", 9, vocab);
    // [[1, 2], [true], []]: arrays of arrays of differing element types
    GgufBytes nested;
    nested.u32(9).u64(3);
    nested.u32(0).u64(2).u8(1).u8(2);
    nested.u32(7).u64(1).u8(1);
    nested.u32(6).u64(0);
    f.addKv("t.nested", 9, nested);
    return f;
}

} // namespace

void TestGguf::everyMetadataValueType() {
    auto ck = Checkpoint::open(write("meta.gguf", metadataFixture()));
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.message().c_str());
    QCOMPARE(ck->format(), std::string("gguf"));
    const std::map<std::string, std::string> expected = {
        {"t.u8", "200"},
        {"t.i8", "-128"},
        {"t.u16", "65535"},
        {"t.i16", "-2"},
        {"t.u32", "4000000000"},
        {"t.i32", "-1"},
        {"t.f32", "0.1"},
        {"t.bool", "true"},
        {"general.architecture", "llama"},
        {"t.u64", "18446744073709551615"},
        {"t.i64", "-5"},
        {"t.f64", "-2.5"},
        {"t.arr_i32", "[1, 2, -3]"},
        {"tokenizer.ggml.tokens", "[string × 1000: <unk>, <s>, tok2, tok3, …]"},
        {"t.nested", "[[1, 2], [true], []]"},
    };
    QCOMPARE(ck->metadata().size(), expected.size());
    for (const auto& [k, v] : expected) {
        QVERIFY2(ck->metadata().count(k), k.c_str());
        QCOMPARE(ck->metadata().at(k), v);
    }
    QVERIFY(ck->tensors().empty());
}

void TestGguf::metadataByteRangesTileTheHeader() {
    const auto f = metadataFixture();
    const auto bytes = f.bytes();
    auto parsed = parseGguf(std::as_bytes(std::span(bytes)));
    QVERIFY(parsed.ok());
    std::uint64_t at = f.kvStart();
    for (const auto& kv : parsed->metadata) {
        QCOMPARE(kv.offset, at); // an exporter copies [offset, offset + size) verbatim
        at += kv.size;
    }
    QCOMPARE(at, parsed->metadataEnd);
    QCOMPARE(parsed->metadataEnd, static_cast<std::uint64_t>(f.infoStart()));
    const auto& tokens = parsed->metadata[13];
    QCOMPARE(tokens.key, std::string("tokenizer.ggml.tokens"));
    QCOMPARE(tokens.elementType, GgufValueType::String);
    QCOMPARE(tokens.count, std::uint64_t{1000});
}

void TestGguf::dataIsAligned_data() {
    QTest::addColumn<int>("alignment");
    QTest::newRow("default 32") << 0;
    QTest::newRow("32") << 32;
    QTest::newRow("64") << 64;
}

void TestGguf::dataIsAligned() {
    QFETCH(int, alignment);
    GgufFixture f;
    if (alignment)
        f.setAlignment(static_cast<std::uint32_t>(alignment));
    f.addString("general.name", "x");
    f.addTensor({"a", 0, {3}, floatBytes({1, 2, 3})});
    f.addTensor({"b.weight", 0, {5, 2}, floatBytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9})});
    auto ck = Checkpoint::open(write("align.gguf", f));
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.message().c_str());
    const std::uint64_t a = alignment ? static_cast<std::uint64_t>(alignment) : 32;
    QCOMPARE(ck->tensors().size(), std::size_t{2});
    for (const auto& t : ck->tensors())
        QCOMPARE(t.offset % a, std::uint64_t{0});
    const auto* b = ck->find("b.weight");
    QVERIFY(b);
    QCOMPARE(b->shapeString(), std::string("[2, 5]")); // ne [5, 2] reversed
    auto v = ck->readFloat(*b);
    QVERIFY(v.ok());
    QCOMPARE(v->at(7), 7.0f);
    QCOMPARE(ck->readFloat(*ck->find("a"))->at(2), 3.0f);
}

void TestGguf::everyPlainTensorType() {
    GgufFixture f;
    f.addTensor({"f32", 0, {2}, floatBytes({1.5f, -2})});
    f.addTensor({"f16", 1, {2}, {0x00, 0x3C, 0x00, 0xC0}});
    f.addTensor({"bf16", 30, {2}, {0x80, 0x3F, 0xF7, 0xC2}});
    f.addTensor({"f64", 28, {1}, {0, 0, 0, 0, 0, 0, 0xF0, 0x3F}});
    f.addTensor({"i8", 24, {3}, {0xFF, 0x7F, 0x80}});
    f.addTensor({"i16", 25, {1}, {0x00, 0x80}});
    f.addTensor({"i32", 26, {1}, {0xFE, 0xFF, 0xFF, 0xFF}});
    f.addTensor({"i64", 27, {1}, {0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}});
    auto ck = Checkpoint::open(write("plain.gguf", f));
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.message().c_str());
    const std::map<std::string, std::pair<std::string, std::vector<float>>> expected = {
        {"f32", {"F32", {1.5f, -2}}},     {"f16", {"F16", {1, -2}}},
        {"bf16", {"BF16", {1, -123.5f}}}, {"f64", {"F64", {1}}},
        {"i8", {"I8", {-1, 127, -128}}},  {"i16", {"I16", {-32768}}},
        {"i32", {"I32", {-2}}},           {"i64", {"I64", {-3}}},
    };
    for (const auto& [name, exp] : expected) {
        const auto* t = ck->find(name);
        QVERIFY(t);
        QCOMPARE(t->typeName(), exp.first);
        auto v = ck->readFloat(*t);
        QVERIFY(v.ok());
        QCOMPARE(*v, exp.second);
    }
}

void TestGguf::quantizedTensorsRoundTrip_data() {
    QTest::addColumn<int>("type");
    for (const auto& tr : kGgmlTypeTraits)
        if (ggmlCanQuantize(tr.type))
            QTest::newRow(tr.name) << static_cast<int>(tr.type);
}

void TestGguf::quantizedTensorsRoundTrip() {
    QFETCH(int, type);
    const auto t = static_cast<GgmlType>(type);
    constexpr std::int64_t rows = 3, cols = 512;
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 0.05f);
    std::vector<float> x(rows * cols);
    for (auto& v : x)
        v = nd(rng);
    auto blocks = ggmlQuantizeRows(t, MatrixView{x.data(), rows, cols});
    QVERIFY(blocks.ok());
    std::vector<std::uint8_t> data(blocks->size());
    std::memcpy(data.data(), blocks->data(), data.size());
    GgufFixture f;
    f.addU32("general.quantization_version", 2);
    f.addTensor({"w", static_cast<std::uint32_t>(type), {cols, rows}, data});
    auto ck = Checkpoint::open(write("quant.gguf", f));
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.message().c_str());
    const auto& info = ck->tensors().at(0);
    std::string upper = ggmlTypeTraits(t)->name;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    QCOMPARE(info.typeName(), upper);
    QCOMPARE(info.nbytes, static_cast<std::uint64_t>(data.size()));
    QCOMPARE(info.bitsPerWeight(), static_cast<double>(data.size()) * 8.0 / (rows * cols));
    std::vector<float> expected(x.size());
    QVERIFY(ggmlDequantize(t, *blocks, expected).ok());
    auto got = ck->readFloat(info);
    QVERIFY(got.ok());
    QVERIFY(std::memcmp(got->data(), expected.data(), expected.size() * sizeof(float)) == 0);
}

void TestGguf::handBuiltBlocksDecodeToKnownValues() {
    // Q8_0: d = 0.5 (half 0x3800), q = j - 16 -> (j - 16) / 2.
    std::vector<std::uint8_t> q8{0x00, 0x38};
    for (int j = 0; j < 32; ++j)
        q8.push_back(static_cast<std::uint8_t>(j - 16));
    // TQ2_0: 64 bytes of codes 2 (= +1) in every 2-bit field except byte 0's first field (0 = -1),
    // then d = 2 (half 0x4000): element 0 is -2, the rest +2.
    std::vector<std::uint8_t> tq2(64, 0xAA);
    tq2[0] = 0xA8;
    tq2.push_back(0x00);
    tq2.push_back(0x40);
    // IQ2_XXS: d = 1, every grid index 0 (all eights), no signs, scale nibble 0:
    // db = 1 * (0.5 + 0) * 0.25 = 0.125, so every value is 8 * 0.125 = 1.
    std::vector<std::uint8_t> iq2(66, 0);
    iq2[1] = 0x3C;
    // MXFP4: e = 128 -> 2^(128-127); code 7 is 6.0 in E2M1, code 9 is -0.5 -> 12 and -1.
    std::vector<std::uint8_t> mx{128};
    for (int j = 0; j < 16; ++j)
        mx.push_back(0x97);
    GgufFixture f;
    f.addTensor({"q8", 8, {32}, q8});
    f.addTensor({"tq2", 35, {256}, tq2});
    f.addTensor({"iq2", 16, {256}, iq2});
    f.addTensor({"mx", 39, {32}, mx});
    auto ck = Checkpoint::open(write("hand.gguf", f));
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.message().c_str());
    auto q8v = ck->readFloat(*ck->find("q8"));
    QVERIFY(q8v.ok());
    for (int j = 0; j < 32; ++j)
        QCOMPARE(q8v->at(j), static_cast<float>(j - 16) * 0.5f);
    QCOMPARE(ck->find("q8")->bitsPerWeight(), 8.5);
    auto tq = ck->readFloat(*ck->find("tq2"));
    QVERIFY(tq.ok());
    QCOMPARE(tq->at(0), -2.0f);
    QVERIFY(std::all_of(tq->begin() + 1, tq->end(), [](float v) { return v == 2.0f; }));
    auto iq = ck->readFloat(*ck->find("iq2"));
    QVERIFY(iq.ok());
    QVERIFY(std::all_of(iq->begin(), iq->end(), [](float v) { return v == 1.0f; }));
    QCOMPARE(ck->find("iq2")->typeName(), std::string("IQ2_XXS"));
    QCOMPARE(ck->find("iq2")->bitsPerWeight(), 2.0625);
    auto m = ck->readFloat(*ck->find("mx"));
    QVERIFY(m.ok());
    QCOMPARE(m->at(0), 12.0f);
    QCOMPARE(m->at(16), -1.0f);
}

void TestGguf::unknownTypeIsListedAndFailsOnlyOnRead() {
    GgufFixture f;
    f.addTensor({"future", 99, {64}, std::vector<std::uint8_t>(40, 1)});
    f.addTensor({"ok", 0, {2}, floatBytes({4, 5})});
    auto ck = Checkpoint::open(write("unknown.gguf", f));
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.message().c_str());
    const auto* future = ck->find("future");
    QVERIFY(future);
    QCOMPARE(future->typeName(), std::string("type 99"));
    auto r = ck->readFloat(*future);
    QVERIFY(!r.ok());
    QVERIFY2(r.message().find("type 99") != std::string::npos, r.message().c_str());
    QCOMPARE(ck->readFloat(*ck->find("ok"))->at(1), 5.0f);
}

void TestGguf::stories260KEqualsTheSafetensorsSample() {
    auto gguf = Checkpoint::open(sourceDir() + "/resources/samples/stories260K.f32.gguf");
    QVERIFY2(gguf.ok(), gguf.ok() ? "" : gguf.message().c_str());
    auto st = Checkpoint::open(samplePath());
    QVERIFY(st.ok());
    QCOMPARE(gguf->tensors().size(), st->tensors().size());
    QCOMPARE(gguf->metadata().at("general.architecture"), std::string("llama"));
    // llama.cpp names -> Hugging Face names
    const std::vector<std::pair<std::regex, std::string>> rename = {
        {std::regex("^token_embd\\.weight$"), "model.embed_tokens.weight"},
        {std::regex("^output_norm\\.weight$"), "model.norm.weight"},
        {std::regex("^blk\\.(\\d+)\\.attn_q\\."), "model.layers.$1.self_attn.q_proj."},
        {std::regex("^blk\\.(\\d+)\\.attn_k\\."), "model.layers.$1.self_attn.k_proj."},
        {std::regex("^blk\\.(\\d+)\\.attn_v\\."), "model.layers.$1.self_attn.v_proj."},
        {std::regex("^blk\\.(\\d+)\\.attn_output\\."), "model.layers.$1.self_attn.o_proj."},
        {std::regex("^blk\\.(\\d+)\\.ffn_gate\\."), "model.layers.$1.mlp.gate_proj."},
        {std::regex("^blk\\.(\\d+)\\.ffn_up\\."), "model.layers.$1.mlp.up_proj."},
        {std::regex("^blk\\.(\\d+)\\.ffn_down\\."), "model.layers.$1.mlp.down_proj."},
        {std::regex("^blk\\.(\\d+)\\.attn_norm\\."), "model.layers.$1.input_layernorm."},
        {std::regex("^blk\\.(\\d+)\\.ffn_norm\\."), "model.layers.$1.post_attention_layernorm."},
    };
    for (const auto& t : gguf->tensors()) {
        std::string hf = t.name;
        for (const auto& [re, to] : rename)
            hf = std::regex_replace(hf, re, to);
        const auto* s = st->find(hf);
        QVERIFY2(s, (t.name + " -> " + hf).c_str());
        QCOMPARE(t.shapeString(), s->shapeString());
        QCOMPARE(t.typeName(), std::string("F32"));
        auto a = gguf->readFloat(t);
        auto b = st->readFloat(*s);
        QVERIFY(a.ok() && b.ok());
        // q/k rows are permuted between the two conventions: the same multiset of values
        std::sort(a->begin(), a->end());
        std::sort(b->begin(), b->end());
        QVERIFY2(std::memcmp(a->data(), b->data(), a->size() * sizeof(float)) == 0, t.name.c_str());
    }
}

QTEST_APPLESS_MAIN(TestGguf)
#include "test_gguf.moc"
