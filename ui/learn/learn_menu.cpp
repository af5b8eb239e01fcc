#include "learn/learn_menu.h"

#include "learn/lesson_catalogue.h"

#include <QAction>
#include <QCoreApplication>
#include <QKeySequence>
#include <QMenu>

namespace qs {

void populateLearnMenu(QMenu* menu, const std::function<void(const QString&)>& openLesson,
                       const std::function<void()>& leave) {
    int k = 1;
    for (const Lesson& l : lessons()) {
        const QString id = QString::fromLatin1(l.id);
        QAction* a = menu->addAction(
            QCoreApplication::translate("qs::LearnMenu", "&%1  %2").arg(k).arg(lessonText(l.title)),
            menu, [openLesson, id] { openLesson(id); });
        a->setObjectName(QStringLiteral("lessonAction_") + id);
        a->setToolTip(QCoreApplication::translate("qs::LearnMenu", "Open the lesson '%1' "
                                                                   "(quantscope --lesson %1)")
                          .arg(id));
        ++k;
    }
    menu->addSeparator();
    QAction* back =
        menu->addAction(QCoreApplication::translate("qs::LearnMenu", "Back to &Explore"), menu,
                        [leave] { leave(); });
    back->setObjectName(QStringLiteral("leaveLearnAction"));
    back->setShortcut(QKeySequence(QCoreApplication::translate("qs::LearnMenu", "Ctrl+E")));
}

} // namespace qs
