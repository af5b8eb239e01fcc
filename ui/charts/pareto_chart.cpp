#include "charts/pareto_chart.h"

#include "charts/chart_style.h"
#include "charts/point_names.h"
#include "number_format.h"
#include "quant/scheme.h"

#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace qs {

namespace {

constexpr int kUniformMarker = 11;
constexpr int kCurveMarker = 5;
constexpr int kCurrentMarker = 16;

QPointF pointOf(const ParetoPoint& p) {
    return {p.bitsPerWeight, std::isfinite(p.sqnrDb) ? p.sqnrDb : 200.0};
}

QString familyOf(const std::string& spec) {
    auto s = Scheme::parse(spec);
    return s ? QString::fromStdString(s->family) : QString();
}

} // namespace

ParetoChart::ParetoChart(QWidget* parent)
    : ChartView(tr("Error vs size"), parent), m_curve(new QLineSeries),
      m_curvePoints(new QScatterSeries), m_budgetSeries(new QLineSeries),
      m_current(new QScatterSeries), m_x(new QValueAxis), m_y(new QValueAxis) {
    m_curve->setName(tr("plans"));
    m_curve->setPen(QPen(QColor(0x22, 0x22, 0x22), 2.0));
    m_curvePoints->setMarkerSize(kCurveMarker);
    m_curvePoints->setColor(QColor(0x22, 0x22, 0x22));
    m_curvePoints->setBorderColor(QColor(0x22, 0x22, 0x22));
    m_budgetSeries->setName(tr("budget"));
    m_budgetSeries->setPen(QPen(QColor(0xC0, 0x39, 0x2B), 1.5, Qt::DashLine));
    m_current->setName(tr("this plan"));
    m_current->setMarkerSize(kCurrentMarker);
    m_current->setColor(Qt::transparent);
    m_current->setBorderColor(QColor(0xC0, 0x39, 0x2B));
    m_current->setPen(QPen(QColor(0xC0, 0x39, 0x2B), 2.5));
    styleAxis(m_x, tr("bits per weight (scales included)"));
    styleAxis(m_y, tr("SQNR over the quantized tensors (dB)"));
    chart()->addAxis(m_x, Qt::AlignBottom);
    chart()->addAxis(m_y, Qt::AlignLeft);
    for (QXYSeries* s :
         {static_cast<QXYSeries*>(m_curve), static_cast<QXYSeries*>(m_curvePoints),
          static_cast<QXYSeries*>(m_budgetSeries), static_cast<QXYSeries*>(m_current)}) {
        chart()->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        connect(s, &QXYSeries::hovered, this, &ParetoChart::onHovered);
    }
    chart()->legend()->markers(m_curvePoints).front()->setVisible(false);
    chart()->legend()->setVisible(true);
    chart()->legend()->setAlignment(Qt::AlignBottom);
    m_names = new PointNames(
        chart(), [this] { return labelObstacles(); }, [this] { return curveLines(); });
}

void ParetoChart::setCurve(const std::vector<ParetoPoint>& plans,
                           const std::vector<ParetoPoint>& uniform) {
    chart()->zoomReset();
    m_plans = plans;
    m_uniform = uniform;
    QList<QPointF> pts;
    for (const auto& p : plans)
        pts.append(pointOf(p));
    m_curve->replace(pts);
    m_curvePoints->replace(pts);
    m_names->clear(); // first: they refer to the series
    for (QScatterSeries* s : m_uniformSeries) {
        chart()->removeSeries(s);
        delete s;
    }
    m_uniformSeries.clear();
    quietAxesForNewSeries(chart());
    QStringList families; // distinct colours where two candidates' families share one
    for (const auto& u : uniform)
        families << familyOf(u.label);
    const std::vector<QColor> colours = distinctSchemeColors(families);
    for (std::size_t k = 0; k < uniform.size(); ++k) {
        const ParetoPoint& u = uniform[k];
        auto* s = new QScatterSeries;
        const QString spec = QString::fromStdString(uniformPointName(u)); // fallbacks named
        s->setName(spec);
        s->setMarkerSize(kUniformMarker);
        s->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
        s->setColor(colours[k]);
        s->setBorderColor(Qt::white);
        s->append(pointOf(u));
        chart()->addSeries(s);
        // Named beside its point; in the legend too, the row would not fit a narrow chart.
        chart()->legend()->markers(s).front()->setVisible(false);
        m_names->add(spec, pointOf(u), s, kUniformMarker, palette().color(QPalette::Text));
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        connect(s, &QXYSeries::hovered, this, &ParetoChart::onHovered);
        m_uniformSeries.push_back(s);
    }
    fitToData();
    m_names->place();
}

void ParetoChart::setCurrent(double budgetBpw, const ParetoPoint* plan) {
    m_budget = budgetBpw;
    QList<QPointF> ring;
    if (plan)
        ring.append(pointOf(*plan));
    m_current->replace(ring);
    updateBudgetLine();
    m_names->place();
}

QList<QRectF> ParetoChart::labelObstacles() const {
    QList<QRectF> out;
    for (const auto& p : m_plans)
        out.append(markerRect(chart(), pointOf(p), m_curvePoints, kCurveMarker));
    if (!m_current->points().isEmpty())
        out.append(markerRect(chart(), m_current->at(0), m_current, kCurrentMarker));
    return out;
}

QList<QLineF> ParetoChart::curveLines() const {
    QList<QLineF> out;
    for (std::size_t i = 1; i < m_plans.size(); ++i)
        out.append(QLineF(chart()->mapToPosition(pointOf(m_plans[i - 1]), m_curve),
                          chart()->mapToPosition(pointOf(m_plans[i]), m_curve)));
    return out;
}

QList<QRectF> ParetoChart::labelRects() const {
    return m_names->rects();
}

void ParetoChart::updateBudgetLine() {
    if (m_budget <= 0) {
        m_budgetSeries->clear();
        return;
    }
    m_budgetSeries->replace(QList<QPointF>{{m_budget, m_y->min()}, {m_budget, m_y->max()}});
}

void ParetoChart::clear() {
    setCurve({}, {});
    m_current->clear();
    m_budgetSeries->clear();
}

void ParetoChart::fitToData() {
    double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
    for (const auto* list : {&m_plans, &m_uniform})
        for (const auto& p : *list) {
            const QPointF q = pointOf(p);
            x0 = std::min(x0, q.x());
            x1 = std::max(x1, q.x());
            y0 = std::min(y0, q.y());
            y1 = std::max(y1, q.y());
        }
    if (x0 > x1) {
        x0 = 2, x1 = 9, y0 = 0, y1 = 40;
    }
    const double padX = std::max(0.2, 0.05 * (x1 - x0));
    setNiceRange(m_x, std::max(0.0, x0 - padX), x1 + padX, xTickBudget(8));
    setNiceRange(m_y, y0 - 2, y1 + 3, 6);
    updateBudgetLine();
}

void ParetoChart::setObjective(PlanObjective objective) {
    m_objective = objective;
    m_y->setTitleText(objective == PlanObjective::OutputError
                          ? tr("output SNR (dB)")
                          : tr("SQNR over the quantized tensors (dB)"));
}

QString ParetoChart::snrName() const {
    return m_objective == PlanObjective::OutputError ? tr("output SNR") : tr("SQNR");
}

QString ParetoChart::errName() const {
    return m_objective == PlanObjective::OutputError ? tr("output err") : tr("rel RMSE");
}

QString ParetoChart::csvData() const {
    if (m_plans.empty() && m_uniform.empty())
        return {};
    QString csv = m_objective == PlanObjective::OutputError
                      ? QStringLiteral("kind,label,bits_per_weight,out_rel_err,out_snr_db,bytes,"
                                       "schemes\n")
                      : QStringLiteral("kind,label,bits_per_weight,rel_rmse,sqnr_db,bytes,"
                                       "schemes\n");
    auto row = [&](const char* kind, const ParetoPoint& p) {
        csv += QStringLiteral("%1,%2,%3,%4,%5,%6,%7\n")
                   .arg(QLatin1String(kind), QString::fromStdString(p.label))
                   .arg(p.bitsPerWeight, 0, 'g', 8)
                   .arg(p.relRmse, 0, 'g', 8)
                   .arg(p.sqnrDb, 0, 'g', 8)
                   .arg(p.bytes)
                   .arg(p.distinctSchemes);
    };
    for (const auto& p : m_plans)
        row("plan", p);
    for (const auto& p : m_uniform)
        row("uniform", p);
    return csv;
}

void ParetoChart::onHovered(const QPointF& point, bool state) {
    if (!state) {
        hideHoverText();
        return;
    }
    auto near = [&](const ParetoPoint& p) {
        const QPointF q = pointOf(p);
        return std::abs(q.x() - point.x()) < 1e-9 && std::abs(q.y() - point.y()) < 1e-9;
    };
    for (const auto& u : m_uniform)
        if (near(u))
            return showHoverText(
                (u.fallbacks.empty()
                     ? tr("%1 everywhere: %2 bpw · %3 %4 · %5 %6")
                     : tr("%1 wherever it applies, llama.cpp's fallback elsewhere: %2 bpw · "
                          "%3 %4 · %5 %6"))
                    .arg(QString::fromStdString(uniformPointName(u)))
                    .arg(u.bitsPerWeight, 0, 'f', 3)
                    .arg(snrName(), formatDb(u.sqnrDb), errName(), formatPercent(u.relRmse)));
    for (const auto& p : m_plans)
        if (near(p))
            return showHoverText(
                tr("plan: %1 bpw · %2 %3 · %4 %5 · %6 schemes")
                    .arg(p.bitsPerWeight, 0, 'f', 3)
                    .arg(snrName(), formatDb(p.sqnrDb), errName(), formatPercent(p.relRmse))
                    .arg(p.distinctSchemes));
    showHoverText(tr("budget %1 bpw").arg(m_budget, 0, 'f', 3));
}

} // namespace qs
