// quantscope [PATH] [--tensor NAME] [--scheme SPEC] [--tab tensor|compare|model|plan|memory]
//            [--screenshot PNG]
//            [--lesson ID] [--list-lessons]
// Opens the GUI, optionally on a checkpoint. With --screenshot it renders the window once the
// analysis has finished, writes the PNG and exits (works with QT_QPA_PLATFORM=offscreen).

#include "learn/lesson_catalogue.h"
#include "main_window.h"
#include "panels/model_tab.h"
#include "util/huge_pages.h"
#include "util/malloc_tuning.h"
#include "widgets/backend_selector.h"
#include "workers/analysis_controller.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QPixmap>
#include <QStyleFactory>
#include <QTimer>

#include <cstdio>
#include <optional>

#ifdef QS_HAVE_CUDA
#include "cuda/cuda_engine.h"
#endif

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 1;
constexpr QSize kScreenshotSize(1600, 1000);
constexpr QSize kLessonScreenshotSize(1920, 1100); // lessons show text, formulas and charts

int fail(int code, const QString& message) {
    std::fprintf(stderr, "quantscope: %s\n", qPrintable(message));
    return code;
}

// Renders the window once everything requested has been drawn, then quits with 0, or with 1
// (and one line on stderr) on the first error.
void armScreenshot(qs::MainWindow& window, const QString& path) {
    QObject::connect(&window, &qs::MainWindow::errorShown, &window, [](const QString& message) {
        std::fprintf(stderr, "quantscope: %s\n", qPrintable(message));
        QCoreApplication::exit(kExitFailed);
    });
    QObject::connect(&window, &qs::MainWindow::idle, &window, [&window, path] {
        // Let queued layout requests of the freshly filled charts run before grabbing.
        QTimer::singleShot(0, &window, [&window, path] {
            const QPixmap shot = window.grab();
            if (shot.save(path, "PNG")) {
                QCoreApplication::exit(0);
            } else {
                std::fprintf(stderr, "quantscope: cannot write screenshot %s\n", qPrintable(path));
                QCoreApplication::exit(kExitFailed);
            }
        });
    });
}

// --list-lessons and an unknown --lesson are answered before a QApplication exists, so they work
// without a display.
int lessonArguments(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const QString arg = QString::fromLocal8Bit(argv[i]);
        if (arg == QLatin1String("--list-lessons")) {
            for (const qs::Lesson& l : qs::lessons())
                std::printf("%-12s %s\n", l.id, qPrintable(qs::lessonText(l.title)));
            return 0;
        }
        QString id;
        if (arg == QLatin1String("--lesson") && i + 1 < argc)
            id = QString::fromLocal8Bit(argv[i + 1]);
        else if (arg.startsWith(QLatin1String("--lesson=")))
            id = arg.mid(9);
        else
            continue;
        if (!qs::findLesson(id))
            return fail(
                kExitUsage,
                QStringLiteral("unknown lesson '%1'; lessons: %2").arg(id, qs::lessonIdList()));
    }
    return -1;
}

} // namespace

int main(int argc, char** argv) {
    qs::runWithHugePages(argv); // large tensors' buffers on huge pages (re-executes once)
    qs::keepLargeBuffersMapped();
    if (const int rc = lessonArguments(argc, argv); rc >= 0)
        return rc;
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Quantscope"));
    QApplication::setApplicationName(QStringLiteral("Quantscope"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Explore the quantization of neural-network weights."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("path"),
        QStringLiteral("Checkpoint file or model folder to open, or a project (.qsproj)."),
        QStringLiteral("[PATH]"));
    const QCommandLineOption tensorOpt(QStringLiteral("tensor"),
                                       QStringLiteral("Tensor to select."), QStringLiteral("NAME"));
    const QCommandLineOption schemeOpt(QStringLiteral("scheme"),
                                       QStringLiteral("Scheme spec (default int4:g64)."),
                                       QStringLiteral("SPEC"), QStringLiteral("int4:g64"));
    const QCommandLineOption shotOpt(
        QStringLiteral("screenshot"),
        QStringLiteral("Render the window to PNG after the analysis, then exit."),
        QStringLiteral("PNG"));
    const QCommandLineOption tabOpt(
        QStringLiteral("tab"),
        QStringLiteral("Centre tab to show: tensor, compare, compare-error (its Error page), "
                       "methods, methods-inside (its Inside page), model, plan or memory."),
        QStringLiteral("NAME"), QStringLiteral("tensor"));
    const QCommandLineOption lessonOpt(
        QStringLiteral("lesson"),
        QStringLiteral("Open lesson ID in Learn mode (see --list-lessons)."), QStringLiteral("ID"));
    const QCommandLineOption listLessonsOpt(QStringLiteral("list-lessons"),
                                            QStringLiteral("List the lessons."));
    const QCommandLineOption backendOpt(
        QStringLiteral("backend"),
        QStringLiteral("Compute backend: auto, cpu or cuda (default: the one chosen last)."),
        QStringLiteral("NAME"));
    const QCommandLineOption activationsOpt(
        QStringLiteral("activations"),
        QStringLiteral("Activations for the Model tab's output error: synthetic:TOKENS:OUTLIERS:"
                       "SCALE[:SEED], or a file holding one [tokens, in_features] matrix."),
        QStringLiteral("SOURCE"));
    parser.addOptions({tensorOpt, schemeOpt, tabOpt, shotOpt, lessonOpt, listLessonsOpt, backendOpt,
                       activationsOpt});
    parser.process(app);

    if (parser.isSet(listLessonsOpt)) {
        for (const qs::Lesson& l : qs::lessons())
            std::printf("%-12s %s\n", l.id, qPrintable(qs::lessonText(l.title)));
        return 0;
    }
    const QString lesson = parser.value(lessonOpt);
    if (parser.isSet(lessonOpt) && !qs::findLesson(lesson))
        return fail(
            kExitUsage,
            QStringLiteral("unknown lesson '%1'; lessons: %2").arg(lesson, qs::lessonIdList()));

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1)
        return fail(kExitUsage,
                    QStringLiteral("expected at most one PATH, got %1").arg(positional.size()));
    const QString path = positional.value(0);
    const auto scheme = qs::Scheme::parse(parser.value(schemeOpt).toStdString());
    if (!scheme)
        return fail(kExitUsage, QString::fromStdString(scheme.message()));
    const bool screenshot = parser.isSet(shotOpt);
    if (screenshot && path.isEmpty() && lesson.isEmpty())
        return fail(kExitUsage, QStringLiteral("--screenshot needs a PATH or a --lesson to show"));
    if (!path.isEmpty() && !QFileInfo::exists(path))
        return fail(kExitFailed, QStringLiteral("%1: no such file or directory").arg(path));

    std::optional<qs::Backend> backend;
    if (parser.isSet(backendOpt)) {
        backend = qs::parseBackend(parser.value(backendOpt).toStdString());
        if (!backend)
            return fail(kExitUsage, QStringLiteral("--backend must be auto, cpu or cuda, not '%1'")
                                        .arg(parser.value(backendOpt)));
    }
#ifdef QS_HAVE_CUDA
    qs::cuda::registerCudaEngine();
#endif

    qs::MainWindow window(!screenshot);
    window.backendSelector()->apply(backend.value_or(qs::BackendSelector::remembered()));
    window.setScheme(scheme.value());
    if (!window.setCurrentTab(parser.value(tabOpt)))
        return fail(kExitUsage, QStringLiteral("unknown tab '%1'; valid tabs: %2")
                                    .arg(parser.value(tabOpt),
                                         qs::MainWindow::tabNames().join(QStringLiteral(", "))));
    if (screenshot) {
        window.resize(lesson.isEmpty() ? kScreenshotSize : kLessonScreenshotSize);
        armScreenshot(window, parser.value(shotOpt));
    }
    if (!lesson.isEmpty())
        window.showLesson(lesson);
    if (parser.isSet(activationsOpt) &&
        !window.modelTab()->setActivations(parser.value(activationsOpt)))
        return fail(kExitUsage,
                    QStringLiteral("--activations: %1").arg(window.modelTab()->statusText()));
    window.show();
    // A project (.qsproj, as Save Project writes) restores the whole working state.
    if (QFileInfo(path).suffix().compare(QLatin1String("qsproj"), Qt::CaseInsensitive) == 0) {
        if (!window.openProject(path) && screenshot)
            return kExitFailed; // the reason is on stderr (errorShown)
    } else if (!path.isEmpty()) {
        window.openCheckpoint(path, parser.value(tensorOpt));
    }
    return QApplication::exec();
}
