#include "widgets/activity_indicator.h"
#include "widgets/progress_value.h"

#include <QHBoxLayout>
#include <QProgressBar>
#include <QToolButton>

namespace qs {

ActivityIndicator::ActivityIndicator(QWidget* parent)
    : QWidget(parent), m_bar(new QProgressBar(this)), m_cancel(new QToolButton(this)) {
    m_bar->setObjectName(QStringLiteral("progressBar"));
    m_bar->setRange(0, 1000);
    m_bar->setTextVisible(false);
    m_bar->setFixedWidth(160);
    m_bar->setMaximumHeight(14);
    m_cancel->setObjectName(QStringLiteral("cancelButton"));
    m_cancel->setText(tr("Cancel"));
    m_cancel->setToolTip(tr("Stop the running analysis (Esc)"));
    m_cancel->setAutoRaise(true);
    connect(m_cancel, &QToolButton::clicked, this, &ActivityIndicator::cancelRequested);

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_bar);
    layout->addWidget(m_cancel);

    m_showDelay.setSingleShot(true);
    m_showDelay.setInterval(kShowDelayMs);
    connect(&m_showDelay, &QTimer::timeout, this, [this] { setVisible(m_busy); });
    hide();
}

void ActivityIndicator::setBusy(bool busy) {
    m_busy = busy;
    if (busy) {
        if (!isVisible() && !m_showDelay.isActive())
            m_showDelay.start();
    } else {
        m_showDelay.stop();
        hide();
    }
}

void ActivityIndicator::setProgress(double fraction) {
    if (fraction < 0) {
        m_bar->setRange(0, 0);
        return;
    }
    m_bar->setRange(0, 1000);
    setProgressValue(m_bar, static_cast<int>(fraction * 1000));
}

} // namespace qs
