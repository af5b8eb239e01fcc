#pragma once
// Choosing activations from a file in the GUI: a file dialog, then, where the file holds several
// matrices, which one (the Model and Methods tabs). GUI thread only.

#include <QString>

#include <optional>

class QWidget;

namespace qs {

struct ActivationFile {
    QString path;
    QString tensor; // empty: the file's only matrix (loadActivationSource says if it has none)
};

// nullopt when the user cancels either question.
std::optional<ActivationFile> pickActivationFile(QWidget* parent);

} // namespace qs
