#include "widgets/activation_picker.h"

#include "io/checkpoint.h"
#include "methods/activation_source.h"
#include "workers/work_pool.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QInputDialog>
#include <QStringList>
#include <QtConcurrent/QtConcurrentRun>

namespace qs {

std::optional<ActivationFile> pickActivationFile(QWidget* parent) {
    const QString path = QFileDialog::getOpenFileName(
        parent, QObject::tr("Activations [tokens, in_features], or a llama.cpp importance matrix"));
    if (path.isEmpty())
        return std::nullopt;
    QStringList names, matrices; // a name, and how the list shows it (with its shape)
    if (auto ckpt = Checkpoint::open(path.toStdString())) {
        // A llama.cpp importance matrix (GGUF; a legacy .dat does not open as a checkpoint):
        // no matrix to choose, it is read whole when applied, off this thread.
        if (isImportanceMatrix(*ckpt))
            return ActivationFile{path, QString()};
        for (const TensorInfo& t : ckpt->tensors())
            if (t.shape.size() == 2) {
                names << QString::fromStdString(t.name);
                matrices << QStringLiteral("%1  %2").arg(names.back(),
                                                         QString::fromStdString(t.shapeString()));
            }
    }
    if (matrices.size() <= 1) // one, or none: loading says what is wrong
        return ActivationFile{path, QString()};
    bool ok = false;
    const QString item = QInputDialog::getItem(
        parent, QObject::tr("Activations"),
        QObject::tr("The file holds %1 matrices; which are the activations?").arg(matrices.size()),
        matrices, 0, false, &ok);
    if (!ok)
        return std::nullopt;
    return ActivationFile{path, names.value(matrices.indexOf(item))};
}

namespace {

struct Read {
    std::shared_ptr<const ActivationSource> activations;
    QString error;
};

} // namespace

bool ActivationReader::read(const ActivationFile& file, ActivationsRead done) {
    if (!QFileInfo(file.path).isFile())
        return false;
    const quint64 generation = ++m_generation;
    m_reading = true;
    auto* watcher = new QFutureWatcher<Read>(this);
    connect(watcher, &QFutureWatcherBase::finished, this,
            [this, watcher, generation, done = std::move(done)] {
                watcher->deleteLater();
                if (generation != m_generation)
                    return;
                m_reading = false;
                const Read r = watcher->result();
                done(r.activations, r.error);
            });
    watcher->setFuture(QtConcurrent::run(workPool(), [path = file.path.toStdString(),
                                                      tensor = file.tensor.toStdString()] {
        auto loaded = loadActivationSource(path, tensor);
        if (!loaded)
            return Read{nullptr,
                        QString::fromStdString(loaded.message()).section(QLatin1Char('\n'), 0, 0)};
        return Read{std::make_shared<const ActivationSource>(std::move(loaded).value()), QString()};
    }));
    return true;
}

} // namespace qs
