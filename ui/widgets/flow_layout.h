#pragma once
// A row of controls that wraps onto further lines when its width runs out, like words in a
// paragraph: the Methods and Model tabs' option rows, which laid out as one line asked for 700 to
// 800 pixels and pushed the window past a 1280-pixel screen. Items keep their size hints; a
// stretch (addStretch) is not supported, the lines are left-aligned.

#include <QLayout>
#include <QList>

namespace qs {

class FlowLayout : public QLayout {
public:
    explicit FlowLayout(QWidget* parent = nullptr, int hSpacing = 6, int vSpacing = 4);
    ~FlowLayout() override;

    void addItem(QLayoutItem* item) override;
    int count() const override;
    QLayoutItem* itemAt(int index) const override;
    QLayoutItem* takeAt(int index) override;
    Qt::Orientations expandingDirections() const override;
    bool hasHeightForWidth() const override;
    int heightForWidth(int width) const override;
    QSize minimumSize() const override;
    QSize sizeHint() const override;
    void setGeometry(const QRect& rect) override;

    // A fixed gap before the next item (as QBoxLayout::addSpacing).
    void addSpacing(int size);

private:
    int arrange(const QRect& rect, bool apply) const; // the height the items take in rect

    QList<QLayoutItem*> m_items;
    int m_hSpacing, m_vSpacing;
};

} // namespace qs
