// TensorTreeModel: a well-formed QAbstractItemModel, grouped by layer in numeric order, and
// filterable (recursively) through a QSortFilterProxyModel.

#include "metric_fixture.h"
#include "models/tensor_tree_model.h"
#include "test_support.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QTest>

using namespace qs;

namespace {

std::shared_ptr<const Checkpoint> openSample() {
    auto opened = Checkpoint::open(test::samplePath());
    return opened ? std::make_shared<const Checkpoint>(std::move(opened.value())) : nullptr;
}

int countTensors(const QAbstractItemModel& model, const QModelIndex& parent = {}) {
    int n = 0;
    for (int r = 0; r < model.rowCount(parent); ++r) {
        const QModelIndex i = model.index(r, 0, parent);
        n +=
            i.data(static_cast<int>(TensorTreeRole::IsGroup)).toBool() ? countTensors(model, i) : 1;
    }
    return n;
}

QStringList topLabels(const QAbstractItemModel& model) {
    QStringList labels;
    for (int r = 0; r < model.rowCount(); ++r)
        labels << model.index(r, 0).data().toString();
    return labels;
}

} // namespace

class TestTensorTreeModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void passesModelTesterOnTheSample();
    void groupsTheSampleByLayer();
    void childrenShowTheirNameWithoutTheLayerPrefix();
    void ordersLayerGroupsNumerically();
    void filtersRecursivelyThroughTheProxy_data();
    void filtersRecursivelyThroughTheProxy();
    void prefersAQueryProjectionAsTheFirstTensor();
    void groupsGgufBlocksByLayer();
    void metricColumnsShowWhatIsSetAndSortByValue();
};

void TestTensorTreeModel::passesModelTesterOnTheSample() {
    TensorTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCheckpoint(openSample());
    QSortFilterProxyModel proxy;
    proxy.setRecursiveFilteringEnabled(true);
    proxy.setSourceModel(&model);
    QAbstractItemModelTester proxyTester(&proxy,
                                         QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setFilterFixedString(QStringLiteral("mlp"));
    proxy.sort(static_cast<int>(TensorColumn::Parameters), Qt::DescendingOrder);
    model.setCheckpoint(nullptr);
    QCOMPARE(model.rowCount(), 0);
}

void TestTensorTreeModel::groupsTheSampleByLayer() {
    TensorTreeModel model;
    model.setCheckpoint(openSample());
    QCOMPARE(model.tensorCount(), 47);
    QCOMPARE(model.groupCount(), 5);
    QCOMPARE(countTensors(model), 47);
    const QStringList labels = topLabels(model);
    for (int layer = 0; layer < 5; ++layer)
        QVERIFY2(labels.contains(QStringLiteral("layers.%1").arg(layer)),
                 qPrintable(labels.join(',')));
    QVERIFY(labels.contains(QStringLiteral("model.embed_tokens.weight")));
    QVERIFY(labels.contains(QStringLiteral("model.norm.weight")));
    const QModelIndex layer3 = model.index(labels.indexOf(QStringLiteral("layers.3")), 0);
    QCOMPARE(model.rowCount(layer3), 9);
    QVERIFY(layer3.data(static_cast<int>(TensorTreeRole::IsGroup)).toBool());
    QVERIFY(!layer3.data(static_cast<int>(TensorTreeRole::TensorName)).isValid());
}

void TestTensorTreeModel::childrenShowTheirNameWithoutTheLayerPrefix() {
    TensorTreeModel model;
    model.setCheckpoint(openSample());
    const QString name = QStringLiteral("model.layers.2.self_attn.q_proj.weight");
    const QModelIndex i = model.indexOfTensor(name);
    QVERIFY(i.isValid());
    QCOMPARE(i.data().toString(), QStringLiteral("self_attn.q_proj.weight"));
    QCOMPARE(i.data(static_cast<int>(TensorTreeRole::TensorName)).toString(), name);
    QCOMPARE(i.parent().data().toString(), QStringLiteral("layers.2"));
    QCOMPARE(i.siblingAtColumn(static_cast<int>(TensorColumn::Shape)).data().toString(),
             QStringLiteral("[64, 64]"));
    QCOMPARE(i.siblingAtColumn(static_cast<int>(TensorColumn::DType)).data().toString(),
             QStringLiteral("F32"));
    QCOMPARE(i.siblingAtColumn(static_cast<int>(TensorColumn::Parameters)).data().toString(),
             QStringLiteral("4,096"));
    QCOMPARE(model.tensorAt(i)->name, name.toStdString());
}

void TestTensorTreeModel::ordersLayerGroupsNumerically() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    std::vector<test::FixtureTensor> tensors;
    for (int layer = 0; layer < 12; ++layer)
        tensors.push_back({"blk.layers." + std::to_string(layer) + ".w",
                           "F32",
                           {2, 2},
                           test::floatBytes({1, 2, 3, 4})});
    const std::string path = dir.filePath(QStringLiteral("layers.safetensors")).toStdString();
    test::writeSafetensors(path, tensors);
    auto opened = Checkpoint::open(path);
    QVERIFY2(opened.ok(), opened ? "" : opened.message().c_str());
    TensorTreeModel model;
    model.setCheckpoint(std::make_shared<const Checkpoint>(std::move(opened.value())));
    QStringList expected;
    for (int layer = 0; layer < 12; ++layer)
        expected << QStringLiteral("layers.%1").arg(layer);
    QCOMPARE(topLabels(model), expected);
}

void TestTensorTreeModel::filtersRecursivelyThroughTheProxy_data() {
    QTest::addColumn<QString>("filter");
    QTest::addColumn<int>("tensors");
    QTest::newRow("everything") << QString() << 47;
    QTest::newRow("one projection in every layer") << QStringLiteral("q_proj") << 5;
    QTest::newRow("a whole layer by its group") << QStringLiteral("layers.3") << 9;
    QTest::newRow("top-level tensor") << QStringLiteral("embed") << 1;
    QTest::newRow("case-insensitive") << QStringLiteral("MLP.GATE") << 5;
    QTest::newRow("regular expression") << QStringLiteral("layers\\.[01]\\..*norm") << 4;
    QTest::newRow("nothing") << QStringLiteral("no such tensor") << 0;
}

void TestTensorTreeModel::filtersRecursivelyThroughTheProxy() {
    QFETCH(QString, filter);
    QFETCH(int, tensors);
    TensorTreeModel model;
    model.setCheckpoint(openSample());
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setRecursiveFilteringEnabled(true);
    proxy.setAutoAcceptChildRows(true);
    proxy.setFilterRole(static_cast<int>(TensorTreeRole::FilterText));
    proxy.setFilterRegularExpression(
        QRegularExpression(filter, QRegularExpression::CaseInsensitiveOption));
    QCOMPARE(countTensors(proxy), tensors);
}

void TestTensorTreeModel::prefersAQueryProjectionAsTheFirstTensor() {
    const auto checkpoint = openSample();
    QVERIFY(checkpoint);
    QCOMPARE(preferredTensor(*checkpoint),
             QStringLiteral("model.layers.0.self_attn.q_proj.weight"));
}

void TestTensorTreeModel::groupsGgufBlocksByLayer() {
    // llama.cpp names: blk.N.attn_q.weight, token_embd.weight, output_norm.weight.
    auto opened = Checkpoint::open(test::sourceDir() + "/resources/samples/stories260K.f32.gguf");
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.message().c_str());
    const auto checkpoint = std::make_shared<const Checkpoint>(std::move(opened.value()));
    TensorTreeModel model;
    model.setCheckpoint(checkpoint);
    QCOMPARE(model.groupCount(), 5);
    QVERIFY(topLabels(model).contains(QStringLiteral("blk.2")));
    QCOMPARE(preferredTensor(*checkpoint), QStringLiteral("blk.0.attn_q.weight"));
}

void TestTensorTreeModel::metricColumnsShowWhatIsSetAndSortByValue() {
    TensorTreeModel model;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(static_cast<int>(TensorTreeRole::SortKey));
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setCheckpoint(openSample());
    const int bpw = static_cast<int>(TensorColumn::Bpw);
    const int sqnr = static_cast<int>(TensorColumn::Sqnr);
    const QString q0 = QStringLiteral("model.layers.0.self_attn.q_proj.weight");
    const QString k0 = QStringLiteral("model.layers.0.self_attn.k_proj.weight");
    const QString down0 = QStringLiteral("model.layers.0.mlp.down_proj.weight");
    QCOMPARE(model.indexOfTensor(q0).siblingAtColumn(bpw).data().toString(), QString());

    const auto ok = test::okMetric;
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setMetric(q0, ok(100.0, 1.0, 4096, 4096 * 4));  // 20 dB, 4 bpw
    model.setMetric(k0, ok(100.0, 10.0, 2048, 2048 * 5)); // 10 dB, 5 bpw
    TensorMetric na;
    na.status = TensorMetric::Status::NotApplicable;
    na.message = QStringLiteral("q4_k is not applicable: rows of 172");
    model.setMetric(down0, na);
    model.setMetric(QStringLiteral("no such tensor"), na);
    QCOMPARE(changed.count(), 6); // each row and its group

    const QModelIndex q = model.indexOfTensor(q0);
    QCOMPARE(q.siblingAtColumn(bpw).data().toString(), QStringLiteral("4.00"));
    QCOMPARE(q.siblingAtColumn(sqnr).data().toString(), QStringLiteral("20.0"));
    const QModelIndex down = model.indexOfTensor(down0);
    QCOMPARE(down.siblingAtColumn(sqnr).data().toString(), QStringLiteral("n/a"));
    QCOMPARE(down.siblingAtColumn(bpw).data(Qt::ToolTipRole).toString(), na.message);
    // The group combines its members: (100 + 100) / (1 + 10) -> 12.6 dB; 36864 bits / 6144.
    const QModelIndex group = q.parent();
    QCOMPARE(group.siblingAtColumn(sqnr).data().toString(), QStringLiteral("12.6"));
    QCOMPARE(group.siblingAtColumn(bpw).data().toString(), QStringLiteral("4.33"));

    proxy.sort(sqnr, Qt::AscendingOrder);
    const QModelIndex layer0 = proxy.mapFromSource(group);
    QCOMPARE(
        proxy.index(0, 0, layer0).data(static_cast<int>(TensorTreeRole::TensorName)).toString(),
        k0);
    QCOMPARE(
        proxy.index(1, 0, layer0).data(static_cast<int>(TensorTreeRole::TensorName)).toString(),
        q0);

    model.clearMetrics();
    QCOMPARE(model.indexOfTensor(q0).siblingAtColumn(bpw).data().toString(), QString());
    QVERIFY(!model.metric(q0));
}

QTEST_MAIN(TestTensorTreeModel)
#include "test_tensor_tree_model.moc"
