// FlowLayout: items keep their size hints and wrap onto further lines as the width runs out; its
// minimum width is its widest item's, and a gap at the start of a line is dropped.

#include "widgets/flow_layout.h"

#include <QTest>
#include <QWidget>

using namespace qs;

namespace {

class Box : public QWidget {
public:
    Box(int w, int h) : m_hint(w, h) {}
    QSize sizeHint() const override { return m_hint; }
    QSize minimumSizeHint() const override { return m_hint; }

private:
    QSize m_hint;
};

} // namespace

class TestFlowLayout : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void wrapsWhenTheWidthRunsOut();
};

void TestFlowLayout::wrapsWhenTheWidthRunsOut() {
    QWidget host;
    auto* flow = new FlowLayout(&host, 10, 4);
    QList<Box*> boxes;
    for (int i = 0; i < 5; ++i) {
        boxes << new Box(100, 20);
        flow->addWidget(boxes.back());
        if (i == 1)
            flow->addSpacing(30);
    }
    // One line: 5 x 100 + 5 gaps of 10 + the 30 of spacing.
    QCOMPARE(flow->sizeHint(), QSize(580, 20));
    QCOMPARE(flow->minimumSize(), QSize(100, 20));
    QCOMPARE(flow->heightForWidth(580), 20);
    // 240 wide: two boxes a line (the spacing after the second starts a line and is dropped).
    QCOMPARE(flow->heightForWidth(240), 3 * 20 + 2 * 4);
    flow->setGeometry(QRect(0, 0, 240, 68));
    QCOMPARE(boxes[0]->geometry(), QRect(0, 0, 100, 20));
    QCOMPARE(boxes[1]->geometry(), QRect(110, 0, 100, 20));
    QCOMPARE(boxes[2]->geometry(), QRect(0, 24, 100, 20));
    QCOMPARE(boxes[3]->geometry(), QRect(110, 24, 100, 20));
    QCOMPARE(boxes[4]->geometry(), QRect(0, 48, 100, 20));
    // Narrower than one box: one a line, never an empty line.
    QCOMPARE(flow->heightForWidth(50), 5 * 20 + 4 * 4);
}

QTEST_MAIN(TestFlowLayout)
#include "test_flow_layout.moc"
