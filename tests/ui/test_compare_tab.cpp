// CompareTab inside the main window on the bundled sample: the default trio at the Scheme panel's
// bit width, following bit changes, editable slots with validation, and schemes that do not apply.

#include "charts/chart_style.h"
#include "charts/compare_levels_chart.h"
#include "charts/compare_scatter_chart.h"
#include "charts/compare_transfer_chart.h"
#include "main_window.h"
#include "models/compare_table_model.h"
#include "number_format.h"
#include "panels/compare_slots.h"
#include "panels/compare_tab.h"
#include "test_support.h"
#include "widgets/compare_slot_editor.h"
#include "widgets/error_map_view.h"
#include "widgets/scale_legend.h"
#include "workers/analysis_controller.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTest>
#include <QValueAxis>

#include <cmath>

using namespace qs;

namespace {

constexpr int kTimeoutMs = 20000;
const QString kQProj = QStringLiteral("model.layers.0.self_attn.q_proj.weight");
const QString kDownProj = QStringLiteral("model.layers.0.mlp.down_proj.weight");

QStringList specs(const CompareTab* tab) {
    QStringList out;
    for (const Scheme& s : tab->schemes())
        out << QString::fromStdString(s.toString());
    return out;
}

QVariant cell(const CompareTab* tab, int row, CompareColumn column, int role = Qt::DisplayRole) {
    const CompareTableModel* m = tab->tableModel();
    return m->index(row, static_cast<int>(column)).data(role);
}

// Every row has its result and the levels chart shows `levels` for each.
bool showsAll(const CompareTab* tab, int levels) {
    const int rows = tab->tableModel()->rowCount();
    for (int r = 0; r < rows; ++r) {
        const CompareResult* result = tab->tableModel()->result(r);
        if (!result || static_cast<int>(result->levels.size()) != levels ||
            tab->levelsChart()->levelCount(r) != levels)
            return false;
    }
    return rows > 0;
}

struct Window {
    Window() : w(false) {
        w.setCurrentTab(QStringLiteral("compare"));
        w.openCheckpoint(QString::fromStdString(test::samplePath()), kQProj);
    }
    MainWindow w;
};

} // namespace

class TestCompareTab : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void defaultsAreIntMulawAndNfAtThePanelsBits();
    void changingBitsUpdatesAllThree();
    void slotsTakeAFamilyOrATypedSpec();
    void aBadSpecIsShownAndChangesNothing();
    void aSchemeThatDoesNotApplyShowsNotApplicable();
    void pinnedSlotsFollowOnlyTheBitWidth();
    void errorPageShowsWhereTheErrorSits();
    void specsShowWholeInA1280Window();
    void familiesThatShareAColourGetDistinctOnes();
};

void TestCompareTab::errorPageShowsWhereTheErrorSits() {
    Window win;
    CompareTab* tab = win.w.compareTab();
    QVERIFY(win.w.setCurrentTab(QStringLiteral("compare-error")));
    QVERIFY(tab->isErrorViewShown());
    QTRY_VERIFY_WITH_TIMEOUT(showsAll(tab, 16), kTimeoutMs);
    const double sqnr0 = cell(tab, 0, CompareColumn::Sqnr, int(CompareRole::Value)).toDouble();
    QCOMPARE(cell(tab, 0, CompareColumn::SqnrDelta).toString(), QStringLiteral("reference"));
    for (int r = 0; r < 3; ++r) {
        const CompareResult* result = tab->tableModel()->result(r);
        if (r > 0)
            QCOMPARE(cell(tab, r, CompareColumn::SqnrDelta, int(CompareRole::Value)).toDouble(),
                     result->error.sqnrDb() - sqnr0);
        // [64, 64] fits the grid element by element; the row RMSEs add up to the squared error.
        // The scatter holds 3000 strided samples plus up to 64 largest errors.
        const ErrorMap& m = tab->errorMap(r)->map();
        QCOMPARE(m.gridRows, 64);
        QCOMPARE(m.gridCols, 64);
        double sum = 0;
        for (double v : m.rowRmse)
            sum += v * v * 64;
        QVERIFY(std::abs(sum - result->error.sumSqErr) <= 1e-9 * result->error.sumSqErr);
        QVERIFY(tab->scatterChart()->pointCount(r) >= 3000);
        QVERIFY(tab->scatterChart()->pointCount(r) <= 3000 + 64);
        double maxAbs = 0;
        for (const QPointF& p : result->scatter)
            maxAbs = std::max(maxAbs, std::abs(p.y()));
        QCOMPARE(maxAbs, result->error.maxAbsErr); // the largest error is always in the sample
    }
    // One colour scale for the three maps, labelled from 0 to the loudest tile of any of them.
    double top = 0;
    for (int r = 0; r < 3; ++r)
        top = std::max(top, tab->errorMap(r)->map().maxTileRmse());
    QVERIFY(top > 0);
    QVERIFY(!tab->errorMapLegend()->isHidden());
    QCOMPARE(tab->errorMapLegend()->highText(), formatNumber(top, 3));
}

// In a 1280 x 800 window the three slots share about 540 pixels: each spec field still shows its
// whole spec (the slots wrap to a second line).
void TestCompareTab::specsShowWholeInA1280Window() {
    Window win;
    win.w.resize(1280, 800);
    win.w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&win.w));
    CompareTab* tab = win.w.compareTab();
    QTRY_VERIFY_WITH_TIMEOUT(showsAll(tab, 16), kTimeoutMs);
    // The page as wide as in a 1280-pixel window with the docks as they were on screen (540).
    win.w.resize(win.w.width() - (tab->width() - 540), 800);
    QTRY_VERIFY2(tab->width() <= 560, qPrintable(QString::number(tab->width())));
    QApplication::processEvents();
    auto inside = [tab](const QWidget* w) {
        return tab->rect().contains(QRect(w->mapTo(tab, QPoint(0, 0)), w->size()));
    };
    for (int i = 0; i < 3; ++i) {
        const auto* spec = tab->findChild<QLineEdit*>(QStringLiteral("compareSpec%1").arg(i));
        QVERIFY(spec);
        const int need = spec->fontMetrics().horizontalAdvance(spec->text()) + 8;
        QVERIFY2(spec->width() >= need,
                 qPrintable(QString("%1: %2 < %3").arg(spec->text()).arg(spec->width()).arg(need)));
        QVERIFY2(inside(spec), qPrintable(spec->text()));
    }
}

void TestCompareTab::defaultsAreIntMulawAndNfAtThePanelsBits() {
    Window win;
    CompareTab* tab = win.w.compareTab();
    QAbstractItemModelTester tester(tab->tableModel(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(specs(tab),
             QStringList({QStringLiteral("int4:g64"), QStringLiteral("mulaw4:g64:mu255"),
                          QStringLiteral("nf4:g64")}));
    QTRY_VERIFY_WITH_TIMEOUT(showsAll(tab, 16), kTimeoutMs);
    for (int r = 0; r < 3; ++r) {
        const double sqnr = cell(tab, r, CompareColumn::Sqnr, int(CompareRole::Value)).toDouble();
        QVERIFY2(sqnr > 5 && sqnr < 40, qPrintable(QString::number(sqnr)));
        QVERIFY(cell(tab, r, CompareColumn::Sqnr).toString().endsWith(QStringLiteral("dB")));
        QCOMPARE(cell(tab, r, CompareColumn::Levels).toString(), QStringLiteral("16"));
        QVERIFY(cell(tab, r, CompareColumn::Bpw, int(CompareRole::Value)).toDouble() > 4.0);
        QVERIFY(tab->transferChart()->stepCount(r) > 0);
    }
    // The int row agrees with the Tensor tab's analysis of the same scheme.
    QTRY_VERIFY_WITH_TIMEOUT(!win.w.controller()->isBusy(), kTimeoutMs);
    QVERIFY(tab->levelsChart()->binCount() > 0);
    QVERIFY(!tab->levelsChart()->csvData().isEmpty());
    // The view takes in every scheme's levels: nf4's top level, the absmax 1.594 of q_proj,
    // lies past its max of 1.23, and the axis ended at 1.5 before.
    const auto* x =
        qobject_cast<QValueAxis*>(tab->levelsChart()->chart()->axes(Qt::Horizontal).value(0));
    QVERIFY(x);
    for (int r = 0; r < 3; ++r) {
        const auto& levels = tab->tableModel()->result(r)->levels;
        QVERIFY2(x->min() <= levels.front() && levels.back() <= x->max(),
                 qPrintable(QString("%1 .. %2 outside %3 .. %4")
                                .arg(levels.front())
                                .arg(levels.back())
                                .arg(x->min())
                                .arg(x->max())));
    }
}

void TestCompareTab::changingBitsUpdatesAllThree() {
    Window win;
    CompareTab* tab = win.w.compareTab();
    QTRY_VERIFY_WITH_TIMEOUT(showsAll(tab, 16), kTimeoutMs);
    const double int4 = cell(tab, 0, CompareColumn::Sqnr, int(CompareRole::Value)).toDouble();
    win.w.findChild<QSpinBox*>(QStringLiteral("bitsSpin"))->setValue(3);
    QCOMPARE(specs(tab),
             QStringList({QStringLiteral("int3:g64"), QStringLiteral("mulaw3:g64:mu255"),
                          QStringLiteral("nf3:g64")}));
    QTRY_VERIFY_WITH_TIMEOUT(showsAll(tab, 8), kTimeoutMs);
    QVERIFY(cell(tab, 0, CompareColumn::Sqnr, int(CompareRole::Value)).toDouble() < int4);
    QVERIFY(tab->slotEditor(1)->specText().startsWith(QStringLiteral("mulaw3")));
}

void TestCompareTab::slotsTakeAFamilyOrATypedSpec() {
    Window win;
    CompareTab* tab = win.w.compareTab();
    tab->setSlotFamily(2, QStringLiteral("alaw"));
    QCOMPARE(specs(tab).at(2), QStringLiteral("alaw4:g64:a87.6"));
    tab->setSlotFamily(1, QString()); // unused
    QCOMPARE(specs(tab).size(), 2);
    QLineEdit* edit = tab->slotEditor(1)->specEdit();
    QTest::keyClicks(edit, QStringLiteral("mxfp4"));
    QTest::keyClick(edit, Qt::Key_Return);
    QCOMPARE(specs(tab), QStringList({QStringLiteral("int4:g64"), QStringLiteral("mxfp4"),
                                      QStringLiteral("alaw4:g64:a87.6")}));
    QTRY_VERIFY_WITH_TIMEOUT(tab->tableModel()->result(1) != nullptr, kTimeoutMs);
    // MX reports saturated and flushed blocks (each of the 64x64 tensor's 128 blocks of 32).
    const QString reports = cell(tab, 1, CompareColumn::Diagnostics).toString();
    QVERIFY2(reports == QStringLiteral("none") || reports.contains(QStringLiteral("/128")),
             qPrintable(reports));
    QCOMPARE(tab->tableModel()->result(1)->levels.size(), size_t(15)); // E2M1: ±{0..6}, one 0
}

void TestCompareTab::aBadSpecIsShownAndChangesNothing() {
    Window win;
    CompareTab* tab = win.w.compareTab();
    const QStringList before = specs(tab);
    QLineEdit* edit = tab->slotEditor(0)->specEdit();
    edit->clear();
    QTest::keyClicks(edit, QStringLiteral("int9"));
    QVERIFY(!tab->slotEditor(0)->specError().isEmpty());
    QTest::keyClick(edit, Qt::Key_Return);
    QCOMPARE(specs(tab), before);
}

void TestCompareTab::aSchemeThatDoesNotApplyShowsNotApplicable() {
    MainWindow w(false);
    QSignalSpy errors(&w, &MainWindow::errorShown);
    w.setCurrentTab(QStringLiteral("compare"));
    w.openCheckpoint(QString::fromStdString(test::samplePath()), kDownProj);
    CompareTab* tab = w.compareTab();
    QVERIFY(tab->setSlotSpec(2, QStringLiteral("q4_k")));
    QTRY_VERIFY_WITH_TIMEOUT(tab->tableModel()->result(2) != nullptr &&
                                 tab->tableModel()->result(0) != nullptr,
                             kTimeoutMs);
    QCOMPARE(cell(tab, 2, CompareColumn::Sqnr).toString(), QStringLiteral("n/a"));
    QVERIFY(cell(tab, 2, CompareColumn::Diagnostics)
                .toString()
                .contains(QStringLiteral("not applicable")));
    QCOMPARE(tab->levelsChart()->levelCount(2), 0);
    QCOMPARE(tab->levelsChart()->levelCount(0), 16);
    QVERIFY(tab->statusText().isEmpty());
    QCOMPARE(errors.count(), 0);
}

void TestCompareTab::pinnedSlotsFollowOnlyTheBitWidth() {
    auto panel = Scheme::parse("int4:g64");
    QVERIFY(panel.ok());
    std::vector<CompareSlot> compared = defaultCompareSlots(panel.value());
    compared[1] = {QStringLiteral("mulaw"), true, Scheme::parse("mulaw4:tensor:mu100").value()};
    compared[2] = {QStringLiteral("mxfp4"), true, Scheme::parse("mxfp4").value()};
    followPanel(compared, Scheme::parse("int6:channel:sym").value());
    const auto s = slotSchemes(compared);
    QCOMPARE(s.size(), size_t(3));
    QCOMPARE(QString::fromStdString(s[0].toString()), QStringLiteral("int6:channel:sym"));
    QCOMPARE(QString::fromStdString(s[1].toString()), QStringLiteral("mulaw6:tensor:mu100"));
    QCOMPARE(QString::fromStdString(s[2].toString()), QStringLiteral("mxfp4"));
}

// q4_k and gptq (and q4_0 and iq4_nl) share a palette colour; side by side they must not look
// alike. A family repeated keeps its colour (its second line is dashed).
void TestCompareTab::familiesThatShareAColourGetDistinctOnes() {
    QCOMPARE(schemeColor("q4_k"), schemeColor("gptq"));
    const auto c = distinctSchemeColors({"q4_k", "gptq", "q4_k", "int"});
    QCOMPARE(c.size(), std::size_t(4));
    QCOMPARE(c[0], schemeColor("q4_k"));
    QVERIFY(c[1] != c[0]);
    QCOMPARE(c[2], c[0]);
    QCOMPARE(c[3], schemeColor("int")); // no clash: its own colour
    const auto d = distinctSchemeColors({"q4_0", "iq4_nl", "q4_1", "iq4_xs"});
    for (std::size_t i = 0; i < d.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            QVERIFY(d[i] != d[j]);
    // The table's swatches are the charts' colours.
    CompareTableModel m;
    m.setSchemes({*Scheme::parse("q4_0"), *Scheme::parse("iq4_nl")}, nullptr);
    QCOMPARE(m.data(m.index(1, int(CompareColumn::Scheme)), Qt::DecorationRole).value<QColor>(),
             distinctSchemeColors({"q4_0", "iq4_nl"})[1]);
}

QTEST_MAIN(TestCompareTab)
#include "test_compare_tab.moc"
