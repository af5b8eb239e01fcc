// The gold standard: our ggml quantizers and dequantizers against ggml's own compiled functions,
// byte for byte, on held-out arrays of many shapes of data. ggml is loaded at run time from
// libggml-base.so (scripts/quantscope fetches the one npm package @node-llama-cpp/linux-x64
// ships into <build>/ggml-oracle; QS_GGML_ORACLE_LIB overrides the path). Skipped when absent.
//
// Compared per type: quantize_<type>(src, dst, rows, cols, NULL) (the default path),
// quantize_row_<type>_ref (GgmlQuantPath::Reference), quantize_<type> with an importance matrix,
// and dequantize_row_<type> on ggml's bytes. One documented exception: for an all-zero IQ4_NL
// block ggml's reference leaves the codes uninitialised, so only its values are compared.

#include "quant/ggml_quant.h"
#include "quant/registry.h"

#include <QtTest>

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace qs;

namespace {

using GgmlQuantizeFn = std::size_t (*)(const float*, void*, std::int64_t, std::int64_t,
                                       const float*);
using GgmlRefFn = void (*)(const float*, void*, std::int64_t);
using GgmlDequantFn = void (*)(const void*, float*, std::int64_t);

constexpr std::int64_t kRows = 192, kCols = 1024;

// Rows of twelve kinds: Gaussian, heavy tails, half-zero blocks, exact ties on a grid, tiny and
// huge magnitudes, one-signed data, constant runs, magnitudes over 12 decades, outliers,
// values under ggml's all-zero threshold. Fixed seed: held out from the code, not tuned to it.
std::vector<float> heldOutData() {
    std::mt19937 rng(20240611);
    std::normal_distribution<float> nd(0.0f, 0.02f);
    std::student_t_distribution<float> td(3.0f);
    std::uniform_real_distribution<float> decades(-8.0f, 4.0f);
    std::vector<float> x(static_cast<std::size_t>(kRows * kCols));
    for (std::int64_t r = 0; r < kRows; ++r)
        for (std::int64_t c = 0; c < kCols; ++c) {
            float v = 0;
            switch (r % 12) {
            case 0:
                v = nd(rng);
                break;
            case 1:
                v = td(rng) * 0.01f;
                break;
            case 2:
                v = c % 64 < 32 ? 0.0f : nd(rng);
                break;
            case 3:
                v = static_cast<float>(static_cast<int>(rng() % 17) - 8) * 0.25f;
                break;
            case 4:
                v = nd(rng) * 1e-6f;
                break;
            case 5:
                v = nd(rng) * 100.0f + (c % 300 == 0 ? 50.0f : 0.0f);
                break;
            case 6:
                v = std::fabs(nd(rng));
                break;
            case 7:
                v = c % 256 < 128 ? 0.5f : nd(rng) - 0.03f;
                break;
            case 8:
                v = nd(rng) * std::pow(10.0f, decades(rng));
                break;
            case 9:
                v = static_cast<float>(static_cast<int>(rng() % 64) - 32) * 0.5f;
                break;
            case 10:
                v = c % 32 == 5 ? -3.0f : c % 32 == 6 ? 3.0f : nd(rng);
                break;
            default:
                v = nd(rng) * 1e-30f;
                break;
            }
            x[static_cast<std::size_t>(r * kCols + c)] = v;
        }
    return x;
}

QString oraclePath() {
    const QByteArray env = qgetenv("QS_GGML_ORACLE_LIB");
    if (!env.isEmpty())
        return QString::fromLocal8Bit(env);
    return QString::fromLocal8Bit(qgetenv("QS_BINARY_DIR")) + "/ggml-oracle/libggml-base.so";
}

} // namespace

class TestGgmlOracle : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void matchesGgml_data();
    void matchesGgml();
    void edgeBlocksMatchGgml_data();
    void edgeBlocksMatchGgml();
    void shortRowsWithImatrixMatchGgml();
    void imatrixSchemeMatchesLlamaQuantize();

private:
    void* m_lib = nullptr;
    std::vector<float> m_x;
    std::vector<float> m_imatrix;
};

void TestGgmlOracle::initTestCase() {
    const QString path = oraclePath();
    if (!QFileInfo::exists(path))
        QSKIP(qPrintable("ggml oracle not installed (" + path +
                         "); scripts/quantscope deps fetches it"));
    m_lib = dlopen(path.toLocal8Bit().constData(), RTLD_NOW | RTLD_LOCAL);
    if (!m_lib)
        QSKIP(qPrintable(QString("cannot load ggml: ") + dlerror()));
    m_x = heldOutData();
    std::mt19937 rng(99);
    std::uniform_real_distribution<float> u(0.01f, 3.0f);
    m_imatrix.resize(kCols);
    for (auto& w : m_imatrix)
        w = u(rng) * u(rng);
}

void TestGgmlOracle::cleanupTestCase() {
    if (m_lib)
        dlclose(m_lib);
}

void TestGgmlOracle::matchesGgml_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("path");
    const std::pair<GgmlType, const char*> types[] = {
        {GgmlType::Q4_0, "q4_0"}, {GgmlType::Q4_1, "q4_1"},     {GgmlType::Q5_0, "q5_0"},
        {GgmlType::Q5_1, "q5_1"}, {GgmlType::Q8_0, "q8_0"},     {GgmlType::Q2_K, "q2_K"},
        {GgmlType::Q3_K, "q3_K"}, {GgmlType::Q4_K, "q4_K"},     {GgmlType::Q5_K, "q5_K"},
        {GgmlType::Q6_K, "q6_K"}, {GgmlType::IQ4_NL, "iq4_nl"}, {GgmlType::IQ4_XS, "iq4_xs"}};
    for (const auto& [t, n] : types)
        for (const char* p : {"default", "reference", "imatrix"})
            QTest::addRow("%s %s", n, p) << int(t) << QString(n) << QString(p);
}

void TestGgmlOracle::matchesGgml() {
    QFETCH(int, type);
    QFETCH(QString, name);
    QFETCH(QString, path);
    const auto t = static_cast<GgmlType>(type);
    const auto* tr = ggmlTypeTraits(t);
    auto sym = [&](const QString& s) { return dlsym(m_lib, s.toLatin1().constData()); };
    auto quantizeGgml = reinterpret_cast<GgmlQuantizeFn>(sym("quantize_" + name));
    auto refGgml = reinterpret_cast<GgmlRefFn>(sym("quantize_row_" + name + "_ref"));
    auto dequantGgml = reinterpret_cast<GgmlDequantFn>(sym("dequantize_row_" + name));
    QVERIFY(quantizeGgml && refGgml && dequantGgml);

    const std::size_t rowBytes = *ggmlRowBytes(t, kCols);
    std::vector<std::byte> theirs(rowBytes * kRows);
    const bool withImatrix = path == "imatrix";
    if (path == "reference") {
        for (std::int64_t r = 0; r < kRows; ++r)
            refGgml(m_x.data() + r * kCols, theirs.data() + r * rowBytes, kCols);
    } else {
        quantizeGgml(m_x.data(), theirs.data(), kRows, kCols,
                     withImatrix ? m_imatrix.data() : nullptr);
    }
    auto ours =
        ggmlQuantizeRows(t, MatrixView{m_x.data(), kRows, kCols},
                         withImatrix ? std::span<const float>(m_imatrix) : std::span<const float>(),
                         path == "reference" ? GgmlQuantPath::Reference : GgmlQuantPath::Default);
    QVERIFY(ours.ok());

    const std::int64_t blocks = kRows * kCols / tr->blockSize;
    std::int64_t differing = 0, exempt = 0;
    for (std::int64_t b = 0; b < blocks; ++b) {
        const auto off = static_cast<std::size_t>(b * tr->bytesPerBlock);
        if (std::memcmp(theirs.data() + off, ours->data() + off,
                        static_cast<std::size_t>(tr->bytesPerBlock)) == 0)
            continue;
        float amax = 0;
        for (int j = 0; j < tr->blockSize; ++j)
            amax = std::max(amax, std::fabs(m_x[static_cast<std::size_t>(b * tr->blockSize + j)]));
        if (t == GgmlType::IQ4_NL && path == "reference" && amax < 1e-15f)
            ++exempt;
        else
            ++differing;
    }
    QVERIFY2(differing == 0,
             qPrintable(QString("%1 of %2 blocks differ").arg(differing).arg(blocks)));

    std::vector<float> yTheirs(m_x.size()), yOurs(m_x.size());
    dequantGgml(theirs.data(), yTheirs.data(), static_cast<std::int64_t>(m_x.size()));
    QVERIFY(ggmlDequantize(t, theirs, yOurs).ok());
    QVERIFY(std::memcmp(yTheirs.data(), yOurs.data(), yOurs.size() * sizeof(float)) == 0);
    if (exempt)
        qInfo("%lld all-zero IQ4_NL reference blocks compared by value only", (long long)exempt);
}

// Blocks the vectorised legacy quantizers decide apart from ggml's scalar loops: all -0, -0
// with +0, the largest magnitude tied between signs at every position, NaN and Inf anywhere.
void TestGgmlOracle::edgeBlocksMatchGgml_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("name");
    const std::pair<GgmlType, const char*> types[] = {{GgmlType::Q4_0, "q4_0"},
                                                      {GgmlType::Q4_1, "q4_1"},
                                                      {GgmlType::Q5_0, "q5_0"},
                                                      {GgmlType::Q5_1, "q5_1"},
                                                      {GgmlType::Q8_0, "q8_0"}};
    for (const auto& [t, n] : types)
        QTest::newRow(n) << int(t) << QString(n);
}

void TestGgmlOracle::edgeBlocksMatchGgml() {
    QFETCH(int, type);
    QFETCH(QString, name);
    const auto t = static_cast<GgmlType>(type);
    auto refGgml = reinterpret_cast<GgmlRefFn>(
        dlsym(m_lib, ("quantize_row_" + name + "_ref").toLatin1().constData()));
    QVERIFY(refGgml);
    constexpr int kBlock = 32;
    std::vector<float> x;
    auto block = [&](auto&& fill) {
        for (int j = 0; j < kBlock; ++j)
            x.push_back(fill(j));
    };
    block([](int) { return -0.0f; });
    block([](int j) { return j % 2 ? -0.0f : 0.0f; });
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    for (int p = 0; p < kBlock; ++p) {
        // +-0.75 tied for the largest magnitude, the negative one first at p
        block([p](int j) {
            return j == p ? -0.75f : j == (p + 7) % kBlock ? 0.75f : 0.01f * float(j - 16);
        });
        block([p, nan](int j) { return j == p ? nan : 0.02f * float(j - 10); });
        block([p, inf](int j) { return j == p ? (p % 2 ? -inf : inf) : 0.03f * float(j - 20); });
    }
    const auto n = static_cast<std::int64_t>(x.size());
    const std::size_t bytes = *ggmlRowBytes(t, n);
    std::vector<std::byte> theirs(bytes);
    refGgml(x.data(), theirs.data(), n);
    auto ours = ggmlQuantizeRows(t, MatrixView{x.data(), 1, n}, {}, GgmlQuantPath::Reference);
    QVERIFY(ours.ok());
    const auto* tr = ggmlTypeTraits(t);
    for (std::int64_t b = 0; b < n / kBlock; ++b) {
        const auto off = static_cast<std::size_t>(b * tr->bytesPerBlock);
        QVERIFY2(std::memcmp(theirs.data() + off, ours->data() + off,
                             static_cast<std::size_t>(tr->bytesPerBlock)) == 0,
                 qPrintable(QString("block %1 differs").arg(b)));
    }
    auto fast = ggmlQuantizeRows(t, MatrixView{x.data(), 1, n}); // the default path too
    QVERIFY(fast.ok());
    QVERIFY(*fast == *ours);
}

// Rows whose block count is not a multiple of the blocks searched side by side (kQkxBatch, 16):
// q4_1 and q5_1 with importance weights search 16 blocks of a row at a time, so a row's last
// batch is shorter; Q4_K and Q5_K search super-blocks in pairs, so a row of an odd number of
// them ends with one alone. With and without importance weights.
void TestGgmlOracle::shortRowsWithImatrixMatchGgml() {
    const std::vector<std::pair<GgmlType, const char*>> types = {{GgmlType::Q4_1, "q4_1"},
                                                                 {GgmlType::Q5_1, "q5_1"},
                                                                 {GgmlType::Q4_K, "q4_K"},
                                                                 {GgmlType::Q5_K, "q5_K"},
                                                                 {GgmlType::Q2_K, "q2_K"}};
    for (const auto& [t, name] : types) {
        const bool k = name[3] == 'K'; // q4_K, q5_K, q2_K
        for (std::int64_t cols :
             k ? std::vector<std::int64_t>{256, 768} : std::vector<std::int64_t>{32, 96, 352, 544})
            for (bool imatrix : {true, false}) {
                auto quantizeGgml = reinterpret_cast<GgmlQuantizeFn>(
                    dlsym(m_lib, (std::string("quantize_") + name).c_str()));
                QVERIFY(quantizeGgml);
                const std::int64_t rows = 3;
                std::vector<float> x(m_x.begin(), m_x.begin() + rows * cols);
                std::vector<float> w(m_imatrix.begin(), m_imatrix.begin() + cols);
                std::vector<std::byte> theirs(*ggmlRowBytes(t, cols) * rows);
                quantizeGgml(x.data(), theirs.data(), rows, cols, imatrix ? w.data() : nullptr);
                auto ours = ggmlQuantizeRows(t, MatrixView{x.data(), rows, cols},
                                             imatrix ? std::span<const float>(w)
                                                     : std::span<const float>());
                if (!ours.ok())
                    QFAIL(ours.message().c_str());
                QVERIFY2(
                    *ours == theirs,
                    qPrintable(
                        QString("%1, rows of %2, imatrix %3").arg(name).arg(cols).arg(imatrix)));
            }
    }
}

// The scheme option q4_k:imatrix with a layer's activations X [tokens, cols] equals what
// llama-imatrix then llama-quantize make of them: ggml's quantize_<type> given, per column, the
// float sum of x^2 over the tokens (in token order) divided by the float token count, decoded by
// dequantize_row_<type>.
void TestGgmlOracle::imatrixSchemeMatchesLlamaQuantize() {
    constexpr std::int64_t rows = 48, tokens = 37;
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(tokens * kCols));
    for (std::int64_t t = 0; t < tokens; ++t)
        for (std::int64_t j = 0; j < kCols; ++j) // a few loud channels, as in real layers
            x[static_cast<std::size_t>(t * kCols + j)] = nd(rng) * (j % 97 == 3 ? 20.0f : 1.0f);
    std::vector<float> importance(kCols, 0.0f);
    for (std::int64_t t = 0; t < tokens; ++t)
        for (std::int64_t j = 0; j < kCols; ++j) {
            const float v = x[static_cast<std::size_t>(t * kCols + j)];
            importance[static_cast<std::size_t>(j)] += v * v;
        }
    for (auto& v : importance)
        v /= static_cast<float>(tokens);
    const MatrixView acts{x.data(), tokens, kCols};
    const MatrixView w{m_x.data(), rows, kCols};
    const char* names[] = {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0",   "q2_K",
                           "q3_K", "q4_K", "q5_K", "q6_K", "iq4_nl", "iq4_xs"};
    for (const char* name : names) {
        QString family = QString(name).toLower();
        auto s = Scheme::parse((family + ":imatrix").toStdString());
        QVERIFY(s.ok());
        const auto t = *ggmlTypeForFamily(s->family);
        auto quantizeGgml = reinterpret_cast<GgmlQuantizeFn>(
            dlsym(m_lib, (std::string("quantize_") + name).c_str()));
        auto dequantGgml = reinterpret_cast<GgmlDequantFn>(
            dlsym(m_lib, (std::string("dequantize_row_") + name).c_str()));
        QVERIFY(quantizeGgml && dequantGgml);
        std::vector<std::byte> theirs(*ggmlRowBytes(t, kCols) * rows);
        quantizeGgml(w.data, theirs.data(), rows, kCols, importance.data());
        std::vector<float> expected(w.size());
        dequantGgml(theirs.data(), expected.data(), static_cast<std::int64_t>(w.size()));

        auto ours = quantize(*s, w, {}, &acts);
        if (!ours.ok())
            QFAIL(ours.message().c_str());
        QVERIFY2(std::memcmp(ours->reconstruction.data(), expected.data(),
                             expected.size() * sizeof(float)) == 0,
                 name);
        // ggml's q8_0 ignores the weights; every other type searches with them.
        auto plain = quantize(*Scheme::parse(family.toStdString()), w);
        QVERIFY(plain.ok());
        const bool same = plain->reconstruction == ours->reconstruction;
        QVERIFY2(same == (family == "q8_0"), name);
    }
}

QTEST_APPLESS_MAIN(TestGgmlOracle)
#include "test_ggml_oracle.moc"
