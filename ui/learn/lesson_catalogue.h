#pragma once
// The lessons of Learn mode: each a short guided sequence of steps, and each step a text, a
// preset (data, scheme, view) and something to try. The texts are translatable resources: they are
// marked with QT_TRANSLATE_NOOP in the "qs::Lessons" context and shown through lessonText(), so
// lupdate/linguist pick them up. GUI thread (the table itself is immutable).

#include "teach/block_inspector.h"
#include "teach/synthetic.h"

#include <QString>
#include <QStringView>

#include <span>

namespace qs {

// What the lesson's centre shows.
enum class LessonPage { Charts, Inspector, Memory };

// The fourth chart of the Charts page.
enum class ExtraChart { SqnrVsBits, SnrVsAmplitude, NfVsInt, Granularity, OutlierScale, FourBit };

// Which controls a lesson offers (a bit set).
enum LessonControl : unsigned {
    kDataControls = 1u << 0, // distribution, seed
    kOutlierControls = 1u << 1,
    kBitsControl = 1u << 2,
    kMuControl = 1u << 3,
    kClipControl = 1u << 4,
    kGroupControl = 1u << 5,
    kFamilyControl = 1u << 6,
};

struct LessonPreset {
    LessonPage page = LessonPage::Charts;
    Distribution distribution = Distribution::Gaussian;
    int outliers = 0;
    double outlierScale = 30.0; // in standard deviations
    const char* family = "int";
    int bits = 4;
    int mu = 255;
    double clip = 100.0; // percentile; 100 = min/max
    int group = 64;      // 0: one scale per tensor, -1: per channel (row)
    BlockFormat block = BlockFormat::Int4;
    int memoryItems = 1; // how many of kMemoryItems are counted
    const char* memoryScheme = "f16";
    int context = 4096;
};

struct LessonStep {
    const char* title;
    const char* text;
    const char* tryThis;
    LessonPreset preset;
};

struct Lesson {
    const char* id;
    const char* title;
    ExtraChart extra = ExtraChart::SqnrVsBits;
    unsigned controls = 0;
    std::span<const char* const> families; // what the family box offers (first = default)
    std::span<const LessonStep> steps;
};

std::span<const Lesson> lessons();
const Lesson* findLesson(QStringView id);
// The translation of a catalogue string.
QString lessonText(const char* source);
// "linear, mulaw, ..." for error messages.
QString lessonIdList();

} // namespace qs
