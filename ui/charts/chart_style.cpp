#include "charts/chart_style.h"

#include "quant/registry.h"

#include <QAbstractAxis>
#include <QChart>
#include <QFont>
#include <QGraphicsLayout>
#include <QLegend>
#include <QValueAxis>

#include <algorithm>
#include <array>
#include <cmath>

namespace qs {
namespace {

// Distinct on white and against the grey-blue data fill, indexed by registry row: int (row 0)
// gets the strongest; int, mulaw and nf (rows 0, 1, 4: the Compare tab's defaults) are red, teal
// and purple so they never look alike.
constexpr std::array<QRgb, 10> kPalette{0xD1495B, 0x00798C, 0x2E86AB, 0xB5651D, 0x7B3FA0,
                                        0x3BA55C, 0xE07A5F, 0x6D597A, 0xEDAE49, 0x1B998B};

QFont scaledFont(double factor, bool bold) {
    QFont f;
    f.setPointSizeF(f.pointSizeF() * factor);
    f.setBold(bold);
    return f;
}

} // namespace

QColor schemeColor(const QString& family) {
    const auto all = families();
    const std::string name = family.toStdString();
    for (size_t i = 0; i < all.size(); ++i)
        if (all[i].name == name)
            return QColor::fromRgb(kPalette[i % kPalette.size()]);
    return QColor::fromRgb(kPalette[0]);
}

std::vector<QColor> distinctSchemeColors(const QStringList& families) {
    std::vector<QColor> out;
    for (qsizetype i = 0; i < families.size(); ++i) {
        QColor c = schemeColor(families[i]);
        bool clash = false, same = false;
        for (qsizetype j = 0; j < i; ++j) {
            if (families[j] == families[i]) {
                c = out[static_cast<size_t>(j)];
                same = true;
                break;
            }
            clash |= out[static_cast<size_t>(j)] == c;
        }
        // Another colour: none shown before, nor any later family's own.
        auto free = [&](const QColor& k) {
            if (std::find(out.begin(), out.end(), k) != out.end())
                return false;
            for (qsizetype j = i + 1; j < families.size(); ++j)
                if (schemeColor(families[j]) == k)
                    return false;
            return true;
        };
        if (clash && !same)
            for (QRgb rgb : kPalette)
                if (free(QColor::fromRgb(rgb))) {
                    c = QColor::fromRgb(rgb);
                    break;
                }
        out.push_back(c);
    }
    return out;
}

QColor dataFillColor() {
    return QColor(0x9A, 0xAE, 0xC2, 200);
}
QColor dataLineColor() {
    return QColor(0x4F, 0x63, 0x78);
}
QColor referenceColor() {
    return QColor(0x9E, 0x9E, 0x9E);
}

void styleChart(QChart* chart, const QString& title) {
    chart->setTheme(QChart::ChartThemeLight);
    chart->setTitle(title);
    chart->setTitleFont(scaledFont(1.05, true));
    chart->setTitleBrush(QColor(0x33, 0x33, 0x33));
    chart->setBackgroundRoundness(0);
    chart->setMargins(QMargins(6, 2, 8, 4));
    chart->layout()->setContentsMargins(0, 0, 0, 0);
    chart->legend()->setVisible(false);
    chart->setAnimationOptions(QChart::NoAnimation);
}

void styleAxis(QAbstractAxis* axis, const QString& title) {
    axis->setTitleText(title);
    axis->setTitleFont(scaledFont(0.9, false));
    axis->setTitleBrush(QColor(0x44, 0x44, 0x44));
    axis->setLabelsFont(scaledFont(0.85, false));
    axis->setLabelsColor(QColor(0x55, 0x55, 0x55));
    axis->setGridLineColor(QColor(0xE6, 0xE6, 0xE6));
    axis->setLinePenColor(QColor(0xB0, 0xB0, 0xB0));
}

void quietAxesForNewSeries(QChart* chart) {
    for (QAbstractAxis* a : chart->axes())
        if (auto* v = qobject_cast<QValueAxis*>(a)) {
            v->setTickType(QValueAxis::TicksFixed);
            v->setTickCount(2);
        }
}

void setNiceRange(QValueAxis* axis, double lo, double hi, int ticks) {
    if (!std::isfinite(lo) || !std::isfinite(hi))
        return;
    if (!(hi > lo)) {
        const double half = lo == 0 ? 0.5 : std::abs(lo) * 0.5;
        lo -= half;
        hi += half;
    }
    const double raw = (hi - lo) / std::max(ticks, 2);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = 10 * magnitude;
    for (double m : {1.0, 2.0, 2.5, 5.0}) {
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    }
    // The top is nudged up by twice the anchor offset below so its tick is still drawn.
    const double from = std::floor(lo / step) * step;
    const double to = std::ceil(hi / step) * step + step * 2e-6;
    // Each setter lays the axis out again with the ticks it has then: a wide new range under
    // the old, fine interval would lay out thousands of ticks for a moment (0.2 s when counts
    // grew from a preview's to the whole tensor's). The coarser interval goes first.
    const bool coarser =
        axis->tickType() != QValueAxis::TicksDynamic || step > axis->tickInterval();
    if (coarser)
        axis->setTickInterval(step);
    axis->setRange(from, to);
    axis->setTickType(QValueAxis::TicksDynamic);
    // Qt accumulates tick values from the first one, so the zero tick can come out as -1e-17 and
    // print as "-0.0"; anchoring a hair above zero keeps it positive and moves no visible pixel.
    axis->setTickAnchor(step * 1e-6);
    if (!coarser)
        axis->setTickInterval(step);
    if (step < 1e-4 || step >= 1e6) {
        axis->setLabelFormat(QStringLiteral("%.1e"));
    } else {
        // Digits after the point that the step needs (2.5 needs one more than 2 or 5).
        const double digits = -std::floor(std::log10(step) + 1e-9);
        const bool quarter = std::abs(step / magnitude - 2.5) < 1e-9;
        const int decimals = std::max(0, static_cast<int>(digits) + (quarter ? 1 : 0));
        axis->setLabelFormat(QStringLiteral("%.") + QString::number(decimals) +
                             QStringLiteral("f"));
    }
}

} // namespace qs
