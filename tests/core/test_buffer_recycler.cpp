// util/buffer_recycler.h: reconstructions' buffers handed back and reused, and analyses that
// reuse a buffer holding another tensor's values give exactly what a fresh buffer gives.
#include "analysis/bench.h"
#include "analysis/fused_families.h"
#include "analysis/tensor_analysis.h"
#include "quant/scheme.h"
#include "util/buffer_recycler.h"

#include <QtTest>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using namespace qs;

namespace {

constexpr std::size_t kBig = kRecycleMinBytes / sizeof(float); // the smallest kept size

void sameAnalysis(const TensorAnalysis& a, const TensorAnalysis& b) {
    QVERIFY(a.error.sumSqErr == b.error.sumSqErr);
    QVERIFY(a.error.dot == b.error.dot);
    QVERIFY(a.error.maxAbsErr == b.error.maxAbsErr);
    QVERIFY(a.errorHistogram && b.errorHistogram);
    QCOMPARE(a.errorHistogram->counts, b.errorHistogram->counts);
    QCOMPARE(a.reconstruction, b.reconstruction);
    QVERIFY(a.outputError.has_value() == b.outputError.has_value());
    if (a.outputError)
        QVERIFY(a.outputError->err == b.outputError->err);
}

} // namespace

class TestBufferRecycler : public QObject {
    Q_OBJECT
private slots:
    void init() { dropRecycledBuffers(); }
    void cleanup() { dropRecycledBuffers(); }

    void aBufferHandedBackIsReused() {
        std::vector<float> a = takeFloatBuffer(kBig + 100);
        const float* data = a.data();
        recycleFloatBuffer(std::move(a));
        QCOMPARE(recycledBytes(), (kBig + 100) * sizeof(float));
        std::vector<float> b = takeFloatBuffer(kBig); // fits: n to 2n
        QCOMPARE(b.data(), data);
        QCOMPARE(b.size(), kBig);
        QCOMPARE(recycledBytes(), std::size_t{0});
    }

    void smallBuffersAreNotKept() {
        recycleFloatBuffer(std::vector<float>(kBig - 1));
        QCOMPARE(recycledBytes(), std::size_t{0});
        QCOMPARE(takeFloatBuffer(10).size(), std::size_t{10});
    }

    // A request that no kept buffer fits (twice as large or too small) frees them all.
    void aRequestNoneFitsFreesThem() {
        recycleFloatBuffer(std::vector<float>(4 * kBig));
        QVERIFY(recycledBytes() > 0);
        const std::vector<float> fresh = takeFloatBuffer(kBig); // 4n is more than 2n
        QCOMPARE(fresh.size(), kBig);
        QCOMPARE(recycledBytes(), std::size_t{0});
    }

    void atMostTheCapIsKept() {
        for (std::size_t i = 0; i < kRecycledBuffers + 2; ++i)
            recycleFloatBuffer(std::vector<float>(kBig));
        QCOMPARE(recycledBytes(), kRecycledBuffers * kBig * sizeof(float));
        recycleFloatBuffer(std::vector<float>(kRecycledBytes / sizeof(float) + 1));
        QCOMPARE(recycledBytes(), kRecycledBuffers * kBig * sizeof(float));
        dropRecycledBuffers();
        QCOMPARE(recycledBytes(), std::size_t{0});
    }

    // Scratch blocks: one kept between takers and handed to the next it fits (n to 4n), a second
    // taker while it is out gets its own, and blocks outside the kept sizes are not kept.
    void aScratchBlockIsKeptForTheNextTaker() {
        const std::byte* kept = nullptr;
        {
            const ScratchBytes a(kScratchMinBytes * 4);
            kept = a.data();
            QCOMPARE(a.capacity(), kScratchMinBytes * 4);
        }
        QCOMPARE(keptScratchBytes(), kScratchMinBytes * 4);
        {
            const ScratchBytes a(kScratchMinBytes * 4), b(kScratchMinBytes * 4);
            QCOMPARE(a.data(), kept); // the kept block, to the first taker only
            QVERIFY(b.data() != kept);
            QCOMPARE(keptScratchBytes(), std::size_t{0});
        } // b is kept (the slot was free), then a is freed
        QCOMPARE(keptScratchBytes(), kScratchMinBytes * 4);
        {
            const ScratchBytes c(kScratchMinBytes * 2); // fits: 4 * (2n) > 4n
            QCOMPARE(c.capacity(), kScratchMinBytes * 4);
            QCOMPARE(keptScratchBytes(), std::size_t{0});
            auto* words = c.as<std::uint32_t>(c.capacity() / 4);
            words[c.capacity() / 4 - 1] = 7u; // the whole block is usable
        }
        QCOMPARE(keptScratchBytes(), kScratchMinBytes * 4);
        {
            const ScratchBytes d(kScratchMinBytes); // four times that is kept: not taken
            QCOMPARE(d.capacity(), kScratchMinBytes);
            QCOMPARE(keptScratchBytes(), std::size_t{0}); // the misfit was freed
        }
        QCOMPARE(keptScratchBytes(), kScratchMinBytes);
        dropRecycledBuffers();
        QCOMPARE(keptScratchBytes(), std::size_t{0});
        { const ScratchBytes small(kScratchMinBytes - 1), large(kScratchKeptBytes + 1); }
        QCOMPARE(keptScratchBytes(), std::size_t{0});
    }

    // The fused paths' tables in scratch (int4:g128's and nf4:g64's group parameters, mxfp4's
    // and q4_0's error bounds) taken from a kept block full of NaN give what fresh memory gives:
    // every entry is written before it is read. Each block is the table's size, which the next
    // taker of that size is given (test above).
    void poisonedScratchGivesTheSameAnalysis() {
        const std::int64_t rows = 512, cols = 2560;
        const auto w = syntheticGaussian(rows * cols, 0.02f, 5);
        const MatrixView m{w.data(), rows, cols};
        const std::pair<const char*, std::size_t> tables[] = {
            {"int4:g128", 512 * 20 * sizeof(fused::IntGroup)},
            {"nf4:g64", 512 * 40 * sizeof(fused::NfFamily::Group)},
            {"mxfp4", 512 * 80 * sizeof(float)},
            {"q4_0", 512 * 80 * sizeof(float)}};
        for (const auto& [spec, bytes] : tables) {
            const Scheme s = *Scheme::parse(spec);
            AnalysisOptions o;
            o.histogramBins = 64;
            dropRecycledBuffers();
            auto fresh = analyzeTensor(m, s, o);
            QVERIFY(fresh);
            dropRecycledBuffers();
            {
                const ScratchBytes poison(bytes);
                std::fill_n(poison.as<float>(bytes / sizeof(float)), bytes / sizeof(float),
                            std::numeric_limits<float>::quiet_NaN());
            }
            QCOMPARE(keptScratchBytes(), bytes);
            auto reused = analyzeTensor(m, s, o);
            QVERIFY(reused);
            sameAnalysis(*reused, *fresh);
        }
    }

    // q4_k's reconstruction (ggml's dequantizer) and a fused one kept for the output error,
    // each written into a kept buffer full of NaN: the same numbers as in a new buffer, so every
    // value was written.
    void reusedBuffersGiveTheSameAnalysis() {
        const std::int64_t rows = 512, cols = 2560; // 5 MiB of float32: kept
        const auto w = syntheticGaussian(rows * cols, 0.02f, 1);
        const auto x = syntheticGaussian(16 * cols, 1.0f, 3);
        const MatrixView m{w.data(), rows, cols}, acts{x.data(), 16, cols};
        auto poison = [&] {
            dropRecycledBuffers();
            recycleFloatBuffer(std::vector<float>(static_cast<std::size_t>(rows * cols),
                                                  std::numeric_limits<float>::quiet_NaN()));
            QVERIFY(recycledBytes() > 0);
        };
        for (const char* spec : {"q4_k", "int4:g128", "mxfp4", "q6_k"}) {
            const Scheme s = *Scheme::parse(spec);
            for (const MatrixView* a : {static_cast<const MatrixView*>(nullptr), &acts}) {
                for (bool keep : {false, true}) {
                    AnalysisOptions o;
                    o.histogramBins = 64;
                    o.activations = a;
                    o.keepReconstruction = keep;
                    dropRecycledBuffers();
                    auto fresh = analyzeTensor(m, s, o);
                    QVERIFY(fresh);
                    poison();
                    auto reused = analyzeTensor(m, s, o);
                    QVERIFY(reused);
                    // The ggml types always take the kept buffer, the fused paths when they keep
                    // the reconstruction (for the output error or the caller).
                    const bool took = std::string(spec)[0] == 'q' || a || keep;
                    if (took && !keep)
                        QVERIFY2(recycledBytes() > 0, spec); // taken, then handed back
                    if (took && keep)
                        QVERIFY2(recycledBytes() == 0, spec); // taken and kept by the caller
                    sameAnalysis(*reused, *fresh);
                }
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestBufferRecycler)
#include "test_buffer_recycler.moc"
