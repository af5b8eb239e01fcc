#pragma once
// The knobs of a lesson: where the data comes from (a synthetic distribution with optional
// outliers, or the tensor selected in the Checkpoint dock) and the scheme's parameters as sliders
// (bits, μ, clip percentile) and boxes (family, group size). Which rows show depends on the
// lesson. Emits changed() on every edit. GUI thread only.

#include "learn/lesson_catalogue.h"
#include "quant/scheme.h"
#include "util/result.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QSlider;
class QSpinBox;

namespace qs {

struct LessonSettings {
    Distribution distribution = Distribution::Gaussian;
    int seed = 1;
    int outliers = 0;
    double outlierScale = 30.0;
    bool useTensor = false;
    QString family = QStringLiteral("int");
    int bits = 4;
    int mu = 255;
    double clip = 100.0;
    int group = 64; // 0 tensor, -1 channel
};

// The scheme the settings describe, e.g. "int3:g32:clip=p99.9", "mulaw4:tensor:mu255", "mxfp4".
Result<Scheme> lessonScheme(const LessonSettings& s);

class LessonControls : public QWidget {
    Q_OBJECT
public:
    explicit LessonControls(QWidget* parent = nullptr);

    LessonSettings settings() const;
    // Shows `s` without emitting changed().
    void setSettings(const LessonSettings& s);
    void setVisibleControls(unsigned controls);
    void setFamilies(std::span<const char* const> families);
    // Whether a tensor is selected in the Checkpoint dock (enables "use the selected tensor").
    void setTensorAvailable(const QString& name);

Q_SIGNALS:
    void changed();

private:
    void updateValueLabels();
    void updateEnabled();
    QSlider* addSlider(const QString& name, const QString& label, int lo, int hi,
                       const QString& tip, QLabel** valueLabel);

    QFormLayout* m_form;
    QComboBox* m_distribution;
    QSpinBox* m_seed;
    QSpinBox* m_outliers;
    QDoubleSpinBox* m_outlierScale;
    QCheckBox* m_useTensor;
    QComboBox* m_family;
    QSlider* m_bits;
    QSlider* m_mu;
    QSlider* m_clip;
    QComboBox* m_group;
    QLabel* m_bitsValue = nullptr;
    QLabel* m_muValue = nullptr;
    QLabel* m_clipValue = nullptr;
    unsigned m_controls = ~0u;
};

} // namespace qs
