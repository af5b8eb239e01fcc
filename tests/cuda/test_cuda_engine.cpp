// The CUDA engine against the CPU (cuda_parity.h says what is checked), on a device; every test
// skips without one.
#include "cuda/cuda_engine.h"
#include "cuda_parity.h"

#include <QtTest>

using namespace qs;
using namespace qs::cudacheck;

namespace {

QString joined(const Failures& f) {
    QStringList l;
    for (const auto& s : f)
        l << QString::fromStdString(s);
    return l.join(QStringLiteral("; "));
}

} // namespace

class TestCudaEngine : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesTheCpu_data();
    void matchesTheCpu();
    void streamsInChunks();
    void halfInputsMatchTheCpuBench_data();
    void halfInputsMatchTheCpuBench();
    void declinesNonFinite();
    void rowsTakeTheTensorsRange();
    void cancels();

private:
    std::unique_ptr<DeviceEngine> m_engine;
};

void TestCudaEngine::initTestCase() {
    std::string why;
    m_engine = cuda::openCudaEngine(why);
    if (!m_engine)
        QSKIP(qPrintable("no CUDA device: " + QString::fromStdString(why)));
    qInfo("device: %s", m_engine->deviceName().c_str());
}

void TestCudaEngine::matchesTheCpu_data() {
    QTest::addColumn<int>("index");
    const auto cases = parityCases();
    for (std::size_t i = 0; i < cases.size(); ++i)
        QTest::newRow(qPrintable(QString("%1 %2x%3")
                                     .arg(QString::fromStdString(cases[i].spec))
                                     .arg(cases[i].rows)
                                     .arg(cases[i].cols)))
            << static_cast<int>(i);
}

void TestCudaEngine::matchesTheCpu() {
    QFETCH(int, index);
    const Failures f = checkParity(*m_engine, parityCases()[static_cast<std::size_t>(index)]);
    if (f.size() == 1 && f[0].rfind("skip:", 0) == 0)
        QSKIP(f[0].c_str());
    QVERIFY2(f.empty(), qPrintable(joined(f)));
}

void TestCudaEngine::streamsInChunks() {
    const Failures f = checkChunked(*m_engine);
    QVERIFY2(f.empty(), qPrintable(joined(f)));
}

void TestCudaEngine::halfInputsMatchTheCpuBench_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("dtype");
    for (const char* s : {"int4:g128", "nf4:g64", "mxfp4", "nvfp4", "int8:tensor", "q8_0"})
        for (const char* t : {"bf16", "f16", "f32"})
            QTest::newRow(qPrintable(QString(s) + " " + t)) << QString(s) << QString(t);
}

void TestCudaEngine::halfInputsMatchTheCpuBench() {
    QFETCH(QString, spec);
    QFETCH(QString, dtype);
    const Failures f = checkHalfInputs(*m_engine, spec.toStdString(), dtype.toStdString());
    QVERIFY2(f.empty(), qPrintable(joined(f)));
}

void TestCudaEngine::declinesNonFinite() {
    const Failures f = checkNonFinite(*m_engine);
    QVERIFY2(f.empty(), qPrintable(joined(f)));
}

void TestCudaEngine::rowsTakeTheTensorsRange() {
    const Failures f = checkTensorRange(*m_engine);
    QVERIFY2(f.empty(), qPrintable(joined(f)));
}

void TestCudaEngine::cancels() {
    const Failures f = checkCancel(*m_engine);
    QVERIFY2(f.empty(), qPrintable(joined(f)));
}

QTEST_APPLESS_MAIN(TestCudaEngine)
#include "test_cuda_engine.moc"
