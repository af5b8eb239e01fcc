// The memory lesson's calculator: bytes per item by hand for a known model, the honest split of a
// scheme's bits per weight, and hidden costs that only add.

#include "quant_helpers.h"
#include "teach/memory_lesson.h"

#include <QtTest>

using namespace qs;
using namespace qs::test;

class TestMemoryLesson : public QObject {
    Q_OBJECT
private slots:
    void weightBitsSplitPayloadFromScales();
    void itemsByHandForAnEightBillionModel();
    void breakdownHoldsOnlyTheIncludedItems();
};

void TestMemoryLesson::weightBitsSplitPayloadFromScales() {
    auto b = weightBitsOf(spec("int4:g64"));
    QVERIFY(b.ok());
    QCOMPARE(b->payload, 4.0);
    QCOMPARE(b->overhead, 0.3125); // fp16 scale + 4-bit zero per 64
    auto nf = weightBitsOf(spec("nf4:g64"));
    QCOMPARE(nf->total(), 4.5);
    auto f16 = weightBitsOf(spec("f16"));
    QCOMPARE(f16->total(), 16.0);
    auto q4k = weightBitsOf(spec("q4_k"));
    QCOMPARE(q4k->total(), 4.5);
}

void TestMemoryLesson::itemsByHandForAnEightBillionModel() {
    MemoryInputs in;
    in.model = {"test", 8e9, 32, 8, 128};
    in.bits = {4.0, 0.5};
    in.context = 8192;
    in.batch = 2;
    in.kvBytesPerElement = 2;
    QCOMPARE(itemBytes(in, MemoryItem::Weights), 4e9);
    QCOMPARE(itemBytes(in, MemoryItem::Scales), 0.5e9);
    // 2 * 32 layers * 8 heads * 128 dims * 8192 tokens * 2 sequences * 2 bytes = 2 GiB
    QCOMPARE(itemBytes(in, MemoryItem::KvCache), 2.0 * 32 * 8 * 128 * 8192 * 2 * 2);
    QCOMPARE(itemBytes(in, MemoryItem::KvCache), 2147483648.0);
    QCOMPARE(itemBytes(in, MemoryItem::Gradients), 16e9);
    QCOMPARE(itemBytes(in, MemoryItem::OptimizerStates), 64e9);
    QCOMPARE(itemBytes(in, MemoryItem::MasterWeights), 32e9);
}

void TestMemoryLesson::breakdownHoldsOnlyTheIncludedItems() {
    MemoryInputs in;
    in.model = memoryModelPresets()[1];
    in.bits = {4.0, 0.5};
    in.included = {MemoryItem::Weights};
    const double weightsOnly = totalBytes(memoryBreakdown(in));
    in.included = {MemoryItem::KvCache, MemoryItem::Weights, MemoryItem::Scales};
    const auto lines = memoryBreakdown(in);
    QCOMPARE(lines.size(), std::size_t(3));
    QVERIFY(lines[0].item == MemoryItem::Weights); // in kMemoryItems order
    QVERIFY(lines[2].item == MemoryItem::KvCache);
    QVERIFY(totalBytes(lines) > weightsOnly);
    QCOMPARE(totalBytes(lines), weightsOnly + lines[1].bytes + lines[2].bytes);
}

QTEST_APPLESS_MAIN(TestMemoryLesson)
#include "test_memory_lesson.moc"
