// The CUDA build path: the trivial kernel against its CPU twin. Skips without a device.

#include "cuda/cuda_info.h"

#include <QtTest>

class TestCudaInfo : public QObject {
    Q_OBJECT
private slots:
    void reportsDevicesOrWhyNot();
    void scaleKernelMatchesCpu();
};

void TestCudaInfo::reportsDevicesOrWhyNot() {
    std::string why;
    const auto devs = qs::cuda::devices(&why);
    if (devs.empty()) QVERIFY2(!why.empty(), "no device and no reason given");
    for (const auto& d : devs) {
        QVERIFY(!d.name.empty());
        QVERIFY(d.totalMemoryBytes > 0);
    }
}

void TestCudaInfo::scaleKernelMatchesCpu() {
    std::string why;
    if (qs::cuda::devices(&why).empty())
        QSKIP(qPrintable("no CUDA device: " + QString::fromStdString(why)));
    std::vector<float> x(100003);
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = float(i) * 0.001f - 50.0f;
    std::vector<float> y;
    QVERIFY2(qs::cuda::scaleOnDevice(x, 2.5f, y, &why), why.c_str());
    QCOMPARE(y.size(), x.size());
    for (size_t i = 0; i < x.size(); ++i)
        QCOMPARE(y[i], 2.5f * x[i]); // one multiply: bit-identical to the CPU
}

QTEST_APPLESS_MAIN(TestCudaInfo)
#include "test_cuda_info.moc"
