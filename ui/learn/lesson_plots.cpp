#include "learn/lesson_plots.h"

#include "charts/chart_style.h"
#include "metrics/histogram.h"
#include "number_format.h"
#include "teach/snr_curve.h"

#include <QCoreApplication>

#include <cmath>
#include <cstdlib>
#include <tuple>

namespace qs {
namespace {

constexpr int kBins = 120;

QString tr(const char* s) {
    return QCoreApplication::translate("qs::LessonPlots", s);
}

QList<QPointF> sweepPoints(const LessonData& d, const Scheme& s) {
    QList<QPointF> pts;
    auto sweep = sweepBits(d.view(), s, 2, 8);
    if (sweep)
        for (const BitSweepPoint& p : *sweep)
            if (std::isfinite(p.sqnrDb))
                pts.append({static_cast<double>(p.bits), p.sqnrDb});
    return pts;
}

Result<QPointF> costAndSqnr(const LessonData& d, const std::string& spec) {
    auto s = Scheme::parse(spec);
    if (!s)
        return s.error();
    auto q = quantize(*s, d.view());
    if (!q)
        return q.error();
    const auto m = computeErrorMetrics({d.values.data(), d.values.size()}, q->reconstruction);
    return QPointF(q->cost.bitsPerWeight(), m.sqnrDb());
}

void extraSqnrVsBits(LessonResult& r, const LessonData& d, const Scheme& s) {
    r.extraTitle = tr("SQNR against bits");
    r.extraX = tr("bits per code b");
    r.extraY = tr("SQNR (dB)");
    const QList<QPointF> pts = sweepPoints(d, s);
    // Short names: the legend shares about 200 pixels in a 1280-pixel window.
    r.extra.append(
        {QString::fromStdString(s.family), pts, schemeColor(QString::fromStdString(s.family))});
    if (!pts.isEmpty()) {
        QList<QPointF> rule;
        for (int b = 2; b <= 8; ++b)
            rule.append({double(b), pts.front().y() + 6.02 * (b - pts.front().x())});
        r.extra.append({tr("+6 dB/bit"), rule, referenceColor()});
    }
    for (const QPointF& p : pts)
        if (int(p.x()) == s.bits)
            r.highlight = {p};
}

void extraSnrVsAmplitude(LessonResult& r, const LessonSettings& set) {
    r.extraTitle = tr("SNR against input amplitude");
    r.extraX = tr("sine amplitude below full scale (dB)");
    r.extraY = tr("SNR (dB)");
    const auto pts = snrVersusAmplitude(sineShape(1024), set.bits, set.mu, -60, 0, 61);
    QList<QPointF> lin, mu;
    for (const SnrPoint& p : pts) {
        lin.append({p.amplitudeDb, p.linearDb});
        mu.append({p.amplitudeDb, p.muLawDb});
    }
    r.extra.append({tr("uniform, %1 bits").arg(set.bits), lin, schemeColor(QStringLiteral("int"))});
    r.extra.append(
        {tr("μ-law μ = %1, %2 bits").arg(set.mu).arg(set.bits), mu, schemeColor("mulaw")});
}

void extraNfVsInt(LessonResult& r, const LessonData& d, const Scheme& s) {
    r.extraTitle = tr("SQNR against bits: nf and int");
    r.extraX = tr("bits per code b");
    r.extraY = tr("SQNR (dB)");
    struct Variant {
        const char* family;
        bool symmetric;
        QString name;
        QColor colour;
    };
    const Variant variants[] = {
        {"nf", false, tr("nf (absmax)"), schemeColor(QStringLiteral("nf"))},
        {"int", true, tr("int (absmax)"), schemeColor(QStringLiteral("int"))},
        {"int", false, tr("int (min/max)"), QColor(0xEDAE49)}};
    for (const Variant& v : variants) {
        Scheme other = s;
        other.family = v.family;
        other.symmetric = v.symmetric;
        other.clip = Clip::MinMax;
        auto ok = Scheme::parse(other.toString());
        if (!ok)
            continue;
        const QList<QPointF> pts = sweepPoints(d, *ok);
        r.extra.append({v.name, pts, v.colour});
        if (s.family == v.family && s.symmetric == v.symmetric)
            for (const QPointF& p : pts)
                if (int(p.x()) == s.bits)
                    r.highlight = {p};
    }
}

void extraGranularity(LessonResult& r, const LessonData& d, const Scheme& s) {
    r.extraTitle = tr("SQNR against bits per weight");
    r.extraX = tr("bits per weight (codes + scales + zero-points)");
    r.extraY = tr("SQNR (dB)");
    CurveSeries c{tr("int%1, one scale per …").arg(s.bits), {}, schemeColor("int"), true, {}};
    for (const char* g : {"tensor", "channel", "g256", "g128", "g64", "g32", "g16"}) {
        const std::string spec = "int" + std::to_string(s.bits) + ":" + g;
        if (g[0] == 'g' && std::atoi(g + 1) >= d.cols)
            continue; // one group per row: the same as channel
        if (auto p = costAndSqnr(d, spec); p) {
            c.points.append(*p);
            c.pointNames.append(QString::fromLatin1(g));
            c.labels.append(
                QStringLiteral("%1: %2 bpw, %3")
                    .arg(QString::fromLatin1(g), formatNumber(p->x()), formatDb(p->y())));
        }
    }
    r.extra.append(c);
    if (auto p = costAndSqnr(d, s.toString()); p)
        r.highlight = {*p};
}

// SQNR over the ordinary weights only: the outliers' own energy would otherwise flatter the
// ratio as they grow.
Result<double> bulkSqnr(const LessonData& clean, const LessonData& dirty, const std::string& spec) {
    auto s = Scheme::parse(spec);
    if (!s)
        return s.error();
    auto q = quantize(*s, dirty.view());
    if (!q)
        return q.error();
    double ref = 0, err = 0;
    for (std::size_t i = 0; i < dirty.values.size(); ++i) {
        if (clean.values[i] != dirty.values[i])
            continue;
        const double x = dirty.values[i], e = x - q->reconstruction[i];
        ref += x * x;
        err += e * e;
    }
    return sqnrDbFromSums(ref, err);
}

void extraOutlierScale(LessonResult& r, const LessonSettings& set, const Scheme& s) {
    const int count = std::max(set.outliers, 1);
    r.extraTitle = tr("Ordinary weights' SQNR against outlier size (%1 outliers)").arg(count);
    r.extraX = tr("outlier size (σ)");
    r.extraY = tr("SQNR of the non-outliers (dB)");
    LessonSettings plain = set;
    plain.outliers = 0;
    const LessonData clean = syntheticLessonData(plain);
    const std::tuple<const char*, QString, QColor> grans[] = {
        {"tensor", tr("per tensor"), QColor(0xD1495B)},
        {"channel", tr("per row"), QColor(0xEDAE49)},
        {"g32", tr("per group of 32"), QColor(0x00798C)}};
    for (const auto& [g, name, colour] : grans) {
        CurveSeries c{name, {}, colour};
        for (double size : {5.0, 10.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0, 200.0}) {
            LessonSettings t = set;
            t.outliers = count;
            t.outlierScale = size;
            const LessonData d = syntheticLessonData(t);
            const std::string spec = "int" + std::to_string(s.bits) + ":" + g;
            if (auto db = bulkSqnr(clean, d, spec); db)
                c.points.append({size, *db});
        }
        r.extra.append(c);
    }
}

void extraFourBit(LessonResult& r, const LessonData& d, const Scheme& s) {
    r.extraTitle = tr("4-bit formats");
    r.extraX = tr("bits per weight");
    r.extraY = tr("SQNR (dB)");
    for (const char* spec :
         {"int4:g32", "int4:g128", "nf4:g64", "fp4:g32", "mxfp4", "nvfp4", "q4_0", "q4_k"}) {
        auto p = costAndSqnr(d, spec);
        if (!p)
            continue; // e.g. q4_k on rows that 256 does not divide
        const QString name = QString::fromLatin1(spec);
        CurveSeries c{name, {*p}, schemeColor(name.section(QLatin1Char(':'), 0, 0)), true};
        c.pointNames = {name};
        c.labels = {
            QStringLiteral("%1: %2 bpw, %3").arg(name, formatNumber(p->x()), formatDb(p->y()))};
        if (name.startsWith(QLatin1String("int4:g128")))
            c.colour = c.colour.darker(150);
        r.extra.append(c);
    }
    if (auto p = costAndSqnr(d, s.toString()); p)
        r.highlight = {*p};
}

} // namespace

LessonData syntheticLessonData(const LessonSettings& s) {
    SyntheticSpec spec;
    spec.distribution = s.distribution;
    spec.rows = kLessonRows;
    spec.cols = kLessonCols;
    spec.std = kLessonStd;
    spec.outlierCount = s.outliers;
    spec.outlierScale = s.outlierScale;
    spec.seed = static_cast<std::uint64_t>(s.seed);
    LessonData d;
    d.values = generateSynthetic(spec);
    d.rows = spec.rows;
    d.cols = spec.cols;
    d.label = tr("synthetic %1").arg(QString::fromLatin1(distributionName(s.distribution).data()));
    return d;
}

LessonData tensorLessonData(const QString& name, std::vector<float> values, std::int64_t rows,
                            std::int64_t cols) {
    LessonData d;
    d.label = name;
    d.cols = std::max<std::int64_t>(cols, 1);
    d.rows =
        std::clamp<std::int64_t>(kLessonMaxValues / d.cols, 1, std::max<std::int64_t>(rows, 1));
    values.resize(static_cast<std::size_t>(
        std::min<std::int64_t>(d.rows * d.cols, static_cast<std::int64_t>(values.size()))));
    d.rows = static_cast<std::int64_t>(values.size()) / d.cols;
    values.resize(static_cast<std::size_t>(d.rows * d.cols));
    d.values = std::move(values);
    return d;
}

LessonResult computeLesson(const LessonData& d, const LessonSettings& set, ExtraChart extra) {
    LessonResult r;
    auto scheme = lessonScheme(set);
    if (!scheme) {
        r.error = QString::fromStdString(scheme.message());
        return r;
    }
    r.scheme = *scheme;
    auto numbers = computeSchemeNumbers(r.scheme, d.view());
    if (!numbers) {
        r.error = QString::fromStdString(numbers.message());
        return r;
    }
    r.numbers = std::move(*numbers);
    TensorAnalysis& a = r.analysis;
    a.scheme = r.scheme;
    a.error = r.numbers.error;
    a.cost = r.numbers.cost;
    a.levels = r.numbers.levels;
    a.levelsNote =
        (r.numbers.groupCount > 1 ? tr("levels of the group holding the largest weight (group %1)")
                                        .arg(r.numbers.focusGroup)
                                  : tr("levels of the one scale"))
            .toStdString();
    const std::span<const float> values(d.values.data(), d.values.size());
    a.weightHistogram = computeHistogram(values, kBins);
    a.errorHistogram = computeDifferenceHistogram(values, r.numbers.reconstruction, kBins);
    r.plots = buildAnalysisPlots(a);
    switch (extra) {
    case ExtraChart::SqnrVsBits:
        extraSqnrVsBits(r, d, r.scheme);
        break;
    case ExtraChart::SnrVsAmplitude:
        extraSnrVsAmplitude(r, set);
        break;
    case ExtraChart::NfVsInt:
        extraNfVsInt(r, d, r.scheme);
        break;
    case ExtraChart::Granularity:
        extraGranularity(r, d, r.scheme);
        break;
    case ExtraChart::OutlierScale:
        extraOutlierScale(r, set, r.scheme);
        break;
    case ExtraChart::FourBit:
        extraFourBit(r, d, r.scheme);
        break;
    }
    return r;
}

} // namespace qs
