// TensorBrowserPanel: metrics arriving one by one (a sweep fills the tree's bpw and SQNR
// columns this way) do not make the view measure every row again, and the columns sized once
// per checkpoint still show every cell's text whole.

#include "metric_fixture.h"
#include "models/tensor_tree_model.h"
#include "panels/tensor_browser_panel.h"
#include "test_support.h"

#include <QAbstractItemView>
#include <QHeaderView>
#include <QLabel>
#include <QStyledItemDelegate>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

using namespace qs;

namespace {

class CountingDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        ++calls;
        return QStyledItemDelegate::sizeHint(option, index);
    }
    mutable int calls = 0;
};

// Every cell fits its column: each column at least as wide as the widest text it holds now.
void checkColumnsFit(QTreeView* tree) {
    const auto* view = static_cast<const QAbstractItemView*>(tree);
    for (TensorColumn c :
         {TensorColumn::Shape, TensorColumn::DType, TensorColumn::Bpw, TensorColumn::Sqnr}) {
        const int column = static_cast<int>(c);
        QVERIFY2(tree->header()->sectionSize(column) >= view->sizeHintForColumn(column),
                 qPrintable(QStringLiteral("column %1: %2 < %3")
                                .arg(column)
                                .arg(tree->header()->sectionSize(column))
                                .arg(view->sizeHintForColumn(column))));
    }
}

} // namespace

class TestTensorBrowserPanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void metricsArrivingDoNotMeasureEveryRow();
    void columnsFitTheirWidestTexts();
    void aNarrowDockKeepsRoomForNames();
    void saysHowToOpenAFileWhileEmpty();
};

// No file open (started bare, or in Learn mode): the empty tree says how to open one, over the
// whole viewport; a checkpoint hides it, closing it shows it again.
void TestTensorBrowserPanel::saysHowToOpenAFileWhileEmpty() {
    TensorBrowserPanel panel;
    panel.resize(300, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QLabel* hint = panel.emptyHint();
    QVERIFY(hint->isVisible());
    QVERIFY(hint->text().contains(QStringLiteral("File ▸ Open")));
    QTRY_COMPARE(hint->geometry(), panel.tree()->viewport()->rect());
    auto opened = Checkpoint::open(test::samplePath());
    QVERIFY(opened);
    panel.setCheckpoint(std::make_shared<const Checkpoint>(std::move(opened.value())));
    QVERIFY(!hint->isVisible());
    panel.setCheckpoint(nullptr);
    QVERIFY(hint->isVisible());
}

void TestTensorBrowserPanel::metricsArrivingDoNotMeasureEveryRow() {
    auto opened = Checkpoint::open(test::samplePath());
    QVERIFY(opened);
    auto checkpoint = std::make_shared<const Checkpoint>(std::move(opened.value()));
    TensorBrowserPanel panel;
    panel.resize(900, 700);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setCheckpoint(checkpoint); // no scheme set: nothing is computed in the background
    QTreeView* tree = panel.tree();
    QCOMPARE(panel.focusWidget(), tree); // not the filter box, whose cursor would blink
    CountingDelegate counter;
    tree->setItemDelegate(&counter);
    QTest::qWait(50); // the first layout and paint

    QStringList names;
    for (const TensorInfo& t : checkpoint->tensors())
        names << QString::fromStdString(t.name);
    QVERIFY(names.size() >= 20);
    counter.calls = 0;
    for (int i = 0; i < names.size(); ++i) // -0.5 .. 30 dB, 2..16 bpw
        panel.model()->setMetric(
            names[i], test::okMetric(1000.0, 1000.0 / (1 + i * 40), 4096, 4096 * (2 + i % 15)));
    // One row's height at most per arrival (QTreeView::dataChanged); measuring the columns to
    // their contents took every row's cells for each arrival (here 4 x 60 per metric).
    QVERIFY2(
        counter.calls <= names.size(),
        qPrintable(
            QStringLiteral("%1 size hints for %2 metrics").arg(counter.calls).arg(names.size())));

    checkColumnsFit(tree);
}

void TestTensorBrowserPanel::columnsFitTheirWidestTexts() {
    // Shapes and metrics wider than the headers: a 5-D tensor, SQNR far below zero, "error".
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("wide.safetensors")).toStdString();
    const std::vector<std::int64_t> wide = {3, 7, 11, 13, 17};
    test::writeSafetensors(
        path,
        {{"model.layers.0.mlp.up_proj.weight", "F32", wide,
          test::floatBytes(std::vector<float>(3 * 7 * 11 * 13 * 17, 0.5f))},
         {"model.layers.0.mlp.down_proj.weight", "F16", {4, 2}, std::vector<std::uint8_t>(16)},
         {"model.layers.1.mlp.up_proj.weight", "F32", {2, 2}, test::floatBytes({1, 2, 3, 4})}});
    auto opened = Checkpoint::open(path);
    QVERIFY(opened);
    TensorBrowserPanel panel;
    panel.resize(900, 700);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setCheckpoint(std::make_shared<const Checkpoint>(std::move(opened.value())));
    panel.model()->setMetric(QStringLiteral("model.layers.0.mlp.up_proj.weight"),
                             test::okMetric(1.0, 1e15, 51051, 51051 * 16)); // -150.0 dB
    TensorMetric failed;
    failed.status = TensorMetric::Status::Failed;
    panel.model()->setMetric(QStringLiteral("model.layers.0.mlp.down_proj.weight"), failed);
    panel.model()->setMetric(QStringLiteral("model.layers.1.mlp.up_proj.weight"),
                             test::okMetric(30.0, 0.0, 4, 4 * 32)); // exact, 32.00 bpw
    QCOMPARE(panel.model()
                 ->indexOfTensor(QStringLiteral("model.layers.0.mlp.up_proj.weight"))
                 .siblingAtColumn(static_cast<int>(TensorColumn::Sqnr))
                 .data()
                 .toString(),
             QStringLiteral("-150.0"));
    checkColumnsFit(panel.tree());
}

void TestTensorBrowserPanel::aNarrowDockKeepsRoomForNames() {
    TensorBrowserPanel panel;
    panel.resize(460, 700);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setCheckpoint(std::make_shared<const Checkpoint>(*Checkpoint::open(test::samplePath())));
    QTreeView* tree = panel.tree();
    auto hidden = [&](TensorColumn c) { return tree->isColumnHidden(static_cast<int>(c)); };
    const int name = static_cast<int>(TensorColumn::Name);
    // The default dock width: every column.
    QVERIFY(!hidden(TensorColumn::Shape) && !hidden(TensorColumn::DType) &&
            !hidden(TensorColumn::Bpw) && !hidden(TensorColumn::Sqnr));
    QVERIFY(tree->header()->sectionSize(name) >= TensorBrowserPanel::kNameMinWidth);
    // A lesson's narrow dock: dtype and bpw step aside first; SQNR stays; names keep their room.
    panel.resize(330, 700);
    QTRY_VERIFY(hidden(TensorColumn::DType));
    QVERIFY(!hidden(TensorColumn::Sqnr));
    QVERIFY(tree->header()->sectionSize(name) >= TensorBrowserPanel::kNameMinWidth);
    panel.resize(240, 700);
    QTRY_VERIFY(hidden(TensorColumn::Shape));
    QVERIFY(hidden(TensorColumn::Bpw) && !hidden(TensorColumn::Sqnr));
    // Wide again: all back, each as wide as fitted.
    panel.resize(460, 700);
    QTRY_VERIFY(!hidden(TensorColumn::Shape) && !hidden(TensorColumn::DType) &&
                !hidden(TensorColumn::Bpw));
    checkColumnsFit(tree);
}

QTEST_MAIN(TestTensorBrowserPanel)
#include "test_tensor_browser_panel.moc"
