#pragma once
// A horizontal colour bar for the sensitivity map and the Compare tab's error maps: the scale from
// its low to its high value with both ends labelled and a caption saying what it measures.
// GUI thread only.

#include <QWidget>

namespace qs {

class ScaleLegend : public QWidget {
    Q_OBJECT
public:
    explicit ScaleLegend(QWidget* parent = nullptr);
    void setScale(const QString& caption, const QString& low, const QString& high,
                  bool higherIsBetter);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    QString highText() const { return m_high; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    int textWidth() const; // the caption, the two ends and their gaps
    QString m_caption, m_low, m_high;
    bool m_higherIsBetter = true;
};

} // namespace qs
