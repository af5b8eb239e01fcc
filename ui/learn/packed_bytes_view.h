#pragma once
// The packed bytes of one inspected block, drawn as they sit in memory: one box per byte with its
// offset, hex value, the 8 bits split into high and low nibble, and which element each nibble
// holds; boxes are tinted by what they store (codes, scale, zero-point, exponent, ...). Clicking
// a nibble selects its element; the selected element's nibble is outlined. GUI thread only.

#include "teach/block_inspector.h"

#include <QWidget>

namespace qs {

class PackedBytesView : public QWidget {
    Q_OBJECT
public:
    explicit PackedBytesView(QWidget* parent = nullptr);

    void setWalk(const BlockWalk& walk);
    void setSelectedElement(int element);
    int selectedElement() const { return m_selected; }
    // "0x3A" style text of byte i, for tests and accessibility.
    QString byteText(std::size_t i) const;
    static QColor fieldColour(FieldKind kind);

    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize sizeHint() const override;

Q_SIGNALS:
    void elementClicked(int element);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    int columns(int width) const;
    QRect boxRect(std::size_t i, int cols) const;
    FieldKind fieldOf(std::size_t byte) const;

    BlockWalk m_walk;
    std::vector<int> m_low, m_high; // element in each nibble of each byte, -1 for none
    int m_selected = -1;
};

} // namespace qs
