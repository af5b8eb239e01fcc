#pragma once
// Choosing activations from a file in the GUI: a file dialog, then, where the file holds several
// matrices, which one; and reading them off the GUI thread (the Model and Methods tabs). GUI
// thread only.

#include <QString>

#include <functional>
#include <memory>
#include <optional>

class QObject;
class QWidget;

namespace qs {

class ActivationSource;

struct ActivationFile {
    QString path;
    QString tensor; // empty: the file's only matrix (loadActivationSource says if it has none)
};

// nullopt when the user cancels either question.
std::optional<ActivationFile> pickActivationFile(QWidget* parent);

// Reads the file's activations (loadActivationSource) on the work pool, then calls `done` on the
// GUI thread with them, or with null and why not in one line; not at all if `context` is gone.
using ActivationsRead =
    std::function<void(std::shared_ptr<const ActivationSource> activations, const QString& error)>;
void readActivations(QObject* context, const ActivationFile& file, ActivationsRead done);

} // namespace qs
