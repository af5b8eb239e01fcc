// SchemePanel: menus come from the registry, every valid edit emits the canonical scheme once,
// and a spec that does not parse shows its error without emitting.

#include "panels/scheme_panel.h"
#include "quant/registry.h"

#include <QComboBox>
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
    QCOMPARE(child<QLineEdit>(panel, "canonicalSpec")->text(), QStringLiteral("int4:g64"));
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
    QCOMPARE(child<QLineEdit>(panel, "canonicalSpec")->text(), spec);
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

QTEST_MAIN(TestSchemePanel)
#include "test_scheme_panel.moc"
