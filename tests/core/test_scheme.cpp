#include "quant/registry.h"
#include "quant/scheme.h"

#include <QtTest>

#include <algorithm>

using namespace qs;

class TestScheme : public QObject {
    Q_OBJECT
private slots:
    void everyFamilyRoundTrips_data();
    void everyFamilyRoundTrips();
    void canonicalForm_data();
    void canonicalForm();
    void invalidSpecsNameWhatIsValid_data();
    void invalidSpecsNameWhatIsValid();
    void defaultsFollowTheReferenceTools();
    void unimplementedFamiliesSaySo();
};

void TestScheme::everyFamilyRoundTrips_data() {
    QTest::addColumn<QString>("spec");
    for (const auto& f : families()) {
        const std::string name(f.name);
        std::vector<std::string> specs;
        if (f.fixedBits()) {
            specs.push_back(name);
        } else {
            for (int b = f.minBits; b <= f.maxBits; ++b)
                specs.push_back(name + std::to_string(b));
        }
        const std::string base = specs.front();
        if (f.hasGranularity()) {
            specs.push_back(base + ":g32");
            specs.push_back(base + ":channel");
            specs.push_back(base + ":tensor");
        }
        if (f.hasSymmetry) {
            specs.push_back(base + ":sym");
            specs.push_back(base + ":asym");
        }
        for (const auto& s : specs)
            QTest::newRow(s.c_str()) << QString::fromStdString(s);
    }
    QTest::newRow("int full range") << "int8:channel:sym:range=full";
    QTest::newRow("nf4 dq") << "nf4:g64:dq";
    QTest::newRow("mulaw mu") << "mulaw4:g128:mu100";
    QTest::newRow("alaw") << "alaw6:a87.6";
    QTest::newRow("clip mse") << "int4:g128:clip=mse";
    QTest::newRow("clip percentile") << "int4:g128:clip=p99.9";
    QTest::newRow("stochastic") << "int4:g64:round=stochastic:seed=7";
    QTest::newRow("mx scale rule") << "mxfp4:scale=rceil";
    QTest::newRow("gptq act order") << "gptq4:g128:act_order:damp=0.01";
    QTest::newRow("sinq aux8") << "sinq4:g64:aux8:fallback=kurtosis";
    QTest::newRow("upper case") << "INT4:G64";
}

void TestScheme::everyFamilyRoundTrips() {
    QFETCH(QString, spec);
    auto s = Scheme::parse(spec.toStdString());
    QVERIFY2(s.ok(), s.ok() ? "" : s.message().c_str());
    const std::string printed = s->toString();
    auto again = Scheme::parse(printed);
    QVERIFY2(again.ok(), printed.c_str());
    QVERIFY2(*again == *s, printed.c_str());
    QCOMPARE(again->toString(), printed);
}

void TestScheme::canonicalForm_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("canonical");
    QTest::newRow("int default is per channel asym") << "int4"
                                                     << "int4:channel";
    QTest::newRow("asym is the default") << "int4:g64:asym"
                                         << "int4:g64";
    QTest::newRow("sym") << "int8:sym:channel"
                         << "int8:channel:sym";
    QTest::newRow("last granularity wins") << "int4:tensor:g32"
                                           << "int4:g32";
    QTest::newRow("nf4 default group 64") << "nf4"
                                          << "nf4:g64";
    QTest::newRow("mulaw default") << "mulaw8"
                                   << "mulaw8:tensor:mu255";
    QTest::newRow("clip p100 is minmax") << "int4:g64:clip=p100"
                                         << "int4:g64";
    QTest::newRow("last clip wins whole (fuzz)") << "int4:clip=p44:clip=mse"
                                                 << "int4:channel:clip=mse";
    QTest::newRow("last clip wins, minmax") << "int4:g64:clip=p9:clip=minmax"
                                            << "int4:g64";
    QTest::newRow("fixed block formats") << "q4_k"
                                         << "q4_k";
    QTest::newRow("mx floor default") << "mxfp4:scale=floor"
                                      << "mxfp4";
    QTest::newRow("gptq sym default") << "gptq4"
                                      << "gptq4:g128";
    QTest::newRow("gptq asym") << "gptq4:asym"
                               << "gptq4:g128:asym";
}

void TestScheme::canonicalForm() {
    QFETCH(QString, spec);
    QFETCH(QString, canonical);
    auto s = Scheme::parse(spec.toStdString());
    QVERIFY2(s.ok(), s.ok() ? "" : s.message().c_str());
    QCOMPARE(QString::fromStdString(s->toString()), canonical);
    auto again = Scheme::parse(canonical.toStdString()); // parse(print(x)) == x
    QVERIFY(again.ok());
    QVERIFY(*again == *s);
}

void TestScheme::invalidSpecsNameWhatIsValid_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("mustMention");
    QTest::newRow("empty") << ""
                           << "FAMILY";
    QTest::newRow("unknown family") << "foo4"
                                    << "valid families: int";
    QTest::newRow("bits too high") << "int9"
                                   << "2..8";
    QTest::newRow("bits too low") << "int1"
                                  << "2..8";
    QTest::newRow("bits missing") << "int"
                                  << "needs a bit width";
    QTest::newRow("fixed format with bits") << "q4_k4"
                                            << "valid families";
    QTest::newRow("unknown option") << "int4:foo"
                                    << "valid options: gN, channel, tensor, sym";
    QTest::newRow("group on block format") << "mxfp4:g64"
                                           << "valid options";
    QTest::newRow("zero group") << "int4:g0"
                                << "group size";
    QTest::newRow("sym on nf") << "nf4:sym"
                               << "valid options";
    QTest::newRow("range=full asym") << "int4:range=full"
                                     << "symmetric";
    QTest::newRow("bad clip") << "int4:clip=p0"
                              << "clip must be";
    QTest::newRow("bad round") << "int4:round=up"
                               << "round must be";
    QTest::newRow("seed without stochastic") << "int4:seed=3"
                                             << "round=stochastic";
    QTest::newRow("empty option") << "int4::g64"
                                  << "empty option";
    QTest::newRow("dq on int") << "int4:dq"
                               << "valid options";
}

void TestScheme::invalidSpecsNameWhatIsValid() {
    QFETCH(QString, spec);
    QFETCH(QString, mustMention);
    auto s = Scheme::parse(spec.toStdString());
    QVERIFY(!s.ok());
    QVERIFY2(QString::fromStdString(s.message()).contains(mustMention), s.message().c_str());
}

void TestScheme::defaultsFollowTheReferenceTools() {
    auto nf = Scheme::parse("nf4");
    QVERIFY(nf.ok());
    QCOMPARE(nf->granularity, Granularity::Group);
    QCOMPARE(nf->groupSize, 64); // bitsandbytes blocksize
    auto mx = Scheme::parse("mxfp4");
    QCOMPARE(mx->granularity, Granularity::Block);
    QCOMPARE(mx->groupSize, 32);
    QCOMPARE(mx->bits, 4);
    auto nv = Scheme::parse("nvfp4");
    QCOMPARE(nv->groupSize, 16);
    auto mu = Scheme::parse("mulaw4");
    QCOMPARE(mu->familyParam, 255.0);
    auto a = Scheme::parse("alaw4");
    QCOMPARE(a->familyParam, 87.6);
    auto q = Scheme::parse("q6_k");
    QCOMPARE(q->groupSize, 256);
}

void TestScheme::unimplementedFamiliesSaySo() {
    const auto all = families();
    const auto it =
        std::find_if(all.begin(), all.end(), [](const FamilyInfo& f) { return !f.implemented(); });
    if (it == all.end())
        QSKIP("every family is implemented");
    std::string spec(it->name);
    if (!it->fixedBits())
        spec += std::to_string(it->minBits);
    auto s = Scheme::parse(spec);
    QVERIFY(s.ok());
    const float data[256] = {};
    auto r = quantize(*s, MatrixView{data, 1, 256});
    QVERIFY(!r.ok());
    QVERIFY2(QString::fromStdString(r.message()).contains("not implemented yet"),
             r.message().c_str());
    auto lv = unitLevels(*s);
    QVERIFY(!lv.ok());
}

QTEST_APPLESS_MAIN(TestScheme)
#include "test_scheme.moc"
