// Stage 2 of the planner: Lagrangian relaxation over convex hulls, then a greedy knapsack fill.

#include "plan/planner.h"

#include "plan/plan_edit.h"

#include "metrics/error_metrics.h"
#include "metrics/output_error.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <queue>
#include <set>

namespace qs {

bool hasOutputError(const PlanMeasurements& m) {
    return std::any_of(m.tensors.begin(), m.tensors.end(),
                       [](const TensorMeasurement& t) { return std::isfinite(t.outSqRef); });
}

double objectiveErr(const TensorMeasurement& t, size_t k, PlanObjective objective) {
    const PlanOption& o = t.options[k];
    return objective == PlanObjective::OutputError && std::isfinite(o.outSqErr) ? o.outSqErr
                                                                                : o.sqErr;
}

double objectiveRef(const TensorMeasurement& t, PlanObjective objective) {
    return objective == PlanObjective::OutputError && std::isfinite(t.outSqRef) ? t.outSqRef
                                                                                : t.sumSqRef;
}

namespace {

using Choice = std::vector<size_t>;

double weightedErr(const TensorMeasurement& t, PlanObjective obj, size_t k) {
    return t.importance * objectiveErr(t, k, obj);
}

// Indices of the options on the lower convex hull of (bits, weighted error), cheapest first,
// error strictly falling and error saved per extra bit strictly falling.
std::vector<size_t> lowerHull(const TensorMeasurement& t, PlanObjective obj) {
    std::vector<size_t> idx(t.options.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
        const auto& x = t.options[a];
        const auto& y = t.options[b];
        return x.bits != y.bits ? x.bits < y.bits : weightedErr(t, obj, a) < weightedErr(t, obj, b);
    });
    std::vector<size_t> h;
    for (size_t k : idx) {
        const double ek = weightedErr(t, obj, k);
        if (!h.empty() && ek >= weightedErr(t, obj, h.back()))
            continue; // dominated
        while (h.size() >= 2) {
            const size_t a = h[h.size() - 2], b = h.back();
            const double ea = weightedErr(t, obj, a), eb = weightedErr(t, obj, b);
            const double ba = static_cast<double>(t.options[a].bits);
            const double bb = static_cast<double>(t.options[b].bits);
            const double bk = static_cast<double>(t.options[k].bits);
            // b lies on or above the chord a-k: saving per bit b->k is no less than a->b.
            if ((eb - ek) * (bb - ba) >= (ea - eb) * (bk - bb))
                h.pop_back();
            else
                break;
        }
        h.push_back(k);
    }
    return h;
}

std::uint64_t totalBits(const PlanMeasurements& m, const Choice& c) {
    std::uint64_t b = 0;
    for (size_t i = 0; i < m.tensors.size(); ++i)
        b += m.tensors[i].options[c[i]].bits;
    return b;
}

double totalWeightedErr(const PlanMeasurements& m, const Choice& c) {
    double e = 0;
    for (size_t i = 0; i < m.tensors.size(); ++i)
        e += weightedErr(m.tensors[i], m.objective, c[i]);
    return e;
}

// f(k, delta, save) for each option k of tensor i (unless pinned): the bits it adds to the
// current choice (negative: frees) and the weighted error it saves (negative: adds).
template <class F> void forEachChange(const PlanMeasurements& m, const Choice& c, size_t i, F&& f) {
    const auto& t = m.tensors[i];
    if (t.pinned)
        return;
    const double e0 = weightedErr(t, m.objective, c[i]);
    const auto b0 = static_cast<std::int64_t>(t.options[c[i]].bits);
    for (size_t k = 0; k < t.options.size(); ++k)
        f(k, static_cast<std::int64_t>(t.options[k].bits) - b0,
          e0 - weightedErr(t, m.objective, k));
}

// Spends `slack` bits on the single change that saves most error, while any change fits.
void greedyFill(const PlanMeasurements& m, Choice& c, std::uint64_t slack) {
    struct Move {
        double save = 0; // 0: none
        std::int64_t delta = 0;
        size_t k = 0;
    };
    // Tensor i's best change within the slack: most error saved, then fewest bits, then the
    // first option (the order a scan of every tensor's options would choose in).
    const auto bestMove = [&](size_t i) {
        Move best;
        forEachChange(m, c, i, [&](size_t k, std::int64_t delta, double save) {
            if (save <= 0 || delta > static_cast<std::int64_t>(slack))
                return;
            if (save > best.save || (save == best.save && delta < best.delta))
                best = {save, delta, k};
        });
        return best;
    };
    // Each tensor's best move is kept: as the slack shrinks, a kept move that still fits is still
    // its tensor's best (fewer moves fit, none more), so only the tensor changed and those whose
    // move no longer fits are looked at again; a move that frees bits widens the slack and
    // renews them all. 723 tensors x 8 options: 57 -> 4 ms a solve.
    const size_t n = m.tensors.size();
    std::vector<Move> best(n);
    for (size_t i = 0; i < n; ++i)
        best[i] = bestMove(i);
    const size_t maxSteps = 16 * n + 16;
    for (size_t step = 0; step < maxSteps; ++step) {
        size_t bestI = n;
        for (size_t i = 0; i < n; ++i) {
            const Move& mv = best[i];
            if (mv.save <= 0)
                continue;
            if (bestI == n || mv.save > best[bestI].save ||
                (mv.save == best[bestI].save && mv.delta < best[bestI].delta))
                bestI = i;
        }
        if (bestI == n)
            return;
        const Move taken = best[bestI];
        c[bestI] = taken.k;
        slack = static_cast<std::uint64_t>(static_cast<std::int64_t>(slack) - taken.delta);
        for (size_t i = 0; i < n; ++i)
            if (i == bestI || taken.delta < 0 ||
                (best[i].save > 0 && best[i].delta > static_cast<std::int64_t>(slack)))
                best[i] = bestMove(i);
    }
}

// Pairs of changes no single change can make: one tensor's upgrade paid for by another's
// downgrade, where the pair lowers the error and the budget still holds (the knapsack's integer
// gaps leave such pairs after the Lagrangian path and the fill). Takes the best pair, fills the
// slack again, and repeats while a pair helps. Per round: the downgrades sorted by bits freed,
// with the two cheapest (in error, of distinct tensors) from each point on, so each upgrade
// finds its partner by a binary search.
void exchangePairs(const PlanMeasurements& m, Choice& c, std::uint64_t budget) {
    struct Down {
        std::uint64_t freed;
        double added;
        size_t i, k;
    };
    const size_t maxRounds = 4 * m.tensors.size() + 16;
    for (size_t round = 0; round < maxRounds; ++round) {
        const std::uint64_t slack = budget - totalBits(m, c);
        std::vector<Down> downs;
        for (size_t i = 0; i < m.tensors.size(); ++i)
            forEachChange(m, c, i, [&](size_t k, std::int64_t delta, double save) {
                if (delta < 0)
                    downs.push_back({static_cast<std::uint64_t>(-delta), -save, i, k});
            });
        if (downs.empty())
            return;
        std::sort(downs.begin(), downs.end(),
                  [](const Down& a, const Down& b) { return a.freed < b.freed; });
        // best[j], second[j]: the downgrades adding least error among downs[j, end), the second
        // of another tensor than the first.
        std::vector<size_t> best(downs.size()), second(downs.size(), SIZE_MAX);
        for (size_t j = downs.size(); j-- > 0;) {
            best[j] = j;
            if (j + 1 == downs.size())
                continue;
            size_t b = best[j + 1], s2 = second[j + 1];
            const auto better = [&](size_t x, size_t y) {
                return y == SIZE_MAX || downs[x].added < downs[y].added;
            };
            if (better(j, b)) {
                s2 = downs[b].i != downs[j].i ? b : s2;
                b = j;
            } else if (downs[j].i != downs[b].i && better(j, s2)) {
                s2 = j;
            }
            best[j] = b;
            second[j] = s2;
        }
        double bestGain = 0;
        size_t upI = 0, upK = 0, down = SIZE_MAX;
        for (size_t i = 0; i < m.tensors.size(); ++i) {
            // A relative margin, so rounding in the sums does not make a pair look useful.
            const double margin = 1e-12 * std::abs(weightedErr(m.tensors[i], m.objective, c[i]));
            forEachChange(m, c, i, [&](size_t k, std::int64_t delta, double save) {
                if (delta <= 0 || save <= bestGain)
                    return;
                const auto up = static_cast<std::uint64_t>(delta);
                const std::uint64_t need = up - std::min(slack, up);
                const auto at =
                    std::lower_bound(downs.begin(), downs.end(), need,
                                     [](const Down& d, std::uint64_t v) { return d.freed < v; });
                if (at == downs.end())
                    return;
                const size_t j = static_cast<size_t>(at - downs.begin());
                const size_t partner = downs[best[j]].i != i ? best[j] : second[j];
                if (partner == SIZE_MAX)
                    return;
                const double gain = save - downs[partner].added;
                if (gain > bestGain && gain > margin) {
                    bestGain = gain;
                    upI = i;
                    upK = k;
                    down = partner;
                }
            });
        }
        if (down == SIZE_MAX)
            return;
        c[upI] = upK;
        c[downs[down].i] = downs[down].k;
        greedyFill(m, c, budget - totalBits(m, c));
    }
}

// The Lagrangian path: from the cheapest hull points, take upgrades in order of error saved
// per bit while the next one fits, under `obj`. Returns false when even the cheapest mix does not
// fit.
bool lagrangian(const PlanMeasurements& m, PlanObjective obj, std::uint64_t budget, Choice& c) {
    const size_t n = m.tensors.size();
    std::vector<std::vector<size_t>> hulls(n);
    std::vector<size_t> pos(n, 0);
    c.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
        hulls[i] = lowerHull(m.tensors[i], obj);
        c[i] = hulls[i].front();
    }
    const std::uint64_t base = totalBits(m, c);
    if (base > budget)
        return false;
    std::uint64_t slack = budget - base;
    using Step = std::pair<double, size_t>; // (error saved per bit, tensor)
    std::priority_queue<Step> queue;
    auto pushNext = [&](size_t i) {
        const auto& h = hulls[i];
        if (m.tensors[i].pinned || pos[i] + 1 >= h.size())
            return;
        const auto& t = m.tensors[i];
        const double save = weightedErr(t, obj, h[pos[i]]) - weightedErr(t, obj, h[pos[i] + 1]);
        const double bits =
            static_cast<double>(t.options[h[pos[i] + 1]].bits - t.options[h[pos[i]]].bits);
        queue.push({save / bits, i});
    };
    for (size_t i = 0; i < n; ++i)
        pushNext(i);
    while (!queue.empty()) {
        const size_t i = queue.top().second;
        const auto& t = m.tensors[i];
        const std::uint64_t delta =
            t.options[hulls[i][pos[i] + 1]].bits - t.options[hulls[i][pos[i]]].bits;
        if (delta > slack)
            break; // lambda found: every further upgrade is worth less per bit
        queue.pop();
        slack -= delta;
        c[i] = hulls[i][++pos[i]];
        pushNext(i);
    }
    return true;
}

// The option realising candidate `spec` on tensor t: itself, or its llama.cpp fallback; a
// pinned tensor's only option.
std::optional<size_t> uniformOption(const TensorMeasurement& t, const std::string& spec) {
    if (t.pinned)
        return 0;
    return optionFor(t, spec);
}

std::optional<Choice> uniformChoice(const PlanMeasurements& m, const Scheme& s) {
    const std::string spec = s.toString();
    Choice c(m.tensors.size());
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        auto k = uniformOption(m.tensors[i], spec);
        if (!k)
            return std::nullopt;
        c[i] = *k;
    }
    return c;
}

ParetoPoint pointOf(const PlanMeasurements& m, const Choice& c, std::string label) {
    ParetoPoint p;
    p.label = std::move(label);
    double err = 0, ref = 0;
    std::set<std::string> specs;
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        err += objectiveErr(m.tensors[i], c[i], m.objective);
        ref += objectiveRef(m.tensors[i], m.objective);
        specs.insert(m.tensors[i].options[c[i]].scheme.toString());
    }
    const std::uint64_t bits = totalBits(m, c);
    p.bytes = (bits + 7) / 8;
    p.bitsPerWeight = m.elements ? static_cast<double>(bits) / static_cast<double>(m.elements) : 0;
    p.relRmse = ref > 0 ? std::sqrt(err / ref) : 0;
    p.sqnrDb = sqnrDbFromSums(ref, err);
    p.distinctSchemes = static_cast<int>(specs.size());
    return p;
}

} // namespace

Result<PlanSolution> solvePlan(const PlanMeasurements& m, const PlanBudget& budget) {
    if (m.tensors.empty())
        return makeError("nothing to plan: no measured tensors");
    std::uint64_t budgetBits = 0;
    if (budget.bitsPerWeight > 0) {
        budgetBits = static_cast<std::uint64_t>(
            std::floor(budget.bitsPerWeight * static_cast<double>(m.elements)));
    } else if (budget.bytes > 0) {
        if (budget.bytes <= m.keptBytes)
            return makeError("a budget of " + std::to_string(budget.bytes) +
                             " bytes does not even hold the 1-D tensors kept as stored (" +
                             std::to_string(m.keptBytes) + " bytes)");
        budgetBits = (budget.bytes - m.keptBytes) * 8;
    } else {
        return makeError("a plan needs a positive budget in bits per weight or bytes");
    }
    Choice best;
    if (!lagrangian(m, m.objective, budgetBits, best)) {
        const double minBpw =
            static_cast<double>(planBitsRange(m).first) / static_cast<double>(m.elements);
        return makeError("the budget is below the cheapest mix of the candidates and keep rules (" +
                         std::to_string(minBpw) + " bits per weight)");
    }
    greedyFill(m, best, budgetBits - totalBits(m, best));
    // Other starting points, each filled and kept if better: each uniform candidate that fits,
    // and with activations the other objective's path (the knapsack's integer gaps can leave
    // the objective's own path a little behind it: 0.5 % of the output error on the sample).
    std::vector<Choice> seeds;
    for (const Scheme& s : m.candidates)
        if (auto c = uniformChoice(m, s); c && totalBits(m, *c) <= budgetBits)
            seeds.push_back(std::move(*c));
    if (hasOutputError(m)) {
        const PlanObjective other = m.objective == PlanObjective::OutputError
                                        ? PlanObjective::WeightError
                                        : PlanObjective::OutputError;
        if (Choice c; lagrangian(m, other, budgetBits, c))
            seeds.push_back(std::move(c));
    }
    double bestErr = totalWeightedErr(m, best);
    for (Choice& c : seeds) {
        greedyFill(m, c, budgetBits - totalBits(m, c));
        if (const double e = totalWeightedErr(m, c); e < bestErr) {
            bestErr = e;
            best = std::move(c);
        }
    }
    exchangePairs(m, best, budgetBits);

    PlanSolution sol;
    sol.choice = best;
    sol.bits = totalBits(m, best);
    std::map<std::string, std::uint64_t> elementsBySpec;
    double outErr = 0, outRef = 0;
    for (size_t i = 0; i < m.tensors.size(); ++i) {
        const auto& t = m.tensors[i];
        const auto& o = t.options[best[i]];
        sol.sqErr += o.sqErr;
        outErr += objectiveErr(t, best[i], PlanObjective::OutputError);
        outRef += objectiveRef(t, PlanObjective::OutputError);
        sol.plan.tensors.emplace_back(t.name, o.scheme.toString());
        elementsBySpec[o.scheme.toString()] += t.elements;
    }
    sol.bitsPerWeight = static_cast<double>(sol.bits) / static_cast<double>(m.elements);
    sol.relRmse = m.sumSqRef > 0 ? std::sqrt(sol.sqErr / m.sumSqRef) : 0;
    if (hasOutputError(m))
        sol.outRelErr = OutputErrorSums{outErr, outRef}.relative();
    sol.modelBytes = (sol.bits + 7) / 8 + m.keptBytes;
    Plan& p = sol.plan;
    p.budgetBpw = budget.bitsPerWeight > 0 ? budget.bitsPerWeight : 0;
    p.budgetBytes = budget.bitsPerWeight > 0 ? 0 : static_cast<double>(budget.bytes);
    p.bitsPerWeight = sol.bitsPerWeight;
    p.relRmse = sol.relRmse;
    p.outRelErr = sol.outRelErr;
    p.objective = m.objective == PlanObjective::OutputError ? kOutputErrorObjective : "";
    p.defaultSpec =
        std::max_element(elementsBySpec.begin(), elementsBySpec.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; })
            ->first;
    for (const auto& s : m.candidates)
        p.candidates.push_back(s.toString());
    p.keep = m.keep;
    p.source = m.source;
    return sol;
}

std::vector<ParetoPoint> uniformPoints(const PlanMeasurements& m) {
    std::vector<ParetoPoint> out;
    for (const Scheme& s : m.candidates)
        if (auto c = uniformChoice(m, s)) {
            ParetoPoint p = pointOf(m, *c, s.toString());
            std::set<std::string> fallbacks;
            for (size_t i = 0; i < m.tensors.size(); ++i)
                if (const auto& o = m.tensors[i].options[(*c)[i]]; !o.fallbackFor.empty())
                    fallbacks.insert(o.scheme.toString());
            p.fallbacks.assign(fallbacks.begin(), fallbacks.end());
            out.push_back(std::move(p));
        }
    return out;
}

std::string uniformPointName(const ParetoPoint& p) {
    std::string name = p.label;
    for (size_t i = 0; i < p.fallbacks.size(); ++i)
        name += (i == 0 ? " (+" : ", ") + p.fallbacks[i];
    return p.fallbacks.empty() ? name : name + ")";
}

std::vector<ParetoPoint> paretoCurve(const PlanMeasurements& m, int count) {
    std::vector<ParetoPoint> points;
    if (m.tensors.empty() || m.elements == 0 || count < 1)
        return points;
    const auto [lo, hi] = planBitsRange(m);
    std::vector<double> budgets; // in bits: an even spread, plus each uniform candidate's size
    for (int k = 0; k < count; ++k) {
        const double f = count == 1 ? 1.0 : static_cast<double>(k) / (count - 1);
        budgets.push_back(static_cast<double>(lo) + f * static_cast<double>(hi - lo));
    }
    for (const Scheme& s : m.candidates)
        if (auto c = uniformChoice(m, s))
            budgets.push_back(static_cast<double>(totalBits(m, *c)));
    for (double bits : budgets) {
        PlanBudget b;
        b.bitsPerWeight = bits / static_cast<double>(m.elements) * (1 + 1e-12);
        auto sol = solvePlan(m, b);
        if (sol)
            points.push_back(pointOf(m, sol->choice, ""));
    }
    std::sort(points.begin(), points.end(),
              [](const auto& a, const auto& b) { return a.bitsPerWeight < b.bitsPerWeight; });
    std::vector<ParetoPoint> front;
    for (const auto& p : points)
        if (front.empty() || p.relRmse < front.back().relRmse)
            front.push_back(p);
    return front;
}

} // namespace qs
