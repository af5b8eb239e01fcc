// SchemePanel: menus come from the registry, every valid edit emits the canonical scheme once,
// and a spec that does not parse shows its error without emitting.

#include "panels/scheme_panel.h"
#include "quant/registry.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTest>

using namespace qs;

namespace {

template <class W> W* child(SchemePanel& panel, const char* name) {
    auto* w = panel.findChild<W*>(QString::fromLatin1(name));
    if (!w)
        qFatal("SchemePanel has no child %s", name);
    return w;
}

QString specOf(const QList<QVariant>& signalArgs) {
    return QString::fromStdString(signalArgs.at(0).value<Scheme>().toString());
}

} // namespace

class TestSchemePanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void familyComboListsEveryRegistryFamily();
    void startsOnInt4WithGroupsOf64();
    void changingBitsEmitsTheCanonicalSpec_data();
    void changingBitsEmitsTheCanonicalSpec();
    void granularityAndSymmetryEditsEmitTheCanonicalSpec_data();
    void granularityAndSymmetryEditsEmitTheCanonicalSpec();
    void typedValidSpecUpdatesControlsAndEmitsOnce();
    void typedBadSpecShowsAnErrorAndDoesNotEmit_data();
    void typedBadSpecShowsAnErrorAndDoesNotEmit();
    void fixedWidthFamilyDisablesBitsAndHidesGroupOptions();
    void optionRowsShowOnlyForFamiliesThatAcceptThem_data();
    void optionRowsShowOnlyForFamiliesThatAcceptThem();
    void optionEditsEmitTheCanonicalSpec_data();
    void optionEditsEmitTheCanonicalSpec();
    void typedOptionsShowInTheControls();
};

void TestSchemePanel::familyComboListsEveryRegistryFamily() {
    SchemePanel panel;
    auto* combo = child<QComboBox>(panel, "familyCombo");
    auto* model = qobject_cast<QStandardItemModel*>(combo->model());
    QVERIFY(model);
    QStringList listed;
    for (int i = 0; i < combo->count(); ++i) {
        const QString name = combo->itemData(i).toString();
        if (name.isEmpty())
            continue; // separator between kinds
        listed << name;
        const FamilyInfo* f = findFamily(name.toStdString());
        QVERIFY(f);
        QCOMPARE(model->item(i)->isEnabled(), f->implemented());
        QCOMPARE(combo->itemText(i).contains(QStringLiteral("(coming)")), !f->implemented());
        QCOMPARE(combo->itemData(i, Qt::ToolTipRole).toString(),
                 QString::fromLatin1(f->description.data(),
                                     static_cast<qsizetype>(f->description.size())));
    }
    QStringList registry;
    for (const FamilyInfo& f : families())
        registry << QString::fromLatin1(f.name.data(), static_cast<qsizetype>(f.name.size()));
    QCOMPARE(listed, registry);
}

void TestSchemePanel::startsOnInt4WithGroupsOf64() {
    SchemePanel panel;
    QCOMPARE(QString::fromStdString(panel.scheme().toString()), QStringLiteral("int4:g64"));
    QCOMPARE(child<QLineEdit>(panel, "specEdit")->text(), QStringLiteral("int4:g64"));
    QCOMPARE(child<QSpinBox>(panel, "bitsSpin")->minimum(), 2);
    QCOMPARE(child<QSpinBox>(panel, "bitsSpin")->maximum(), 8);
}

void TestSchemePanel::changingBitsEmitsTheCanonicalSpec_data() {
    QTest::addColumn<int>("bits");
    QTest::addColumn<QString>("spec");
    QTest::newRow("2") << 2 << QStringLiteral("int2:g64");
    QTest::newRow("3") << 3 << QStringLiteral("int3:g64");
    QTest::newRow("8") << 8 << QStringLiteral("int8:g64");
}

void TestSchemePanel::changingBitsEmitsTheCanonicalSpec() {
    QFETCH(int, bits);
    QFETCH(QString, spec);
    SchemePanel panel;
    QSignalSpy spy(&panel, &SchemePanel::schemeChanged);
    child<QSpinBox>(panel, "bitsSpin")->setValue(bits);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(specOf(spy.at(0)), spec);
    QCOMPARE(child<QLineEdit>(panel, "specEdit")->text(), spec);
}

void TestSchemePanel::granularityAndSymmetryEditsEmitTheCanonicalSpec_data() {
    QTest::addColumn<QString>("control");
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("spec");
    QTest::newRow("tensor") << QStringLiteral("granularityCombo") << 0
                            << QStringLiteral("int4:tensor");
    QTest::newRow("channel") << QStringLiteral("granularityCombo") << 1
                             << QStringLiteral("int4:channel");
    QTest::newRow("symmetric") << QStringLiteral("symmetryCombo") << 0
                               << QStringLiteral("int4:g64:sym");
}

void TestSchemePanel::granularityAndSymmetryEditsEmitTheCanonicalSpec() {
    QFETCH(QString, control);
    QFETCH(int, index);
    QFETCH(QString, spec);
    SchemePanel panel;
    QSignalSpy spy(&panel, &SchemePanel::schemeChanged);
    panel.findChild<QComboBox*>(control)->setCurrentIndex(index);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(specOf(spy.at(0)), spec);
}

void TestSchemePanel::typedValidSpecUpdatesControlsAndEmitsOnce() {
    SchemePanel panel;
    QSignalSpy spy(&panel, &SchemePanel::schemeChanged);
    auto* edit = child<QLineEdit>(panel, "specEdit");
    edit->clear();
    QTest::keyClicks(edit, QStringLiteral("INT8:g128:sym"));
    QCOMPARE(spy.count(), 0); // applied on Enter, not per keystroke
    QTest::keyClick(edit, Qt::Key_Return);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(specOf(spy.at(0)), QStringLiteral("int8:g128:sym"));
    QCOMPARE(child<QSpinBox>(panel, "bitsSpin")->value(), 8);
    QCOMPARE(child<QComboBox>(panel, "groupSizeCombo")->currentText(), QStringLiteral("128"));
    QVERIFY(panel.specError().isEmpty());
}

void TestSchemePanel::typedBadSpecShowsAnErrorAndDoesNotEmit_data() {
    QTest::addColumn<QString>("spec");
    QTest::newRow("bits out of range") << QStringLiteral("int9");
    QTest::newRow("unknown family") << QStringLiteral("foo4");
    QTest::newRow("unknown option") << QStringLiteral("int4:bogus");
    QTest::newRow("zero group") << QStringLiteral("int4:g0");
}

void TestSchemePanel::typedBadSpecShowsAnErrorAndDoesNotEmit() {
    QFETCH(QString, spec);
    SchemePanel panel;
    QSignalSpy spy(&panel, &SchemePanel::schemeChanged);
    auto* edit = child<QLineEdit>(panel, "specEdit");
    edit->clear();
    QTest::keyClicks(edit, spec);
    QTest::keyClick(edit, Qt::Key_Return);
    QCOMPARE(spy.count(), 0);
    QVERIFY(!panel.specError().isEmpty());
    QVERIFY(!child<QLabel>(panel, "specError")->isHidden());
    QCOMPARE(QString::fromStdString(panel.scheme().toString()), QStringLiteral("int4:g64"));
}

void TestSchemePanel::fixedWidthFamilyDisablesBitsAndHidesGroupOptions() {
    SchemePanel panel;
    QVERIFY(panel.applySpec(QStringLiteral("f16")));
    auto* bits = child<QSpinBox>(panel, "bitsSpin");
    QVERIFY(!bits->isEnabled());
    QCOMPARE(bits->value(), 16);
    QVERIFY(child<QComboBox>(panel, "granularityCombo")->isHidden());
    QVERIFY(child<QComboBox>(panel, "symmetryCombo")->isHidden());
    QVERIFY(panel.applySpec(QStringLiteral("int4:g64")));
    QVERIFY(bits->isEnabled());
    QVERIFY(!child<QComboBox>(panel, "granularityCombo")->isHidden());
}

void TestSchemePanel::optionRowsShowOnlyForFamiliesThatAcceptThem_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("control");
    QTest::addColumn<bool>("shown");
    const struct {
        const char* spec;
        const char* control;
        bool shown;
    } rows[] = {
        {"int4:g64", "clipCombo", true},
        {"mulaw4", "clipCombo", true},
        {"nf4", "clipCombo", true},
        {"fp4", "clipCombo", true},
        {"mxfp4", "clipCombo", false},
        {"q4_0", "clipCombo", false},
        {"f16", "clipCombo", false},
        {"int4:g64", "roundingCombo", true},
        {"mxfp4", "roundingCombo", true},
        {"q4_0", "roundingCombo", false},
        {"int4:g64", "fullRangeCheck", true},
        {"nf4", "fullRangeCheck", false},
        {"nf4", "dqCheck", true},
        {"bnb_fp4", "dqCheck", true},
        {"int4:g64", "dqCheck", false},
        {"mxfp4", "scaleRuleCombo", true},
        {"nvfp4", "scaleRuleCombo", false},
        {"int4:g64", "scaleRuleCombo", false},
        {"mulaw4", "familyParamSpin", true},
        {"alaw4", "familyParamSpin", true},
        {"log4", "familyParamSpin", false},
        {"int4:g64", "familyParamSpin", false},
        {"kmeans3", "extraEdit", true},
        {"int4:g64", "extraEdit", false},
    };
    for (const auto& r : rows)
        QTest::addRow("%s %s", r.spec, r.control)
            << QString::fromLatin1(r.spec) << QString::fromLatin1(r.control) << r.shown;
}

void TestSchemePanel::optionRowsShowOnlyForFamiliesThatAcceptThem() {
    QFETCH(QString, spec);
    QFETCH(QString, control);
    QFETCH(bool, shown);
    SchemePanel panel;
    QVERIFY2(panel.applySpec(spec), qPrintable(panel.specError()));
    auto* w = panel.findChild<QWidget*>(control);
    QVERIFY(w);
    QCOMPARE(w->isVisibleTo(&panel), shown);
}

void TestSchemePanel::optionEditsEmitTheCanonicalSpec_data() {
    QTest::addColumn<QString>("start");
    QTest::addColumn<QString>("control");
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QString>("spec");
    QTest::newRow("int clip mse") << "int4:g64"
                                  << "clipCombo" << QVariant(1) << "int4:g64:clip=mse";
    QTest::newRow("nf clip mse") << "nf4:g64"
                                 << "clipCombo" << QVariant(1) << "nf4:g64:clip=mse";
    QTest::newRow("int round stochastic")
        << "int4:g64"
        << "roundingCombo" << QVariant(1) << "int4:g64:round=stochastic";
    QTest::newRow("int full range")
        << "int4:g64:sym"
        << "fullRangeCheck" << QVariant(true) << "int4:g64:sym:range=full";
    QTest::newRow("nf dq") << "nf4:g64"
                           << "dqCheck" << QVariant(true) << "nf4:g64:dq";
    QTest::newRow("mxfp4 rceil") << "mxfp4"
                                 << "scaleRuleCombo" << QVariant(3) << "mxfp4:scale=rceil";
    QTest::newRow("mxfp4 ceil") << "mxfp4"
                                << "scaleRuleCombo" << QVariant(1) << "mxfp4:scale=ceil";
    QTest::newRow("mulaw mu") << "mulaw4"
                              << "familyParamSpin" << QVariant(100.0) << "mulaw4:tensor:mu100";
    QTest::newRow("alaw A") << "alaw4"
                            << "familyParamSpin" << QVariant(50.0) << "alaw4:tensor:a50";
    QTest::newRow("kmeans extra") << "kmeans3"
                                  << "extraEdit" << QVariant("iters=10")
                                  << "kmeans3:tensor:iters=10";
}

void TestSchemePanel::optionEditsEmitTheCanonicalSpec() {
    QFETCH(QString, start);
    QFETCH(QString, control);
    QFETCH(QVariant, value);
    QFETCH(QString, spec);
    SchemePanel panel;
    QVERIFY(panel.applySpec(start));
    QSignalSpy spy(&panel, &SchemePanel::schemeChanged);
    QWidget* w = panel.findChild<QWidget*>(control);
    QVERIFY(w);
    if (auto* combo = qobject_cast<QComboBox*>(w)) {
        combo->setCurrentIndex(value.toInt());
    } else if (auto* check = qobject_cast<QCheckBox*>(w)) {
        check->setChecked(value.toBool());
    } else if (auto* spin = qobject_cast<QDoubleSpinBox*>(w)) {
        spin->setValue(value.toDouble());
    } else if (auto* edit = qobject_cast<QLineEdit*>(w)) {
        edit->clear();
        QTest::keyClicks(edit, value.toString());
        QTest::keyClick(edit, Qt::Key_Return);
    }
    QCOMPARE(spy.count(), 1);
    QCOMPARE(specOf(spy.at(0)), spec);
    QCOMPARE(child<QLineEdit>(panel, "specEdit")->text(), spec);
    QVERIFY(panel.specError().isEmpty());
}

void TestSchemePanel::typedOptionsShowInTheControls() {
    SchemePanel panel;
    QVERIFY(panel.applySpec(QStringLiteral("int4:g64:clip=p99.5:round=stochastic:seed=7")));
    QCOMPARE(child<QComboBox>(panel, "clipCombo")->currentIndex(), 2);
    QCOMPARE(child<QDoubleSpinBox>(panel, "clipPercentileSpin")->value(), 99.5);
    QCOMPARE(child<QComboBox>(panel, "roundingCombo")->currentIndex(), 1);
    QCOMPARE(child<QSpinBox>(panel, "seedSpin")->value(), 7);
    // Editing another control keeps them.
    QSignalSpy spy(&panel, &SchemePanel::schemeChanged);
    child<QSpinBox>(panel, "bitsSpin")->setValue(3);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(specOf(spy.at(0)), QStringLiteral("int3:g64:clip=p99.5:round=stochastic:seed=7"));
    QVERIFY(panel.applySpec(QStringLiteral("mulaw4:mu50")));
    QCOMPARE(child<QDoubleSpinBox>(panel, "familyParamSpin")->value(), 50.0);
}

QTEST_MAIN(TestSchemePanel)
#include "test_scheme_panel.moc"
