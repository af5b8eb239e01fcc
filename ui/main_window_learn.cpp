// MainWindow's Learn mode: the lesson view in the centre, the docks following the lesson (the
// Scheme dock shows its scheme, the Metrics dock its data's figures). See main_window.h.

#include "main_window.h"

#include "learn/lesson_view.h"
#include "panels/metrics_panel.h"
#include "panels/scheme_panel.h"
#include "workers/analysis_controller.h"

#include <QDockWidget>
#include <QStackedWidget>

namespace qs {

void MainWindow::setupLearnMode() {
    m_lessonView = new LessonView(m_centre);
    m_centre->addWidget(m_lessonView);
    connect(m_lessonView, &LessonView::errorShown, this, &MainWindow::showError);
    connect(m_lessonView, &LessonView::rendered, this, [this] {
        if (!isLearnMode())
            return;
        const LessonResult& r = m_lessonView->result();
        const LessonData& d = m_lessonView->data();
        if (const auto scheme = m_lessonView->currentScheme())
            m_scheme->setScheme(*scheme); // the Scheme dock shows what the lesson uses
        if (r.error.isEmpty() && m_lessonView->page() == LessonPage::Charts) {
            TensorInfo info; // the lesson's data, described for the Metrics dock
            info.name = d.label.toStdString();
            info.shape = {d.rows, d.cols};
            info.nbytes = static_cast<std::uint64_t>(d.rows * d.cols) * sizeof(float);
            m_metrics->setAnalysis(info, r.analysis);
        } else {
            // Say why the dock is empty: this step measures no quantization error.
            switch (m_lessonView->page()) {
            case LessonPage::Inspector:
                m_metrics->clear(tr("This step takes one block apart byte by byte; its numbers "
                                    "are beside the bytes."));
                break;
            case LessonPage::Memory:
                m_metrics->clear(tr("This step counts memory, not quantization error: the "
                                    "totals are in the lesson."));
                break;
            case LessonPage::Charts:
                m_metrics->clear(tr("The metrics follow the lesson's charts"));
                break;
            }
        }
        emitIdleWhenAllDone();
    });
}

bool MainWindow::isLearnMode() const {
    return m_centre->currentWidget() == m_lessonView;
}

bool MainWindow::showLesson(const QString& id) {
    if (!m_lessonView->setLesson(id))
        return false;
    if (!isLearnMode()) {
        m_exploreIndex = m_centre->currentIndex();
        // Lessons need the width more than the tensor list does.
        resizeDocks({m_checkpointDock}, {kLearnLeftDockWidth}, Qt::Horizontal);
    }
    m_centre->setCurrentWidget(m_lessonView);
    return true;
}

void MainWindow::leaveLearnMode() {
    if (!isLearnMode())
        return;
    m_centre->setCurrentIndex(m_exploreIndex);
    if (m_currentTensor.isEmpty())
        m_metrics->clear();
    else
        m_controller->rerun();
}

} // namespace qs
