#pragma once
// A horizontal colour bar for the sensitivity map: the scale from its low to its high value with
// both ends labelled and a caption saying which end is better. GUI thread only.

#include <QWidget>

namespace qs {

class ScaleLegend : public QWidget {
    Q_OBJECT
public:
    explicit ScaleLegend(QWidget* parent = nullptr);
    void setScale(const QString& caption, const QString& low, const QString& high,
                  bool higherIsBetter);
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString m_caption, m_low, m_high;
    bool m_higherIsBetter = true;
};

} // namespace qs
