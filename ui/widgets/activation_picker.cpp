#include "widgets/activation_picker.h"

#include "io/checkpoint.h"

#include <QFileDialog>
#include <QInputDialog>
#include <QStringList>

namespace qs {

std::optional<ActivationFile> pickActivationFile(QWidget* parent) {
    const QString path =
        QFileDialog::getOpenFileName(parent, QObject::tr("Activations [tokens, in_features]"));
    if (path.isEmpty())
        return std::nullopt;
    QStringList names, matrices; // a name, and how the list shows it (with its shape)
    if (auto ckpt = Checkpoint::open(path.toStdString()))
        for (const TensorInfo& t : ckpt->tensors())
            if (t.shape.size() == 2) {
                names << QString::fromStdString(t.name);
                matrices << QStringLiteral("%1  %2").arg(names.back(),
                                                         QString::fromStdString(t.shapeString()));
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

} // namespace qs
