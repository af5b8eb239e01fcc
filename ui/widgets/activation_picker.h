#pragma once
// Choosing activations from a file in the GUI: a file dialog, then, where the file holds several
// matrices, which one; and reading them off the GUI thread (the Model and Methods tabs). GUI
// thread only.

#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

class QWidget;

namespace qs {

class ActivationSource;

struct ActivationFile {
    QString path;
    QString tensor; // empty: the file's only matrix (loadActivationSource says if it has none)
};

// nullopt when the user cancels either question.
std::optional<ActivationFile> pickActivationFile(QWidget* parent);

// Reads files of activations (loadActivationSource) on the work pool for one owner, then calls
// `done` on the GUI thread with them, or with null and why not in one line. Only the latest
// request answers: a later read() or drop() (another choice made meanwhile) silences an earlier
// one, and so does the reader's destruction.
using ActivationsRead =
    std::function<void(std::shared_ptr<const ActivationSource> activations, const QString& error)>;
class ActivationReader : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    // False, and nothing read, when there is no such file.
    bool read(const ActivationFile& file, ActivationsRead done);
    void drop() {
        ++m_generation;
        m_reading = false;
    }
    bool reading() const { return m_reading; } // a read whose answer is still to come

private:
    quint64 m_generation = 0;
    bool m_reading = false;
};

} // namespace qs
